import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import { EnvoyAdminClient } from '../src/envoy/envoy-admin.js';
import type { TranslateConfig } from '../src/translate/envoy/index.js';
import { childPids } from './proc.js';
import { freePort } from './ports.js';

export interface GatewayPorts {
  external: { http: number; https: number };
  local: { http: number; https: number };
}

/** One pino log line of Ferry: `time` is epoch milliseconds. */
export interface FerryLogLine {
  time: number;
  msg: string;
  level: number;
  [field: string]: unknown;
}

const MAX_LOG_LINES = 50_000;

/** Every port a `ferry serve` listens on or configures, all on 127.0.0.1: kept for a restart on the same ones. */
export interface FerryAddresses {
  ports: GatewayPorts;
  adminPort: number;
  envoyAdminPort: number;
  xdsPort: number;
}

export interface FerryProcessOptions {
  manifests: string;
  cpuProfileDir?: string;
  routeTables?: TranslateConfig['routeTables'];
  /** Sharded route tables: tables per kind (default: Ferry's). */
  routeTableShards?: number;
  /** Service clusters for every gateway, or on demand (default: Ferry's, all). */
  clusters?: TranslateConfig['clusters'];
  /** 'none': the control plane alone, its gateways started by the caller on xdsPort (default 'managed'). */
  envoy?: 'managed' | 'none';
  /** The ports to use (default: free ones). */
  addresses?: FerryAddresses;
}

/**
 * `ferry serve` as a child process, with its managed Envoy (unless told none), every port free on 127.0.0.1 and
 * its logs (parsed, kept for phase timestamps). Stopped with SIGTERM, then SIGKILL; killed with any signal.
 */
export class FerryProcess {
  readonly logs: FerryLogLine[] = [];
  readonly envoyAdmin: EnvoyAdminClient;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly stderrTail: string[] = [];
  private readonly lineListeners = new Set<(line: FerryLogLine) => void>();

  readonly ports: GatewayPorts;
  readonly adminPort: number;
  readonly xdsPort: number;

  private constructor(readonly startedAt: number, private readonly addresses: FerryAddresses, private readonly args: string[], private readonly nodeArgs: string[]) {
    ({ ports: this.ports, adminPort: this.adminPort, xdsPort: this.xdsPort } = addresses);
    const envoyAdminPort = addresses.envoyAdminPort;
    this.child = spawn(process.execPath, [...nodeArgs, join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on('line', (text) => this.onLine(text));
    this.envoyAdmin = new EnvoyAdminClient(() => ({ host: '127.0.0.1', port: envoyAdminPort }));
  }

  static async start(options: FerryProcessOptions): Promise<FerryProcess> {
    const addresses = options.addresses ?? {
      ports: {
        external: { http: await freePort(), https: await freePort() },
        local: { http: await freePort(), https: await freePort() },
      },
      adminPort: await freePort(),
      envoyAdminPort: await freePort(),
      xdsPort: await freePort(),
    };
    const { ports, adminPort, envoyAdminPort, xdsPort } = addresses;
    const args = [
      'serve', '--manifests', options.manifests, '--envoy', options.envoy ?? 'managed', '--xds-mode', 'delta',
      '--xds-address', `127.0.0.1:${xdsPort}`, '--admin-address', `127.0.0.1:${adminPort}`, '--envoy-admin-port', String(envoyAdminPort),
      '--external-http-port', String(ports.external.http), '--external-https-port', String(ports.external.https),
      '--local-http-port', String(ports.local.http), '--local-https-port', String(ports.local.https),
      '--listen-address', '127.0.0.1', '--log-level', 'info', '--route-tables', options.routeTables ?? 'scoped',
      ...(options.routeTableShards !== undefined ? ['--route-table-shards', String(options.routeTableShards)] : []),
      ...(options.clusters !== undefined ? ['--clusters', options.clusters] : []),
      // Gateways started elsewhere (--envoy none) on loopback: DomainMappings reach their local listener.
      ...(options.envoy === 'none' ? ['--local-gateway', `127.0.0.1:${ports.local.http}`] : []),
    ];
    const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
    return new FerryProcess(Date.now(), addresses, args, nodeArgs);
  }

  /** Another `ferry serve` with the same flags and ports (after this one stopped or was killed). */
  restart(): FerryProcess {
    if (this.running) throw new Error(`FerryProcess.restart: Ferry (pid ${this.pid}) is still running; stop or kill it first`);
    return new FerryProcess(Date.now(), this.addresses, this.args, this.nodeArgs);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The managed Envoy: Ferry's only child process. */
  envoyPid(): number | undefined {
    return childPids(this.pid)[0];
  }

  onLog(listener: (line: FerryLogLine) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  async metrics(): Promise<string> {
    return this.adminGet('/metrics');
  }

  /** True when `gateways` (default 1) or more are connected and every type they subscribed to is SYNCED (ACKed at the current version). */
  async synced(gateways = 1): Promise<boolean> {
    try {
      const state = JSON.parse(await this.adminGet('/debug/synced')) as { synced: boolean; gateways: number };
      return state.synced && state.gateways >= gateways;
    } catch {
      return false;
    }
  }

  /** Polls synced() until true or the timeout; returns whether it got there. */
  async waitSynced(timeoutMs: number, intervalMs = 20): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.synced()) return true;
      await sleep(intervalMs);
    }
    return false;
  }

  /** Ferry's warnings and errors so far, distinct messages with their counts (the first few). */
  problems(limit = 10): string[] {
    const counts = new Map<string, number>();
    for (const line of this.logs) if (line.level >= 40) counts.set(line.msg, (counts.get(line.msg) ?? 0) + 1);
    return [...counts].slice(0, limit).map(([msg, count]) => `Ferry logged ${count}× ${msg.slice(0, 300)}`);
  }

  stderrTailText(): string {
    return this.stderrTail.join('\n');
  }

  /** Sends the signal (SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const killed = await Promise.race([this.exited.then(() => false), sleep(15_000, undefined, { ref: false }).then(() => true)]);
      if (killed) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
  }

  private async adminGet(path: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`Ferry admin ${path} answered ${response.status}`);
    return response.text();
  }

  private onLine(text: string): void {
    this.stderrTail.push(text);
    if (this.stderrTail.length > 40) this.stderrTail.shift();
    let line: FerryLogLine;
    try {
      line = JSON.parse(text) as FerryLogLine;
    } catch {
      return;
    }
    if (this.logs.length < MAX_LOG_LINES) this.logs.push(line);
    for (const listener of this.lineListeners) listener(line);
  }
}
