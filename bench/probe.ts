import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchApp } from './generate.js';
import type { GatewayPorts } from './ferry-process.js';
import { requestThroughGateway, type GatewayResponse, type GatewayTarget } from './http-client.js';

/** How a client reaches an app's first host: ClusterLocal on the local listener, TLS over HTTPS with SNI. */
export function appTarget(app: BenchApp, ports: GatewayPorts, host = app.host): GatewayTarget {
  if (app.visibility === 'ClusterLocal') return { port: ports.local.http, host };
  if (app.tls && host === app.host) return { port: ports.external.https, host, tls: true };
  return { port: ports.external.http, host };
}

export interface PollOptions {
  timeoutMs: number;
  /** Consecutive matching answers needed (for weighted splits, where one answer may match by chance). */
  streak?: number;
  intervalMs?: number;
}

/**
 * Requests the target until `matches` holds for `streak` answers in a row; resolves with the time
 * (performance.now) of the first answer of that streak, or undefined at the timeout.
 */
export async function pollUntil(target: GatewayTarget, matches: (response: GatewayResponse) => boolean, options: PollOptions): Promise<number | undefined> {
  const deadline = performance.now() + options.timeoutMs;
  const streak = options.streak ?? 1;
  let run = 0;
  let firstOfRun = 0;
  while (performance.now() < deadline) {
    const sentAt = performance.now();
    const response = await requestThroughGateway(target, 2_000);
    if (matches(response)) {
      if (run === 0) firstOfRun = sentAt;
      run += 1;
      if (run >= streak) return firstOfRun;
      continue;
    }
    run = 0;
    await sleep(options.intervalMs ?? 2);
  }
  return undefined;
}

/** Requests every target in rounds until each answered 200 once; times (ms since `since`) when all had. */
export async function waitAllServed(targets: readonly GatewayTarget[], since: number, timeoutMs: number): Promise<{ firstOkMs: number | undefined; allOkMs: number | undefined; ok: number }> {
  const pending = new Set(targets);
  const deadline = since + timeoutMs;
  let firstOkMs: number | undefined;
  while (pending.size > 0 && performance.now() < deadline) {
    const batch = [...pending];
    for (let i = 0; i < batch.length; i += 16) {
      const answers = await Promise.all(batch.slice(i, i + 16).map(async (target) => [target, await requestThroughGateway(target, 2_000)] as const));
      for (const [target, response] of answers) {
        if (response.status === 200 && response.answer) {
          firstOkMs ??= performance.now() - since;
          pending.delete(target);
        }
      }
    }
    if (pending.size > 0) await sleep(100);
  }
  return { firstOkMs, allOkMs: pending.size === 0 ? performance.now() - since : undefined, ok: targets.length - pending.size };
}
