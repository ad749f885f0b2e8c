import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import { EnvoyAdminClient } from '../src/envoy/envoy-admin.js';
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

/**
 * `ferry serve` as a child process, with its managed Envoy, every port free on 127.0.0.1 and debug logs
 * (parsed, kept for phase timestamps). Stopped with SIGTERM, then SIGKILL.
 */
export class FerryProcess {
  readonly logs: FerryLogLine[] = [];
  readonly envoyAdmin: EnvoyAdminClient;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly stderrTail: string[] = [];
  private readonly lineListeners = new Set<(line: FerryLogLine) => void>();

  private constructor(readonly startedAt: number, readonly ports: GatewayPorts, readonly adminPort: number, readonly envoyAdminPort: number, args: string[], nodeArgs: string[]) {
    this.child = spawn(process.execPath, [...nodeArgs, join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on('line', (text) => this.onLine(text));
    this.envoyAdmin = new EnvoyAdminClient(() => ({ host: '127.0.0.1', port: envoyAdminPort }));
  }

  static async start(options: { manifests: string; cpuProfileDir?: string; routeTables: 'scoped' | 'single' }): Promise<FerryProcess> {
    const ports: GatewayPorts = {
      external: { http: await freePort(), https: await freePort() },
      local: { http: await freePort(), https: await freePort() },
    };
    const adminPort = await freePort();
    const envoyAdminPort = await freePort();
    const xdsPort = await freePort();
    const args = [
      'serve', '--manifests', options.manifests, '--envoy', 'managed', '--xds-mode', 'delta',
      '--xds-address', `127.0.0.1:${xdsPort}`, '--admin-address', `127.0.0.1:${adminPort}`, '--envoy-admin-port', String(envoyAdminPort),
      '--external-http-port', String(ports.external.http), '--external-https-port', String(ports.external.https),
      '--local-http-port', String(ports.local.http), '--local-https-port', String(ports.local.https),
      '--listen-address', '127.0.0.1', '--log-level', 'info', '--route-tables', options.routeTables,
    ];
    const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
    return new FerryProcess(Date.now(), ports, adminPort, envoyAdminPort, args, nodeArgs);
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

  /** True when a gateway is connected and every type it subscribed to is SYNCED (ACKed at the current version). */
  async synced(): Promise<boolean> {
    try {
      return (JSON.parse(await this.adminGet('/debug/synced')) as { synced: boolean }).synced;
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
