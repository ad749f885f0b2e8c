import { afterEach, beforeEach } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { FerryMetrics } from '../../src/metrics.js';
import { XdsCache } from '../../src/xds/cache.js';
import { NackStore } from '../../src/xds/nacks.js';
import { XdsServer } from '../../src/xds/server.js';

export interface Harness {
  readonly cache: XdsCache;
  readonly server: XdsServer;
  readonly nackStore: NackStore;
  readonly metrics: FerryMetrics;
  readonly port: number;
  close(): Promise<void>;
}

/** An in-process xDS server on a free loopback port. */
export interface ServerOptions {
  holdMs?: number;
  complete?: boolean;
  onDemandCluster?: (name: string) => boolean;
}

export async function startServer(options: ServerOptions = {}): Promise<Harness> {
  const metrics = new FerryMetrics({ processMetrics: false });
  const cache = new XdsCache({ metrics, complete: options.complete });
  const nackStore = new NackStore();
  const server = new XdsServer({ cache, logger: silentLogger, metrics, nackStore, holdMs: options.holdMs, onDemandCluster: options.onDemandCluster });
  const port = await server.listen('127.0.0.1:0');
  return { cache, server, nackStore, metrics, port, close: () => server.close() };
}

/** A metric's value for some labels, read from the registry as Prometheus would. */
export async function metricValue(metrics: FerryMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return sample?.value ?? 0;
}

/**
 * A fresh server for each test (a long hold, so that "listeners wait for clusters" never passes by the bounded wait
 * running out), handed to `use`, and the clients the test opened, all closed after it. `restart` replaces the
 * server with one of other options.
 */
export function serverPerTest<C extends { close(): void }>(open: (port: number) => C, use: (h: Harness) => void): { connect(): C; restart(options: ServerOptions): Promise<void> } {
  let current: Harness | undefined;
  const clients: C[] = [];
  const start = async (options: ServerOptions): Promise<void> => {
    current = await startServer(options);
    use(current);
  };
  beforeEach(() => start({ holdMs: 60_000 }));
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await current?.close();
  });
  return {
    connect: () => {
      const client = open(current!.port);
      clients.push(client);
      return client;
    },
    restart: async (options) => {
      await current?.close();
      await start(options);
    },
  };
}
