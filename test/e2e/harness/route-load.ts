import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { BackendAnswer } from './backend.js';
import { request } from './http-client.js';

/** One route a load reaches through a gateway on 127.0.0.1: by Host, over HTTPS with the host as SNI when `tls`. */
export interface LoadTarget {
  port: number;
  host: string;
  tls?: boolean;
}

export interface RouteLoadOptions {
  /** Taken in turn by every worker. */
  targets: readonly LoadTarget[];
  /** Requests in flight at once; even workers keep connections alive, odd ones open one per request (default 8). */
  concurrency?: number;
  /** Stop sending after this long, unless stop() comes first. */
  durationMs: number;
  /** Stop sending after this many requests. */
  maxRequests: number;
  /** Called with every answer of a test backend (status 200 and its JSON), e.g. to count splits. */
  onAnswer?: (target: LoadTarget, answer: BackendAnswer) => void;
}

export interface RouteLoadFailure {
  host: string;
  /** Milliseconds since the load started. */
  atMs: number;
  status?: number;
  error?: string;
  body?: string;
}

export interface RouteLoadResult {
  sent: number;
  succeeded: number;
  /** Every request that did not end in a 200 from a test backend (the first 200 kept in full, the rest counted). */
  failed: number;
  failures: RouteLoadFailure[];
  elapsedMs: number;
}

export interface RouteLoad {
  readonly sent: number;
  readonly failed: number;
  /** Stops sending, waits for the requests in flight, returns the result. */
  stop(): Promise<RouteLoadResult>;
  /** Resolves when the load ended by itself (duration or count reached) or after stop(). */
  readonly done: Promise<RouteLoadResult>;
}

const KEPT_FAILURES = 200;

/**
 * Bounded concurrent HTTP/1.1 traffic over many routes at once, half on kept-alive connections and half on a fresh
 * connection (and TLS handshake) per request: anything but a 200 answered by a test backend is a failure.
 */
export function routeLoad(options: RouteLoadOptions): RouteLoad {
  if (options.targets.length === 0) throw new Error('routeLoad: no targets');
  const concurrency = options.concurrency ?? 8;
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: concurrency }), https: new HttpsAgent({ keepAlive: true, maxSockets: concurrency }) };
  const started = Date.now();
  const deadline = started + options.durationMs;
  const result: RouteLoadResult = { sent: 0, succeeded: 0, failed: 0, failures: [], elapsedMs: 0 };
  let next = 0;
  let stopped = false;

  const fail = (failure: Omit<RouteLoadFailure, 'atMs'>): void => {
    result.failed += 1;
    if (result.failures.length < KEPT_FAILURES) result.failures.push({ ...failure, atMs: Date.now() - started });
  };
  const worker = async (keepAlive: boolean): Promise<void> => {
    while (!stopped && Date.now() < deadline && result.sent < options.maxRequests) {
      const target = options.targets[next++ % options.targets.length]!;
      result.sent += 1;
      try {
        const agent = keepAlive ? (target.tls ? agents.https : agents.http) : undefined;
        const answer = await request(target.port, target.host, '/', {}, { agent, tls: target.tls, timeoutMs: 10_000 });
        const parsed = answer.status === 200 ? parseAnswer(answer.body) : undefined;
        if (parsed) {
          result.succeeded += 1;
          options.onAnswer?.(target, parsed);
        } else {
          fail({ host: target.host, status: answer.status, body: answer.body.slice(0, 200) });
        }
      } catch (error) {
        fail({ host: target.host, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i % 2 === 0))).then(() => {
    agents.http.destroy();
    agents.https.destroy();
    result.elapsedMs = Date.now() - started;
    return result;
  });
  return {
    get sent() {
      return result.sent;
    },
    get failed() {
      return result.failed;
    },
    stop: () => {
      stopped = true;
      return done;
    },
    done,
  };
}

function parseAnswer(body: string): BackendAnswer | undefined {
  try {
    const answer = JSON.parse(body) as BackendAnswer;
    return typeof answer.backend === 'string' ? answer : undefined;
  } catch {
    return undefined;
  }
}
