import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import jsYaml from 'js-yaml';
import { loadBootstrapTemplate } from '../src/envoy/bootstrap.js';
import { EnvoyAdminClient } from '../src/envoy/envoy-admin.js';
import { resolveEnvoyBinary } from '../src/envoy/managed-envoy.js';
import type { GatewayTarget } from './http-client.js';
import { freePort } from './ports.js';
import { processMemoryMb } from './proc.js';
import { waitAllServed } from './probe.js';
import type { StaticBootstrap } from './static-bootstrap.js';

export interface FloorResult {
  bootstrapBytes: number;
  /** Envoy process start until /ready answers LIVE. */
  liveMs: number | undefined;
  /** Envoy process start until every sampled host answered 200. */
  allServedMs: number | undefined;
  sampled: number;
  served: number;
  envoyRssMb: number | undefined;
}

/**
 * The floor: Envoy alone (same binary, --concurrency 1 as the managed gateway) loading what Ferry serves
 * from local files (static bootstrap, route configurations over filesystem RDS), until the same sampled
 * hosts answer. The directory is removed afterwards.
 */
export async function measureFloor(dir: string, bootstrap: StaticBootstrap, targets: readonly GatewayTarget[], timeoutMs: number): Promise<FloorResult> {
  const path = join(dir, 'bootstrap.pb');
  writeFileSync(path, bootstrap.bytes);
  for (const [file, bytes] of bootstrap.routeFiles) writeFileSync(file, bytes);
  const adminPort = await freePort();
  const started = performance.now();
  const child = spawn(resolveEnvoyBinary(), [
    '-c', path, '--config-yaml', JSON.stringify({ ...gatewayTuning(), admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } } }),
    '--use-dynamic-base-id', '--concurrency', '1', '-l', 'warning', '--drain-time-s', '1', '--parent-shutdown-time-s', '2',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const errors: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const admin = new EnvoyAdminClient(() => ({ host: '127.0.0.1', port: adminPort }));
    const live = (async () => {
      while (performance.now() - started < timeoutMs && child.exitCode === null) {
        if (await admin.isLive().catch(() => false)) return performance.now() - started;
        await sleep(20);
      }
      return undefined;
    })();
    const served = await waitAllServed(targets, started, timeoutMs);
    const liveMs = await live;
    if (served.allOkMs === undefined) process.stderr.write(`floor: Envoy did not serve every sampled host; its log:\n${errors.join('').slice(-3000)}\n`);
    let envoyRssMb: number | undefined;
    try {
      envoyRssMb = child.exitCode === null && child.pid ? processMemoryMb(child.pid).rssMb : undefined;
    } catch {
      envoyRssMb = undefined; // it exited meanwhile (its log is printed above)
    }
    return { bootstrapBytes: bootstrap.bytes.length + [...bootstrap.routeFiles.values()].reduce((sum, b) => sum + b.length, 0), liveMs, allServedMs: served.allOkMs, sampled: targets.length, served: served.ok, envoyRssMb };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000, undefined, { ref: false }).then(() => child.kill('SIGKILL'))]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The managed gateway's own Envoy settings (deploy/envoy/bootstrap-delta.yaml without its node, admin and
 * resources: cluster manager, deferred stats, overload manager), so that the floor is the same Envoy loading
 * the same resources, only from files.
 */
function gatewayTuning(): Record<string, unknown> {
  const template = loadBootstrapTemplate('delta');
  // The ${...} placeholders are only in the parts left out; they are not YAML inside flow mappings.
  const bootstrap = jsYaml.load(template.replace(/\$\{\w+\}/g, '"placeholder"')) as Record<string, unknown>;
  const { node: _node, admin: _admin, dynamic_resources: _dynamic, static_resources: _static, ...tuning } = bootstrap;
  return tuning;
}

