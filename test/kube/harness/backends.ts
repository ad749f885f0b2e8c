import { join } from 'node:path';
import { repositoryRoot } from '../../../src/envoy/bootstrap.js';
import { ManagedProcess, type NetnsPair } from './netns.js';

export interface PodBackendOptions {
  /** Answered as `backend` in every JSON answer. */
  name: string;
  /** Default: the pod side's main address (10.213.0.2); another one must be added first with net.addPodAddress(). */
  address?: string;
  /** Default 0: any free port (read back from `port`). Ports are per namespace, so 8080 is usually free too. */
  port?: number;
  status?: number;
  delayMs?: number;
  /** Speak HTTP/2 without TLS (prior knowledge), as Envoy does to h2c backends. */
  h2c?: boolean;
  /** No line per request (`requests` stays 0): for load, where the lines would cost more than the answers. */
  quiet?: boolean;
}

export interface PodBackend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Requests answered so far. */
  readonly requests: number;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

// From the repository, not from beside this file: the bench runs the compiled copy in dist/, which has no .mjs.
const SCRIPT = join(repositoryRoot(), 'test', 'kube', 'harness', 'backend-server.mjs');
const started = new Set<PodBackend>();

/** A backend process in the pod namespace (a revision's pod, as far as the gateway can tell). */
export async function startPodBackend(net: NetnsPair, options: PodBackendOptions): Promise<PodBackend> {
  const address = options.address ?? net.podAddress;
  let requests = 0;
  let announce: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (announce = resolve));
  const args = ['--address', address, '--port', String(options.port ?? 0), '--name', options.name,
    '--status', String(options.status ?? 200), '--delay-ms', String(options.delayMs ?? 0), ...(options.h2c ? ['--h2c'] : []), ...(options.quiet ? ['--quiet'] : [])];
  const proc = new ManagedProcess('ip', ['netns', 'exec', net.pod, process.execPath, SCRIPT, ...args], {
    name: `backend ${options.name}`,
    onLine: (line) => {
      if (line.startsWith('request ')) requests += 1;
      const port = /^listening .*:(\d+)$/.exec(line)?.[1];
      if (port) announce(Number(port));
    },
  });
  const port = await Promise.race([listening, proc.exited.then(() => undefined)]);
  if (port === undefined) {
    throw new Error(`backend ${options.name} exited before listening on ${address}:${options.port ?? 0}; output:\n${proc.logTail()}`);
  }
  const backend: PodBackend = {
    name: options.name, address, port,
    get requests() {
      return requests;
    },
    logTail: (lines) => proc.logTail(lines),
    stop: async () => {
      started.delete(backend);
      await proc.stop(2_000);
    },
  };
  started.add(backend);
  return backend;
}

/** Stops every backend this test file started: call it in afterAll (before removing the namespaces). */
export async function stopAllPodBackends(): Promise<void> {
  await Promise.all([...started].map((backend) => backend.stop()));
}
