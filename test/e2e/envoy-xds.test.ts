import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedEnvoy } from '../../src/envoy/managed-envoy.js';
import type { XdsMode } from '../../src/envoy/bootstrap.js';
import { silentLogger } from '../../src/log.js';
import { FerryMetrics } from '../../src/metrics.js';
import { XdsCache } from '../../src/xds/cache.js';
import { NackStore } from '../../src/xds/nacks.js';
import type { XdsResource } from '../../src/xds/resource.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { XdsServer } from '../../src/xds/server.js';
import {
  backendOf, freePort, invalidCluster, loadLoop, printEnvoyLogsOnFailure, request, startEnvoy, startHttpBackend, stopAllEnvoys,
  testEdsCluster, testListener, testLoadAssignment, testRouteConfiguration, waitFor, type HttpBackend,
} from './harness/index.js';

/** What the gateway should hold: one listener whose route table sends each host to a cluster of backends. */
interface GatewayState {
  listenerPort: number;
  hosts: Array<{ host: string; cluster: string }>;
  clusters: Record<string, HttpBackend[]>;
}

function resourcesOf(state: GatewayState): Partial<Record<TypeUrl, XdsResource[]>> {
  const clusterNames = Object.keys(state.clusters);
  return {
    [TypeUrl.Cluster]: clusterNames.map((name) => testEdsCluster(name)),
    [TypeUrl.Endpoint]: clusterNames.map((name) => testLoadAssignment(name, state.clusters[name]!.map((backend) => backend.port))),
    [TypeUrl.Listener]: [testListener('http', state.listenerPort, 'http-routes')],
    [TypeUrl.Route]: [testRouteConfiguration('http-routes', state.hosts)],
  };
}

/** An in-process Ferry xDS server on 127.0.0.1:port (0: any free port) with its own cache, NACKs and metrics. */
async function startFerry(port: number, state: GatewayState, building?: Partial<Record<TypeUrl, XdsResource[]>>): Promise<{ server: XdsServer; cache: XdsCache; nacks: NackStore; metrics: FerryMetrics; port: number }> {
  const metrics = new FerryMetrics({ processMetrics: false });
  // `building`: what a Ferry still in its first pass has handed over so far (its cache is incomplete).
  const cache = new XdsCache({ metrics, complete: building === undefined });
  const nacks = new NackStore();
  cache.setAll('external', building ?? resourcesOf(state));
  const server = new XdsServer({ cache, nackStore: nacks, metrics, logger: silentLogger });
  const bound = await server.listen(`127.0.0.1:${port}`);
  return { server, cache, nacks, metrics, port: bound };
}

async function metricTotal(metrics: FerryMetrics, name: 'ferry_xds_pushes_total' | 'ferry_xds_nacks_total'): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

async function backendAnswering(port: number, host: string): Promise<string | undefined> {
  return backendOf(await request(port, host, '/'));
}

/** Resource changes Envoy applied: they must not move when a control plane restarts with the same content. */
const APPLIED_CHANGE_STATS = [
  'cluster_manager.cluster_added', 'cluster_manager.cluster_modified', 'cluster_manager.cluster_removed',
  'listener_manager.listener_added', 'listener_manager.listener_modified', 'listener_manager.listener_removed',
  'http.http.rds.http-routes.config_reload',
];

async function appliedChanges(envoy: ManagedEnvoy): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const name of APPLIED_CHANGE_STATS) values[name] = await envoy.admin.stat(name);
  return values;
}

describe.each<XdsMode>(['delta', 'sotw'])('a real Envoy fed by the Ferry XdsServer (%s ADS)', (mode) => {
  printEnvoyLogsOnFailure();
  const backends: Record<string, HttpBackend> = {};
  let state: GatewayState;
  let ferry: Awaited<ReturnType<typeof startFerry>>;
  let envoy: ManagedEnvoy;

  beforeAll(async () => {
    for (const name of ['a', 'b', 'c']) backends[name] = await startHttpBackend({ name });
    state = {
      listenerPort: await freePort(),
      hosts: [{ host: 'a.example.com', cluster: 'cluster-a' }, { host: 'b.example.com', cluster: 'cluster-b' }, { host: 'move.example.com', cluster: 'cluster-a' }],
      clusters: { 'cluster-a': [backends.a!], 'cluster-b': [backends.b!] },
    };
    ferry = await startFerry(0, state);
    envoy = await startEnvoy({ xdsPort: ferry.port, role: 'external', mode });
    await envoy.ready();
  });

  afterAll(async () => {
    await stopAllEnvoys();
    await ferry?.server.close();
    await Promise.all(Object.values(backends).map((backend) => backend.close()));
  });

  function update(change: (current: GatewayState) => GatewayState): void {
    state = change(state);
    ferry.cache.setAll('external', resourcesOf(state));
  }

  it('serves the listener, routes, clusters and endpoints pushed through the cache: each Host reaches its backend', async () => {
    expect(await backendAnswering(state.listenerPort, 'a.example.com')).toBe('a');
    expect(await backendAnswering(state.listenerPort, 'b.example.com')).toBe('b');
    expect((await request(state.listenerPort, 'unknown.example.com', '/')).status).toBe(404);
    const answer = JSON.parse((await request(state.listenerPort, 'b.example.com', '/some/path?q=1')).body);
    expect(answer).toMatchObject({ backend: 'b', path: '/some/path?q=1', headers: { host: 'b.example.com' } });
    expect(ferry.server.streams()).toEqual([expect.objectContaining({ nodeId: envoy.name, nodeCluster: 'external', roles: ['external'], protocol: mode })]);
  });

  it('moves a route to a new cluster and back (removing it) under continuous requests without losing one', async () => {
    const load = loadLoop({ port: state.listenerPort, host: 'move.example.com', durationMs: 45_000, maxRequests: 20_000, concurrency: 2 });
    try {
      await waitFor(() => load.countBy('a') >= 20, 15_000, 'requests flowing to backend a');
      // Make before break: the new cluster and its endpoints arrive in the same update as the route change.
      update((s) => ({
        ...s,
        hosts: s.hosts.map((h) => (h.host === 'move.example.com' ? { ...h, cluster: 'cluster-c' } : h)),
        clusters: { ...s.clusters, 'cluster-c': [backends.c!] },
      }));
      await waitFor(() => load.countBy('c') >= 200, 20_000, 'requests flowing to backend c after the route moved');
      // And back, removing cluster-c in the same update: it must stay until the route no longer uses it.
      const beforeBack = load.countBy('a');
      update((s) => {
        const { 'cluster-c': _removed, ...clusters } = s.clusters;
        return { ...s, hosts: s.hosts.map((h) => (h.host === 'move.example.com' ? { ...h, cluster: 'cluster-a' } : h)), clusters };
      });
      await waitFor(() => load.countBy('a') >= beforeBack + 200, 20_000, 'requests flowing to backend a again');
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
      expect(result.succeeded).toBe(result.sent);
    }
    await waitFor(async () => !JSON.stringify(await envoy.admin.clusters()).includes('"cluster-c"'), 20_000, 'cluster-c removed from Envoy once unused');
  });

  it('a restarted Envoy converges to the full current state, including changes made while it was down', async () => {
    const restarted = new Promise((resolve) => envoy.once('start', resolve));
    process.kill(envoy.pid!, 'SIGKILL');
    update((s) => ({ ...s, hosts: [...s.hosts, { host: 'new.example.com', cluster: 'cluster-b' }] }));
    await restarted;
    await envoy.ready();
    expect(await backendAnswering(state.listenerPort, 'a.example.com')).toBe('a');
    expect(await backendAnswering(state.listenerPort, 'b.example.com')).toBe('b');
    expect(await backendAnswering(state.listenerPort, 'move.example.com')).toBe('a');
    expect(await backendAnswering(state.listenerPort, 'new.example.com')).toBe('b');
  });
});

/** Hosts a and b, each on its own backend, served by a Ferry xDS server to a real Envoy. */
async function twoHostGateway(mode: XdsMode): Promise<{ backends: HttpBackend[]; state: GatewayState; ferry: Awaited<ReturnType<typeof startFerry>>; envoy: ManagedEnvoy }> {
  const backends = [await startHttpBackend({ name: 'a' }), await startHttpBackend({ name: 'b' })];
  const state: GatewayState = {
    listenerPort: await freePort(),
    hosts: [{ host: 'a.example.com', cluster: 'cluster-a' }, { host: 'b.example.com', cluster: 'cluster-b' }],
    clusters: { 'cluster-a': [backends[0]!], 'cluster-b': [backends[1]!] },
  };
  const ferry = await startFerry(0, state);
  const envoy = await startEnvoy({ xdsPort: ferry.port, role: 'external', mode });
  await envoy.ready();
  return { backends, state, ferry, envoy };
}

describe.each<XdsMode>(['delta', 'sotw'])('Ferry restarted under a serving Envoy (%s ADS)', (mode) => {
  printEnvoyLogsOnFailure();
  let backends: HttpBackend[] = [];
  let state: GatewayState;
  let ferry: Awaited<ReturnType<typeof startFerry>>;
  let envoy: ManagedEnvoy;

  beforeAll(async () => {
    ({ backends, state, ferry, envoy } = await twoHostGateway(mode));
  });

  afterAll(async () => {
    await stopAllEnvoys();
    await ferry?.server.close();
    await Promise.all(backends.map((backend) => backend.close()));
  });

  it('keeps serving while Ferry is down, and the new Ferry with the same content sends nothing', async () => {
    await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 1, 10_000, 'Envoy connected to Ferry');
    const before = await appliedChanges(envoy);
    const load = loadLoop({ port: state.listenerPort, host: 'a.example.com', durationMs: 45_000, maxRequests: 20_000, concurrency: 2 });
    try {
      await waitFor(() => load.countBy('a') >= 20, 15_000, 'requests flowing');
      await ferry.server.close();
      await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 0, 15_000, 'Envoy noticing Ferry is gone');
      const whileDown = load.countBy('a');
      await waitFor(() => load.countBy('a') >= whileDown + 50, 15_000, 'requests served while Ferry is down');

      ferry = await startFerry(ferry.port, state);
      await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 1, 30_000, 'Envoy reconnected to the new Ferry');
      // Reconnected and resubscribed to every type, the endpoints and routes by name.
      await waitFor(() => {
        const types = ferry.server.streams()[0]?.types ?? [];
        const subscribed = (typeUrl: TypeUrl) => types.find((t) => t.typeUrl === typeUrl)?.subscribed.size ?? 0;
        return types.length === 4 && subscribed(TypeUrl.Endpoint) === 2 && subscribed(TypeUrl.Route) === 1;
      }, 15_000, 'the new Ferry seeing every subscription');
      const afterReconnect = load.countBy('a');
      await waitFor(() => load.countBy('a') >= afterReconnect + 50, 15_000, 'requests served after the reconnection');
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
    }
    expect(await metricTotal(ferry.metrics, 'ferry_xds_pushes_total')).toBe(0);
    expect(await appliedChanges(envoy)).toEqual(before);

    // The new Ferry is live: a change goes through.
    state = { ...state, hosts: [...state.hosts, { host: 'later.example.com', cluster: 'cluster-b' }] };
    ferry.cache.setAll('external', resourcesOf(state));
    await waitFor(async () => (await backendAnswering(state.listenerPort, 'later.example.com')) === 'b', 15_000, 'a change after the restart');
  });

  it('a cluster Envoy rejects leaves the previous one serving and is reported with Envoy\'s message', async () => {
    const good = resourcesOf(state);
    const clusters = good[TypeUrl.Cluster]!.map((cluster) => (cluster.name === 'cluster-a' ? invalidCluster('cluster-a') : cluster));
    ferry.cache.setAll('external', { ...good, [TypeUrl.Cluster]: clusters });

    const nack = await waitFor(() => ferry.nacks.get(envoy.name, TypeUrl.Cluster), 15_000, 'the NACK of cluster-a');
    expect(nack.message).toMatch(/Expected positive duration/);
    expect(nack.resourceNames).toContain('cluster-a');
    expect(await envoy.admin.stat('cluster_manager.cds.update_rejected')).toBeGreaterThanOrEqual(1);
    expect(await metricTotal(ferry.metrics, 'ferry_xds_nacks_total')).toBeGreaterThanOrEqual(1);
    expect(await backendAnswering(state.listenerPort, 'a.example.com')).toBe('a');
    expect(await backendAnswering(state.listenerPort, 'b.example.com')).toBe('b');

    ferry.cache.setAll('external', good);
    await waitFor(() => ferry.nacks.get(envoy.name, TypeUrl.Cluster) === undefined, 15_000, 'the NACK cleared by a good version');
    expect(await backendAnswering(state.listenerPort, 'a.example.com')).toBe('a');
  });
  it('takes nothing away that it has not handed over yet, and converges once complete', async () => {
    await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 1, 10_000, 'Envoy connected to Ferry');
    const load = loadLoop({ port: state.listenerPort, host: 'b.example.com', durationMs: 45_000, maxRequests: 20_000, concurrency: 2 });
    try {
      await waitFor(() => load.countBy('b') >= 20, 15_000, 'requests flowing');
      await ferry.server.close();
      await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 0, 15_000, 'Envoy noticing Ferry is gone');
      // The new Ferry has handed over cluster-a so far: not cluster-b, nor the listener and routes (aggregates come last).
      ferry = await startFerry(ferry.port, state, {
        [TypeUrl.Cluster]: [testEdsCluster('cluster-a')],
        [TypeUrl.Endpoint]: [testLoadAssignment('cluster-a', [backends[0]!.port])],
      });
      await waitFor(async () => (await envoy.admin.stat('control_plane.connected_state')) === 1, 30_000, 'Envoy reconnected to the new Ferry');
      await waitFor(() => (ferry.server.streams()[0]?.types.length ?? 0) >= 2, 15_000, 'the new Ferry seeing the subscriptions');
      const reconnected = load.countBy('b');
      await waitFor(() => load.countBy('b') >= reconnected + 100, 15_000, 'cluster-b served while the new Ferry is incomplete');

      state = { ...state, hosts: [...state.hosts, { host: 'completed.example.com', cluster: 'cluster-a' }] };
      ferry.cache.setAll('external', resourcesOf(state));
      ferry.cache.markComplete();
      await waitFor(async () => (await backendAnswering(state.listenerPort, 'completed.example.com')) === 'a', 15_000, 'the complete configuration');
      const completed = load.countBy('b');
      await waitFor(() => load.countBy('b') >= completed + 20, 15_000, 'cluster-b still served once complete');
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
    }
  });
});
