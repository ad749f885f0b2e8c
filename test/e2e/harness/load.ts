import { Agent } from 'node:http';
import { backendOf, request } from './http-client.js';

export interface LoadLoopOptions {
  port: number;
  host: string;
  path?: string;
  headers?: Record<string, string>;
  /** Stop sending after this long, unless stop() comes first. */
  durationMs: number;
  /** Stop sending after this many requests. */
  maxRequests: number;
  /** Requests in flight at once (default 2). */
  concurrency?: number;
  /** Reuse connections (default false: a fresh connection per request). */
  keepAlive?: boolean;
  /** The status every answer must have (default 200). */
  expectStatus?: number;
}

export interface LoadFailure {
  /** Sequence number of the request. */
  index: number;
  status?: number;
  error?: string;
  body?: string;
}

export interface LoadResult {
  sent: number;
  succeeded: number;
  failures: LoadFailure[];
  /** Which backend answered, per request, in completion order (from the JSON `backend` field). */
  answeredBy: string[];
}

export interface LoadLoop {
  /** Requests completed so far, by backend name. */
  countBy(backend: string): number;
  /** Stops sending, waits for the requests in flight, returns the result. */
  stop(): Promise<LoadResult>;
  /** Resolves when the loop ended by itself (duration or maxRequests reached) or after stop(). */
  readonly done: Promise<LoadResult>;
}

/**
 * Sends continuous requests (bounded by duration and count) and records every one that did not get the
 * expected status: the measure of "no request lost" while configuration changes underneath.
 */
export function loadLoop(options: LoadLoopOptions): LoadLoop {
  const agent = options.keepAlive ? new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 2 }) : undefined;
  const deadline = Date.now() + options.durationMs;
  const expected = options.expectStatus ?? 200;
  const result: LoadResult = { sent: 0, succeeded: 0, failures: [], answeredBy: [] };
  const counts = new Map<string, number>();
  let stopped = false;

  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline && result.sent < options.maxRequests) {
      const index = result.sent++;
      try {
        const answer = await request(options.port, options.host, options.path ?? '/', options.headers ?? {}, { agent });
        const backend = backendOf(answer) ?? '?';
        result.answeredBy.push(backend);
        counts.set(backend, (counts.get(backend) ?? 0) + 1);
        if (answer.status === expected) result.succeeded += 1;
        else result.failures.push({ index, status: answer.status, body: answer.body.slice(0, 300) });
      } catch (error) {
        result.failures.push({ index, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker)).then(() => {
    agent?.destroy();
    return result;
  });
  return {
    countBy: (backend) => counts.get(backend) ?? 0,
    stop: () => {
      stopped = true;
      return done;
    },
    done,
  };
}
