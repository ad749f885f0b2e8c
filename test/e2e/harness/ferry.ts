import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedEnvoy } from '../../../src/envoy/managed-envoy.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import { FerryMetrics } from '../../../src/metrics.js';
import { Ferry } from '../../../src/serve/ferry.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../../../src/translate/envoy/index.js';
import { startEnvoy, stopEnvoy } from './envoy.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface FerryUnderTest {
  ferry: Ferry;
  envoy: ManagedEnvoy;
  /** The manifests directory Ferry watches. */
  dir: string;
  ports: TranslateConfig['ports'];
  /** Writes (or replaces) one manifest file and waits until Ferry has translated it. */
  writeManifest(file: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

export interface StartFerryOptions {
  /** Manifest files to start with, by file name. */
  manifests?: Record<string, string>;
  translateConfig?: Partial<TranslateConfig>;
  /** The gateway Envoy's role (default both). */
  role?: 'external' | 'local' | 'both';
  mode?: 'delta' | 'sotw';
  /**
   * Start the gateway Envoy first, so that it is connected while Ferry's first pass hands over its batches
   * (of `firstPassBatch` KIngresses), as the managed Envoy of `ferry serve` is.
   */
  envoyFirst?: { firstPassBatch: number };
  /** Seconds the gateway drains connections of a replaced listener (the managed Envoy's default: 1). */
  drainTimeSeconds?: number;
}

/**
 * A real Ferry (files mode, in this process, all ports free) with a real gateway Envoy connected to it
 * over xDS; the Envoy serves the gateway listeners on `ports`.
 */
export async function startFerry(options: StartFerryOptions = {}): Promise<FerryUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  for (const [file, yaml] of Object.entries(options.manifests ?? {})) writeFileSync(join(dir, file), yaml);
  const ports = {
    external: { http: await freePort(), https: await freePort() },
    local: { http: await freePort(), https: await freePort() },
  };
  const logger = process.env.FERRY_TEST_LOGS ? createLogger({ level: 'debug', format: 'json' }) : silentLogger;
  const mode = options.mode ?? xdsModeFromEnvironment();
  const xdsPort = options.envoyFirst ? await freePort() : 0;
  const early = options.envoyFirst ? await startEnvoy({ xdsPort, role: options.role ?? 'both', mode, drainTimeSeconds: options.drainTimeSeconds }) : undefined;
  const ferry = new Ferry({
    source: { kind: 'files', manifests: dir, watch: true },
    xdsAddress: `127.0.0.1:${xdsPort}`,
    firstPassBatch: options.envoyFirst?.firstPassBatch,
    adminAddress: { host: '127.0.0.1', port: 0 },
    translateConfig: { ...DEFAULT_TRANSLATE_CONFIG, ...routeTablesFromEnvironment(), ...clustersFromEnvironment(), bindAddress: '127.0.0.1', ports, localGateway: { host: '127.0.0.1', port: ports.local.http }, ...options.translateConfig },
    envoy: 'none',
    logger,
    metrics: new FerryMetrics({ processMetrics: false }),
  });
  if (early) {
    // The pass is milliseconds here: it starts once the gateway is connected, so that it really takes batches.
    const firstPass = ferry.reconciler.startInBatches.bind(ferry.reconciler);
    ferry.reconciler.startInBatches = async (size) => {
      await waitFor(() => ferry.xds.streams().some((stream) => stream.types.length > 0), 15_000, 'the gateway Envoy subscribed before the first pass');
      return firstPass(size);
    };
  }
  await ferry.start();
  const envoy = early ?? await startEnvoy({ xdsPort: ferry.xdsPort, role: options.role ?? 'both', mode, waitReady: true, drainTimeSeconds: options.drainTimeSeconds });
  if (early) await early.ready();
  return {
    ferry,
    envoy,
    dir,
    ports,
    async writeManifest(file, yaml) {
      const before = ferry.reconciler.current().pass;
      writeFileSync(join(dir, file), yaml);
      await ferry.files!.rescan();
      // The reconciler coalesces changes; wait for the pass that includes this file.
      await new Promise<void>((resolve) => {
        if (ferry.reconciler.current().pass > before) return resolve();
        const done = (): void => { off(); clearTimeout(timer); resolve(); };
        const off = ferry.reconciler.onPass(done);
        const timer = setTimeout(done, 2_000);
      });
    },
    async close() {
      await stopEnvoy(envoy);
      await ferry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * FERRY_TEST_ROUTE_TABLES=single|scoped|sharded runs the end-to-end tests against another route table layout. Sharded
 * uses 3 shards per kind (FERRY_TEST_ROUTE_TABLE_SHARDS to change it), so that a test's few KIngresses share tables.
 */
export function routeTablesFromEnvironment(): Partial<TranslateConfig> {
  const value = process.env.FERRY_TEST_ROUTE_TABLES;
  if (value === undefined || value === '') return {};
  if (value !== 'single' && value !== 'scoped' && value !== 'sharded') throw new Error(`FERRY_TEST_ROUTE_TABLES=${value}: expected single, scoped or sharded`);
  const shards = Number(process.env.FERRY_TEST_ROUTE_TABLE_SHARDS ?? 3);
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`FERRY_TEST_ROUTE_TABLE_SHARDS=${process.env.FERRY_TEST_ROUTE_TABLE_SHARDS}: expected a whole number of at least 1`);
  return value === 'sharded' ? { routeTables: value, routeTableShards: shards } : { routeTables: value };
}

/** FERRY_TEST_CLUSTERS=all|on-demand runs the end-to-end tests with Service clusters sent on demand (default all). */
export function clustersFromEnvironment(): Partial<TranslateConfig> {
  const value = process.env.FERRY_TEST_CLUSTERS;
  if (value === undefined || value === '') return {};
  if (value !== 'all' && value !== 'on-demand') throw new Error(`FERRY_TEST_CLUSTERS=${value}: expected all or on-demand`);
  return { clusters: value };
}

/** FERRY_TEST_XDS_MODE=delta|sotw runs the end-to-end tests' gateways over the other xDS protocol (default delta). */
function xdsModeFromEnvironment(): 'delta' | 'sotw' {
  const value = process.env.FERRY_TEST_XDS_MODE ?? 'delta';
  if (value !== 'delta' && value !== 'sotw') throw new Error(`FERRY_TEST_XDS_MODE=${value}: expected delta or sotw`);
  return value;
}
