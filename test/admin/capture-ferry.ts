import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ManagedEnvoy } from '../../src/envoy/managed-envoy.js';
import { FerryMetrics } from '../../src/metrics.js';
import { Ferry } from '../../src/serve/ferry.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../../src/translate/envoy/index.js';
import { freePort, startEnvoy, stopEnvoy } from '../e2e/harness/index.js';

/** A files-mode Ferry (every log line captured at debug level) with a real Envoy serving both roles. */
export interface ObservedFerry {
  ferry: Ferry;
  envoy: ManagedEnvoy;
  dir: string;
  admin: string;
  translateConfig: TranslateConfig;
  logs: string[];
  close(): Promise<void>;
}

export async function startObservedFerry(manifests: Record<string, string>): Promise<ObservedFerry> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-admin-'));
  for (const [file, yaml] of Object.entries(manifests)) writeFileSync(join(dir, file), yaml);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logs.push(chunk.toString('utf8')); done(); } });
  const translateConfig: TranslateConfig = {
    ...DEFAULT_TRANSLATE_CONFIG,
    bindAddress: '127.0.0.1',
    ports: { external: { http: await freePort(), https: await freePort() }, local: { http: await freePort(), https: await freePort() } },
  };
  const ferry = new Ferry({
    source: { kind: 'files', manifests: dir, watch: true }, xdsAddress: '127.0.0.1:0', adminAddress: { host: '127.0.0.1', port: 0 }, translateConfig, envoy: 'none',
    logger: pino({ level: 'debug' }, sink), metrics: new FerryMetrics({ processMetrics: false }),
  });
  await ferry.start();
  const envoy = await startEnvoy({ xdsPort: ferry.xdsPort, role: 'both', mode: 'delta', waitReady: true, nodeId: 'gateway-both' });
  return {
    ferry, envoy, dir, admin: `127.0.0.1:${ferry.adminPort}`, translateConfig, logs,
    async close() {
      await stopEnvoy(envoy);
      await ferry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
