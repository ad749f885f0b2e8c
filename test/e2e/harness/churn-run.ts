import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryProcess } from '../../../bench/ferry-process.js';
import type { ManagedEnvoy } from '../../../src/envoy/managed-envoy.js';
import { startHttpBackend, type HttpBackend } from './backend.js';
import { CHANGE_KINDS, ChurnWorld, type ChangeKind, type ChurnWorldOptions } from './churn-world.js';
import { startEnvoy, stopEnvoy } from './envoy.js';
import { waitFor } from './wait.js';
import { routeTablesFromEnvironment, clustersFromEnvironment } from './ferry.js';

/** `ferry serve` (files mode, a child process) over a churn world, with one gateway Envoy (delta ADS, both roles). */
export interface ChurnEnvironment {
  world: ChurnWorld;
  /** The Ferry running now (replaced by restartFerry). */
  ferry: FerryProcess;
  gateway: ManagedEnvoy;
  /** Starts `ferry serve` again on the same folder and ports, after it stopped or was killed. */
  restartFerry(): FerryProcess;
  close(): Promise<void>;
}

/**
 * Backends (three pods and the activator), the world's files, Ferry and its gateway; resolves once the gateway
 * serves every route of the initial state.
 */
export async function startChurnEnvironment(options: Omit<ChurnWorldOptions, 'directory' | 'pods' | 'activatorPort'>): Promise<ChurnEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-churn-'));
  const backends: HttpBackend[] = [];
  const close = async (): Promise<void> => {
    if (environment) {
      await stopEnvoy(environment.gateway);
      await environment.ferry.stop();
    }
    await Promise.all(backends.map((backend) => backend.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  let environment: ChurnEnvironment | undefined;
  try {
    // Pods and activator keep idle connections open, as Go servers do by default: with Node's 5 s keep-alive timeout,
    // now and then a backend closes a connection just as the gateway sends on it, a 503 no control plane can prevent.
    for (const name of ['pod-a', 'pod-b', 'pod-c', 'activator']) backends.push(await startHttpBackend({ name, keepAliveTimeoutMs: 0 }));
    const world = new ChurnWorld({ ...options, directory: dir, pods: backends.slice(0, 3), activatorPort: backends[3]!.port });
    world.writeAll();
    // FERRY_TEST_ROUTE_TABLES and FERRY_TEST_CLUSTERS apply to the child process too.
    const { routeTables, routeTableShards } = routeTablesFromEnvironment();
    const { clusters } = clustersFromEnvironment();
    const ferry = await FerryProcess.start({ manifests: dir, envoy: 'none', routeTables, routeTableShards, clusters });
    const gateway = await startEnvoy({ xdsPort: ferry.xdsPort, role: 'both', mode: 'delta', nodeId: 'churn-gateway', waitReady: true });
    environment = {
      world, ferry, gateway, close,
      restartFerry() {
        environment!.ferry = environment!.ferry.restart();
        return environment!.ferry;
      },
    };
    await waitFor(async () => (await world.problems(ferry.ports)).length === 0, 30_000, 'every route of the initial state served');
    return environment;
  } catch (error) {
    await close();
    throw error;
  }
}

export interface ChurnOptions {
  world: ChurnWorld;
  /** The Ferry serving the folder now; undefined while it is down (changes are then only written, read at its restart). */
  ferry: () => FerryProcess | undefined;
  changes: number;
  /** Stop after this long even if fewer changes were made. */
  timeBudgetMs: number;
  /** Pause after each change, so that traffic meets every state (default 100 ms). */
  pauseMs?: number;
  /** Awaited before change `index` (0-based): a crash, a gateway joining. */
  before?: (index: number) => Promise<void> | void;
}

export interface ChurnResult {
  /** Changes written to the folder. */
  written: number;
  /** Of those, changes a running Ferry read and applied within 5 s of the write. */
  applied: number;
  /** Changes a running Ferry did not apply within 5 s. */
  unseen: Array<{ index: number; kind: ChangeKind }>;
  byKind: Record<ChangeKind, number>;
  elapsedMs: number;
}

const SEEN_TIMEOUT_MS = 5_000;

/**
 * Makes `changes` random changes to the world, one at a time: each written, then (while Ferry runs) waited for until
 * Ferry logs that it applied the folder's new state, then a pause. Bounded by count and by time.
 */
export async function runChurn(options: ChurnOptions): Promise<ChurnResult> {
  const started = Date.now();
  const byKind = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, 0])) as Record<ChangeKind, number>;
  const result: ChurnResult = { written: 0, applied: 0, unseen: [], byKind, elapsedMs: 0 };
  for (let index = 0; index < options.changes && Date.now() - started < options.timeBudgetMs; index++) {
    await options.before?.(index);
    const ferry = options.ferry();
    const applied = ferry ? nextApplied(ferry) : undefined;
    const kind = options.world.change();
    result.written += 1;
    byKind[kind] += 1;
    if (applied) {
      if (await applied) result.applied += 1;
      else result.unseen.push({ index, kind });
    }
    await sleep(options.pauseMs ?? 100);
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

/** Resolves true at Ferry's next "manifests applied" log line, false after SEEN_TIMEOUT_MS or if it exits first. */
function nextApplied(ferry: FerryProcess): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (seen: boolean): void => {
      off();
      clearTimeout(timer);
      clearInterval(alive);
      resolve(seen);
    };
    const off = ferry.onLog((line) => {
      if (line.msg === 'manifests applied') finish(true);
    });
    const timer = setTimeout(() => finish(false), SEEN_TIMEOUT_MS);
    const alive = setInterval(() => {
      if (!ferry.running) finish(false);
    }, 100);
  });
}

/** The figures a reliability suite prints at its end, on one line. */
export interface ReliabilityFigures {
  requestsSent: number;
  requestsFailed: number;
  changesApplied: number;
  crashesSurvived: number;
}

export function reliabilityLine(suite: string, figures: ReliabilityFigures, extra: Record<string, string | number> = {}): string {
  const parts = [
    `requests sent ${figures.requestsSent}`, `requests failed ${figures.requestsFailed}`,
    `changes applied ${figures.changesApplied}`, `crashes survived ${figures.crashesSurvived}`,
    ...Object.entries(extra).map(([name, value]) => `${name} ${value}`),
  ];
  return `RELIABILITY ${suite}: ${parts.join(', ')}`;
}
