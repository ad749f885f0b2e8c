import { Session } from 'node:inspector/promises';
import { silentLogger } from '../src/log.js';
import type { KIngress } from '../src/model/ingress.js';
import { Reconciler } from '../src/serve/reconciler.js';
import { FilesSource } from '../src/sources/files.js';
import { Store } from '../src/store/store.js';
import type { TranslateConfig } from '../src/translate/envoy/index.js';
import { XdsCache } from '../src/xds/cache.js';
import { SHORT_NAME, TypeUrl } from '../src/xds/resource-types.js';
import { GATEWAY_ROLES } from '../src/xds/roles.js';
import type { BenchManifests } from './generate.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { seededRandom } from './random.js';
import { staticBootstrapFromCache, type StaticBootstrap } from './static-bootstrap.js';
import { distribution, type Distribution } from './stats.js';

export interface InProcessResult {
  loadMs: number;
  coldReconcileMs: number;
  /** Sizes of what the gateway of both roles is served, bytes by type. */
  servedBytes: Record<string, number>;
  resourceCounts: Record<string, number>;
  largestRouteConfigurationBytes: number;
  /** Reconcile time after one KIngress changed in the Store (no file I/O, no network). */
  reconcilePerChangeMs: Distribution;
  loadProfile: ProfileSummary;
  coldProfile: ProfileSummary;
  changeProfile: ProfileSummary;
  heapUsedMb: number;
  staticBootstrap: StaticBootstrap;
}

/**
 * Ferry's pipeline in this process, on the same manifests: files → store → reconcile, timed and profiled
 * (V8 sampling profiler, as `node --cpu-prof`), then single-KIngress changes applied to the Store directly.
 * Also builds the static bootstrap for the floor measurement from the resulting cache.
 */
export async function measureInProcess(directory: string, manifests: BenchManifests, translateConfig: TranslateConfig, changes: number, floorDirectory: string): Promise<InProcessResult> {
  const store = new Store();
  const cache = new XdsCache();
  const source = new FilesSource({ directory, store, watch: false });
  const reconciler = new Reconciler({ store, cache, translateConfig, logger: silentLogger });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  try {
    await session.post('Profiler.start');
    let started = performance.now();
    await source.start();
    const loadMs = performance.now() - started;
    const loadProfile = summarizeProfile((await session.post('Profiler.stop')).profile);

    await session.post('Profiler.start');
    started = performance.now();
    // start() subscribes to the store (an incremental reconciler learns changes from it) and runs the first pass.
    reconciler.start();
    const coldReconcileMs = performance.now() - started;
    const coldProfile = summarizeProfile((await session.post('Profiler.stop')).profile);

    const random = seededRandom(7);
    const times: number[] = [];
    await session.post('Profiler.start');
    for (let i = 0; i < changes; i++) {
      const app = manifests.apps[random.int(manifests.apps.length)]!;
      const ingress = structuredClone(app.ingress) as KIngress;
      ingress.metadata.generation = (ingress.metadata.generation ?? 1) + 1 + i;
      const path = ingress.spec.rules![0]!.http!.paths.at(-1)!;
      path.appendHeaders = { 'X-Bench-Change': `in-process-${i}` };
      store.apply([{ kind: 'KIngress', object: ingress }]);
      started = performance.now();
      reconciler.reconcile();
      times.push(performance.now() - started);
    }
    const changeProfile = summarizeProfile((await session.post('Profiler.stop')).profile);

    const servedBytes: Record<string, number> = {};
    const resourceCounts: Record<string, number> = {};
    let largestRouteConfigurationBytes = 0;
    for (const typeUrl of Object.values(TypeUrl)) {
      const resources = cache.list(GATEWAY_ROLES, typeUrl);
      const short = SHORT_NAME[typeUrl];
      servedBytes[short] = resources.reduce((sum, r) => sum + r.bytes.length, 0);
      resourceCounts[short] = resources.length;
      if (typeUrl === TypeUrl.Route) largestRouteConfigurationBytes = Math.max(0, ...resources.map((r) => r.bytes.length));
    }
    return {
      loadMs,
      coldReconcileMs,
      servedBytes,
      resourceCounts,
      largestRouteConfigurationBytes,
      reconcilePerChangeMs: distribution(times),
      loadProfile,
      coldProfile,
      changeProfile,
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
      staticBootstrap: floorBootstrap(store, translateConfig, floorDirectory),
    };
  } finally {
    await session.post('Profiler.disable');
    session.disconnect();
    reconciler.stop();
    await source.stop();
  }
}

/**
 * The floor is Envoy alone loading the same listeners, clusters, endpoints, secrets and virtual hosts in its most
 * direct static form: one route table per listener read from a file (scoped route tables need a control plane).
 */
function floorBootstrap(store: Store, translateConfig: TranslateConfig, floorDirectory: string): StaticBootstrap {
  const cache = new XdsCache();
  new Reconciler({ store, cache, translateConfig: { ...translateConfig, routeTables: 'single' }, logger: silentLogger }).reconcile();
  return staticBootstrapFromCache(cache, floorDirectory);
}
