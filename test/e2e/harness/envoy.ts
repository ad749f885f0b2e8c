import { randomUUID } from 'node:crypto';
import { ManagedEnvoy, type ManagedEnvoyOptions } from '../../../src/envoy/managed-envoy.js';
import type { GatewayNodeRole, XdsMode } from '../../../src/envoy/bootstrap.js';

export interface StartEnvoyOptions {
  xdsPort: number;
  role?: GatewayNodeRole;
  mode?: XdsMode;
  nodeId?: string;
  /** Restart on unexpected exit (default true, quickly). */
  restart?: ManagedEnvoyOptions['restart'];
  logLevel?: ManagedEnvoyOptions['logLevel'];
  drainTimeSeconds?: ManagedEnvoyOptions['drainTimeSeconds'];
  /** Wait for /ready LIVE before returning (default false: a gateway without listeners is not LIVE yet). */
  waitReady?: boolean;
}

const started = new Set<ManagedEnvoy>();

/**
 * A real gateway Envoy connected to an xDS server on 127.0.0.1:xdsPort, admin on an OS-chosen loopback
 * port. Listener ports come from the xDS resources the test serves (allocate them with freePort()).
 */
export async function startEnvoy(options: StartEnvoyOptions): Promise<ManagedEnvoy> {
  const mode = options.mode ?? 'delta';
  const envoy = new ManagedEnvoy({
    bootstrap: {
      mode,
      values: {
        nodeId: options.nodeId ?? `e2e-${mode}-${randomUUID().slice(0, 8)}`,
        role: options.role ?? 'external',
        xdsAddress: '127.0.0.1',
        xdsPort: options.xdsPort,
        adminPort: 0,
      },
    },
    logLevel: options.logLevel ?? 'info',
    drainTimeSeconds: options.drainTimeSeconds,
    restart: options.restart ?? { initialDelayMs: 50, maxDelayMs: 1_000 },
    stopTimeoutMs: 3_000,
  });
  started.add(envoy);
  await envoy.start();
  if (options.waitReady) await envoy.ready();
  return envoy;
}

/** Starts an Envoy from an already rendered bootstrap (static configuration, no xDS). */
export async function startStaticEnvoy(yaml: string): Promise<ManagedEnvoy> {
  const envoy = new ManagedEnvoy({ bootstrap: { yaml }, name: 'static', restart: false, stopTimeoutMs: 3_000 });
  started.add(envoy);
  await envoy.start();
  return envoy;
}

/** Stops one Envoy started here. */
export async function stopEnvoy(envoy: ManagedEnvoy): Promise<void> {
  started.delete(envoy);
  await envoy.stop();
}

/** Stops every Envoy this test file started: call it in afterAll. */
export async function stopAllEnvoys(): Promise<void> {
  const all = [...started];
  started.clear();
  await Promise.all(all.map((envoy) => envoy.stop()));
}

/** The log tails of the Envoys still running, for a failing test's output. */
export function envoyLogTails(lines = 80): string {
  return [...started].map((envoy) => `--- Envoy ${envoy.name} (last ${lines} lines) ---\n${envoy.logTail(lines)}`).join('\n');
}
