import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../log.js';
import { loadBootstrapTemplate, renderBootstrap, repositoryRoot, type BootstrapValues, type XdsMode } from './bootstrap.js';
import { EnvoyAdminClient } from './envoy-admin.js';
import { ENVOY_LOG_FORMAT, parseEnvoyLogLine, type EnvoyLogLine } from './envoy-log.js';

/** The bootstrap to start with: already rendered YAML, or a template of deploy/envoy/ and its values. */
export type BootstrapSource = { yaml: string } | { mode: XdsMode; values: BootstrapValues };

export interface ManagedEnvoyOptions {
  bootstrap: BootstrapSource;
  /** Envoy binary; default $FERRY_ENVOY_BIN, else <repo>/.venv/bin/envoy. */
  envoyBin?: string;
  /** A name for logs (default: the node id, or "envoy"). */
  name?: string;
  logger?: Logger;
  /** Envoy's own log level (-l). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical';
  /** Worker threads (--concurrency). */
  concurrency?: number;
  /** Seconds a replaced listener drains (--drain-time-s). */
  drainTimeSeconds?: number;
  /** Restart with exponential backoff when Envoy dies unexpectedly; false to leave it dead. */
  restart?: false | { initialDelayMs?: number; maxDelayMs?: number };
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Envoy log lines kept for logTail(). */
  logTailLines?: number;
}

export interface EnvoyStartEvent { pid: number; start: number }
export interface EnvoyExitEvent { pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean }
export interface EnvoyRestartEvent { attempt: number; delayMs: number }

interface ManagedEnvoyEvents {
  start: [EnvoyStartEvent];
  exit: [EnvoyExitEvent];
  restart: [EnvoyRestartEvent];
}

/** A process that ran this long is considered healthy again: the restart backoff starts over. */
const STABLE_AFTER_MS = 10_000;

/**
 * One real Envoy process run by Ferry (tests, benchmarks, local gateways): bootstrap written to a temp
 * directory, logs forwarded to pino, restarted with backoff when it dies, stopped on stop() and when
 * this Node process exits.
 */
export class ManagedEnvoy extends EventEmitter<ManagedEnvoyEvents> {
  readonly binary: string;
  readonly name: string;
  readonly admin: EnvoyAdminClient;
  private readonly bootstrapYaml: string;
  private readonly workDir: string;
  private readonly logger: Logger;
  private readonly tail: string[] = [];
  private child: ChildProcess | undefined;
  private childExited: Promise<void> = Promise.resolve();
  private starts = 0;
  private failuresInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private cachedAdminAddress: { host: string; port: number } | undefined;

  constructor(private readonly options: ManagedEnvoyOptions) {
    super();
    this.binary = resolveEnvoyBinary(options.envoyBin);
    const source = options.bootstrap;
    this.bootstrapYaml = 'yaml' in source ? source.yaml : renderBootstrap(loadBootstrapTemplate(source.mode), source.values);
    this.name = options.name ?? ('values' in source ? source.values.nodeId : 'envoy');
    this.logger = (options.logger ?? silentLogger).child({ component: 'envoy', envoy: this.name });
    this.workDir = mkdtempSync(join(tmpdir(), 'ferry-envoy-'));
    writeFileSync(this.bootstrapPath, this.bootstrapYaml);
    this.admin = new EnvoyAdminClient(() => this.adminAddress);
  }

  get bootstrapPath(): string {
    return join(this.workDir, 'bootstrap.yaml');
  }

  /** The running process id, if any. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Where the admin interface listens; known once start() resolved (changes across restarts when port 0). */
  get adminAddress(): { host: string; port: number } {
    if (this.cachedAdminAddress) return this.cachedAdminAddress;
    const text = existsSync(this.adminAddressPath) ? readFileSync(this.adminAddressPath, 'utf8').trim() : '';
    const separator = text.lastIndexOf(':');
    if (separator < 0) throw new Error(`Envoy ${this.name}: admin address not known yet (not started, or still starting)`);
    this.cachedAdminAddress = { host: text.slice(0, separator).replace(/^\[|\]$/g, ''), port: Number(text.slice(separator + 1)) };
    return this.cachedAdminAddress;
  }

  /** Starts Envoy and resolves once its admin interface is bound; rejects with the log tail if it exits first. */
  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`Envoy ${this.name} is already running (pid ${this.pid})`);
    this.stopping = false;
    this.spawnProcess();
    const exited = this.childExited.then(() => 'exited' as const);
    for (;;) {
      if (this.adminAddressKnown()) return;
      if ((await Promise.race([exited, sleep(20)])) === 'exited' && !this.adminAddressKnown()) {
        // A first start that fails is a configuration error for the caller, not a crash to retry in the background.
        this.stopping = true;
        clearTimeout(this.restartTimer);
        throw new Error(`Envoy ${this.name} exited before binding its admin interface (code ${this.child?.exitCode}, signal ${this.child?.signalCode}); last log lines:\n${this.logTail()}`);
      }
    }
  }

  /** Waits until Envoy reports LIVE on /ready (after its first listeners and clusters are in place). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.stopping) throw new Error(`Envoy ${this.name} was stopped while waiting for /ready`);
      const child = this.child;
      if (this.options.restart === false && child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`Envoy ${this.name} exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for /ready; last log lines:\n${this.logTail()}`);
      }
      try {
        if (await this.admin.isLive()) return;
      } catch {
        // Admin not answering yet (starting or restarting): keep polling.
      }
      if (Date.now() > deadline) throw new Error(`Envoy ${this.name} not LIVE after ${timeoutMs} ms; last log lines:\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL after stopTimeoutMs; no restart afterwards. Removes the temp directory. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([this.childExited.then(() => false), sleep(this.options.stopTimeoutMs ?? 5_000, undefined, { ref: false }).then(() => true)]);
      if (killed) {
        this.logger.warn({ pid: child.pid }, 'Envoy did not stop after SIGTERM; sending SIGKILL');
        child.kill('SIGKILL');
        await this.childExited;
      }
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** The last Envoy log lines, for error messages and failing tests. */
  logTail(lines = 60): string {
    return this.tail.slice(-lines).join('\n');
  }

  private get adminAddressPath(): string {
    return join(this.workDir, 'admin-address');
  }

  private spawnProcess(): void {
    rmSync(this.adminAddressPath, { force: true });
    this.cachedAdminAddress = undefined;
    const envoyArgs = [
      '-c', this.bootstrapPath,
      '--admin-address-path', this.adminAddressPath,
      '--use-dynamic-base-id',
      '--concurrency', String(this.options.concurrency ?? 1),
      '--drain-time-s', String(this.options.drainTimeSeconds ?? 1),
      '--parent-shutdown-time-s', String((this.options.drainTimeSeconds ?? 1) + 1),
      '--log-format', ENVOY_LOG_FORMAT,
      '-l', this.options.logLevel ?? 'info',
    ];
    // setpriv makes the kernel kill Envoy when this process dies, even by SIGKILL, so that no Envoy outlives its owner.
    const [command, args] = PARENT_DEATH_WRAPPER ? [PARENT_DEATH_WRAPPER, ['--pdeathsig', 'SIGKILL', this.binary, ...envoyArgs]] : [this.binary, envoyArgs];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const started = Date.now();
    this.starts += 1;
    this.childExited = new Promise((resolve) => child.once('exit', () => resolve()));
    liveChildren.add(child);
    installExitHandler();
    this.forwardLogs(child);
    child.once('error', (error) => this.logger.error({ err: error }, `cannot run ${command}`));
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      const expected = this.stopping;
      this.emit('exit', { pid: child.pid ?? -1, code, signal, expected });
      if (expected) {
        this.logger.info({ pid: child.pid, code, signal }, 'Envoy stopped');
        return;
      }
      this.logger.error({ pid: child.pid, code, signal, logTail: this.logTail(20) }, 'Envoy exited unexpectedly');
      this.failuresInARow = Date.now() - started >= STABLE_AFTER_MS ? 1 : this.failuresInARow + 1;
      this.scheduleRestart();
    });
    this.logger.info({ pid: child.pid, start: this.starts }, 'Envoy started');
    if (child.pid !== undefined) this.emit('start', { pid: child.pid, start: this.starts });
  }

  private scheduleRestart(): void {
    if (this.options.restart === false) return;
    const initial = this.options.restart?.initialDelayMs ?? 100;
    const max = this.options.restart?.maxDelayMs ?? 10_000;
    const delayMs = Math.min(max, initial * 2 ** (this.failuresInARow - 1));
    this.emit('restart', { attempt: this.failuresInARow, delayMs });
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawnProcess();
    }, delayMs);
  }

  private forwardLogs(child: ChildProcess): void {
    for (const stream of [child.stderr, child.stdout]) {
      if (!stream) continue;
      let previous: EnvoyLogLine | undefined;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > (this.options.logTailLines ?? 300)) this.tail.shift();
        previous = parseEnvoyLogLine(line, previous);
        this.logger[previous.level]({ pid: child.pid, source: previous.source }, previous.message);
      });
    }
  }

  private adminAddressKnown(): boolean {
    try {
      return this.adminAddress.port > 0;
    } catch {
      return false;
    }
  }
}

/** Option, else $FERRY_ENVOY_BIN, else <repo>/.venv/bin/envoy; fails with what to do when it is missing. */
export function resolveEnvoyBinary(option?: string): string {
  const [path, origin] = option !== undefined ? [option, 'the envoyBin option']
    : process.env.FERRY_ENVOY_BIN ? [process.env.FERRY_ENVOY_BIN, 'FERRY_ENVOY_BIN']
      : [join(repositoryRoot(), '.venv', 'bin', 'envoy'), 'the default location'];
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`Envoy binary not found or not executable at ${path} (from ${origin}); run scripts/install-envoy.sh, or set FERRY_ENVOY_BIN to an Envoy binary`);
  }
  return path;
}

const PARENT_DEATH_WRAPPER = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

const liveChildren = new Set<ChildProcess>();
let exitHandlerInstalled = false;

/** Kills every Envoy still running when Node exits, or is stopped by a signal nobody else handles. */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  const killAll = (): void => {
    for (const child of liveChildren) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(signal, onSignal);
      // Keep the default behaviour (terminate) unless the application handles this signal itself.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
