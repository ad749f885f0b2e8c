import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * Network namespaces for the kube tests, and the processes the harness runs (in a namespace or not).
 * kube-apiserver rejects loopback addresses in EndpointSlices, so backends need real addresses: they live in a "pod"
 * namespace, the gateway Envoy in a "gw" namespace, joined by a veth pair in 10.213.0.0/24. Nothing touches the
 * host's own interfaces: the veth is created directly inside the two namespaces.
 */

export const GW_ADDRESS = '10.213.0.1';
export const POD_ADDRESS = '10.213.0.2';
const PREFIX_LENGTH = 24;

export interface NetnsPair {
  /** Namespace names, e.g. ferry-gw-1234-1 / ferry-pod-1234-1. */
  readonly gw: string;
  readonly pod: string;
  readonly gwAddress: string;
  readonly podAddress: string;
  /** Adds another address on the pod side (e.g. 10.213.0.3 for an activator), reachable from the gw namespace. */
  addPodAddress(address: string): Promise<void>;
  /** Runs a command to completion inside a namespace. */
  exec(namespace: string, args: readonly string[]): Promise<string>;
  /** Kills what still runs in the namespaces, then deletes them (idempotent). */
  remove(): Promise<void>;
}

let counter = 0;
const liveNamespaces = new Set<string>();

/** Namespaces deleted when this process exits, however it exits (test/cluster's namespaces too). */
export function trackNamespace(ns: string, live = true): void {
  installExitHandler();
  if (live) liveNamespaces.add(ns);
  else liveNamespaces.delete(ns);
}

/** Creates the gw and pod namespaces with the veth pair between them; fails with what is missing when it cannot. */
export async function createNetnsPair(): Promise<NetnsPair> {
  installExitHandler();
  sweepOrphans();
  const id = `${process.pid}-${++counter}`;
  const gw = `ferry-gw-${id}`;
  const pod = `ferry-pod-${id}`;
  // Interface names are limited to 15 characters; they only need to be unique inside their namespace.
  const gwIf = 'veth-gw';
  const podIf = 'veth-pod';
  for (const ns of [gw, pod]) {
    deleteNamespaceSync(ns); // a leftover of a crashed run with the same name
    try {
      await ip(['netns', 'add', ns]);
    } catch (error) {
      for (const created of [gw, pod].filter((name) => liveNamespaces.delete(name))) deleteNamespaceSync(created);
      throw new Error(`kube test harness: cannot create network namespace ${ns} (${(error as Error).message.trim()}). `
        + 'The kube tests need root, or CAP_SYS_ADMIN and CAP_NET_ADMIN, and iproute2 (`ip`) to run `ip netns add` and create veth pairs; '
        + 'run them as root (or in a container with those capabilities).');
    }
    liveNamespaces.add(ns);
  }
  const pair: NetnsPair = {
    gw, pod, gwAddress: GW_ADDRESS, podAddress: POD_ADDRESS,
    addPodAddress: async (address) => void await ip(['-n', pod, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', podIf]),
    exec: (namespace, args) => run('ip', ['netns', 'exec', namespace, ...args]),
    remove: async () => {
      for (const ns of [gw, pod]) {
        killNamespaceProcesses(ns);
        deleteNamespaceSync(ns);
        liveNamespaces.delete(ns);
      }
    },
  };
  try {
    await ip(['link', 'add', gwIf, 'netns', gw, 'type', 'veth', 'peer', 'name', podIf, 'netns', pod]);
    await ip(['-n', gw, 'addr', 'add', `${GW_ADDRESS}/${PREFIX_LENGTH}`, 'dev', gwIf]);
    await ip(['-n', pod, 'addr', 'add', `${POD_ADDRESS}/${PREFIX_LENGTH}`, 'dev', podIf]);
    for (const [ns, dev] of [[gw, gwIf], [pod, podIf], [gw, 'lo'], [pod, 'lo']]) await ip(['-n', ns!, 'link', 'set', dev!, 'up']);
  } catch (error) {
    await pair.remove();
    throw new Error(`kube test harness: cannot wire namespaces ${gw} and ${pod}: ${(error as Error).message}`);
  }
  return pair;
}

function ip(args: readonly string[]): Promise<string> {
  return run('ip', args);
}

/** Runs a command to completion; rejects with its stderr. */
export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Kills what runs in a namespace, then deletes it; a no-op when it does not exist. */
export function deleteNamespaceSync(ns: string): void {
  // Per-namespace resolver files (test/cluster writes /etc/netns/<ns>/hosts, which `ip netns exec` mounts on /etc/hosts).
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  if (!existsSync(`/run/netns/${ns}`)) return;
  killNamespaceProcesses(ns);
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // Best effort: a namespace still held open disappears with its last process.
  }
}

function killNamespaceProcesses(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace already gone
  }
}

/** Namespaces of test processes that died without cleaning up (their pid is gone). */
export function sweepOrphans(): void {
  let names: string[] = [];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').map((l) => l.split(' ')[0]!);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^ferry-(?:gw|pod|c)-(\d+)-\d+(?:-[\w-]+)?$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !processAlive(Number(pid))) deleteNamespaceSync(name);
  }
}

/**
 * A new temp directory `<prefix>-<pid>-XXXXXX`; those of test processes that died without cleaning up are removed.
 */
export function harnessTempDir(prefix: string): string {
  for (const name of readdirSync(tmpdir())) {
    const pid = new RegExp(`^${prefix}-(\\d+)-`).exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  return mkdtempSync(join(tmpdir(), `${prefix}-${process.pid}-`));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- processes ----

export interface ManagedProcessOptions {
  /** For messages. */
  name: string;
  /** Output also goes to this file (the tail stays in memory either way). */
  logFile?: string;
  /** Called with each output line (stdout and stderr). */
  onLine?: (line: string) => void;
}

/** A child process of the harness: killed with this process (even by SIGKILL, via setpriv), its output's tail kept. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];
  private readonly log: WriteStream | undefined;

  constructor(command: string, args: readonly string[], readonly options: ManagedProcessOptions) {
    installExitHandler();
    const [cmd, argv] = PARENT_DEATH_WRAPPER ? [PARENT_DEATH_WRAPPER, ['--pdeathsig', 'SIGKILL', command, ...args]] : [command, [...args]];
    this.child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    liveProcesses.add(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      liveProcesses.delete(this.child);
      resolve({ code, signal });
    }));
    this.child.once('error', (error) => this.tail.push(`cannot run ${command}: ${error.message}`));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > 400) this.tail.shift();
        if (this.log && !this.log.writableEnded) this.log.write(`${line}\n`); // lines may still come after stop()
        options.onLine?.(line);
      });
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logTail(lines = 60): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** SIGTERM (or the given signal), then SIGKILL after timeoutMs. */
  async stop(timeoutMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.alive) {
      this.child.kill(signal);
      const late = await Promise.race([this.exited.then(() => false), sleep(timeoutMs, true, { ref: false })]);
      if (late) this.child.kill('SIGKILL');
      await this.exited;
    }
    this.log?.end();
  }
}

const PARENT_DEATH_WRAPPER = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
const liveProcesses = new Set<ChildProcess>();
let exitHandlerInstalled = false;

/** On exit, best effort: kill what is still running and delete the namespaces (synchronously, as 'exit' requires). */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.once('exit', () => {
    for (const child of liveProcesses) child.kill('SIGKILL');
    for (const ns of liveNamespaces) deleteNamespaceSync(ns);
  });
}
