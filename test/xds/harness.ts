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
export async function startServer(options: { holdMs?: number; complete?: boolean } = {}): Promise<Harness> {
  const metrics = new FerryMetrics({ processMetrics: false });
  const cache = new XdsCache({ metrics, complete: options.complete });
  const nackStore = new NackStore();
  const server = new XdsServer({ cache, logger: silentLogger, metrics, nackStore, holdMs: options.holdMs });
  const port = await server.listen('127.0.0.1:0');
  return { cache, server, nackStore, metrics, port, close: () => server.close() };
}

/** A metric's value for some labels, read from the registry as Prometheus would. */
export async function metricValue(metrics: FerryMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return sample?.value ?? 0;
}
