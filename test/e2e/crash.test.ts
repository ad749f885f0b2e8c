import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promByLabel } from '../../bench/stats.js';
import type { FerryProcess } from '../../bench/ferry-process.js';
import type { ObjectRow } from '../../src/status/views.js';
import { reliabilityLine, runChurn, startChurnEnvironment, type ChurnEnvironment } from './harness/churn-run.js';
import { compareHeld, configurationOf, heldResources, type HeldResource } from './harness/envoy-dump.js';
import { printEnvoyLogsOnFailure, startEnvoy, stopAllEnvoys, stopEnvoy, waitFor } from './harness/index.js';
import { clustersFromEnvironment } from './harness/ferry.js';
import { routeLoad, type RouteLoad, type RouteLoadResult } from './harness/route-load.js';

/*
 * Issue 14, crashes: `ferry serve` (a child process) killed with SIGKILL under load, alone and in the middle of churn,
 * and its gateway Envoy killed and restarted. No request may be lost to a Ferry crash (the gateway keeps serving what it
 * has), the restarted Ferry re-sends nothing the gateway already holds, and a restarted gateway gets everything.
 */

/** Envoy's counters of updates it took and resources it applied: a Ferry restart with the same content must not move them. */
const APPLIED_CHANGE_STATS = [
  'cluster_manager.cluster_added', 'cluster_manager.cluster_modified', 'cluster_manager.cluster_removed',
  'listener_manager.listener_added', 'listener_manager.listener_modified', 'listener_manager.listener_removed',
  'listener_manager.listener_in_place_updated', 'cluster_manager.cds.update_success', 'listener_manager.lds.update_success',
];

describe('crashes under load: Ferry and its gateway killed with SIGKILL', () => {
  printEnvoyLogsOnFailure();
  let env: ChurnEnvironment;
  const figures = { requestsSent: 0, requestsFailed: 0, changesApplied: 0, crashesSurvived: 0 };

  beforeAll(async () => {
    env = await startChurnEnvironment({ seed: 15, untouchedApps: 30 });
  });
  afterAll(async () => {
    console.log(reliabilityLine('crash', figures));
    await env?.close();
    await stopAllEnvoys();
  });

  const connected = (state: 0 | 1) => waitFor(async () => (await env.gateway.admin.stat('control_plane.connected_state')) === state, 30_000, `the gateway ${state ? 'connected to' : 'disconnected from'} Ferry`);
  const appliedChanges = async (): Promise<Record<string, number>> =>
    Object.fromEntries(await Promise.all(APPLIED_CHANGE_STATS.map(async (name) => [name, await env.gateway.admin.stat(name)] as const)));
  const pushes = async (ferry: FerryProcess): Promise<Record<string, number>> => promByLabel(await ferry.metrics(), 'ferry_xds_pushes_total', 'type');
  const loadOnStableRoutes = (): RouteLoad => routeLoad({ targets: env.world.stableTargets(env.ferry.ports), concurrency: 8, durationMs: 150_000, maxRequests: 1_000_000 });
  const moreRequests = async (load: RouteLoad, count: number, what: string) => {
    const from = load.sent;
    await waitFor(() => load.sent >= from + count, 20_000, `${count} more requests ${what}`);
  };
  const counted = (result: RouteLoadResult): RouteLoadResult => {
    figures.requestsSent += result.sent;
    figures.requestsFailed += result.failed;
    return result;
  };

  /** Kills Ferry with SIGKILL and waits until its gateway noticed. */
  const killFerry = async (): Promise<void> => {
    await env.ferry.kill('SIGKILL');
    figures.crashesSurvived += 1;
    await connected(0);
  };
  const restartFerry = async (): Promise<FerryProcess> => {
    const ferry = env.restartFerry();
    await connected(1);
    await waitFor(() => ferry.synced(), 30_000, 'the restarted Ferry synced with its gateway');
    return ferry;
  };

  it('loses no request when Ferry is killed under load, and the restarted Ferry sends the gateway nothing', { timeout: 120_000 }, async () => {
    await waitFor(() => env.ferry.synced(), 30_000, 'the gateway synced');
    const load = loadOnStableRoutes();
    let held: HeldResource[] = [];
    let stats: Awaited<ReturnType<typeof appliedChanges>> | undefined;
    let restarted: FerryProcess;
    let traffic: RouteLoadResult;
    try {
      await moreRequests(load, 300, 'before the crash');
      // Taken once requests flow: with FERRY_TEST_CLUSTERS=on-demand the gateway loads the routes' clusters on them.
      held = await heldResources(env.gateway.admin);
      stats = await appliedChanges();
      await killFerry();
      await moreRequests(load, 1_000, 'while Ferry is down');
      restarted = await restartFerry();
      await moreRequests(load, 1_000, 'after the restart');
    } finally {
      traffic = counted(await load.stop());
    }
    expect(traffic.failures, `${traffic.failed} of ${traffic.sent} requests failed`).toEqual([]);
    // Same files, same content hashes: the gateway's versions match Ferry's, so not one response was due.
    expect(await pushes(restarted)).toEqual({});
    expect(compareHeld(held, await heldResources(env.gateway.admin))).toEqual({ added: [], removed: [], resentUnchanged: [], updated: [], untouched: held.length });
    expect(await appliedChanges()).toEqual(stats);
    expect(await env.world.problems(env.ferry.ports)).toEqual([]);
    // The gateway took nothing new, yet it holds everything: every KIngress is Ready again under the new Ferry.
    const rows = await (await fetch(`http://127.0.0.1:${restarted.adminPort}/debug/objects?kind=ingresses`)).json() as ObjectRow[];
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((row) => row.ready !== 'True').map((row) => `${row.name}: ${row.reason} ${row.message}`)).toEqual([]);
  });

  it('loses no request when Ferry is killed in the middle of churn; the restarted Ferry sends only what changed while it was down', { timeout: 240_000 }, async () => {
    const KILL_AT = 60;
    const RESTART_AT = 90;
    let down = false;
    let held: HeldResource[] = [];
    let afterRestart: ReturnType<typeof compareHeld> | undefined;
    const load = loadOnStableRoutes();
    let traffic: RouteLoadResult;
    try {
      await moreRequests(load, 300, 'before the churn');
      const churn = await runChurn({
        world: env.world, ferry: () => (down ? undefined : env.ferry), changes: 180, timeBudgetMs: 150_000, pauseMs: 80,
        before: async (index) => {
          if (index === KILL_AT) {
            await waitFor(() => env.ferry.synced(), 30_000, 'the gateway synced before the crash');
            held = await heldResources(env.gateway.admin);
            await killFerry();
            down = true;
          } else if (index === RESTART_AT) {
            await restartFerry();
            down = false;
            afterRestart = compareHeld(held, await heldResources(env.gateway.admin));
          }
        },
      });
      figures.changesApplied += churn.written;
      expect(churn.unseen).toEqual([]);
      await waitFor(() => env.ferry.synced(), 30_000, 'the gateway synced with the final state');
      await moreRequests(load, 500, 'over the final state');
    } finally {
      traffic = counted(await load.stop());
    }
    expect(traffic.failures, `${traffic.failed} of ${traffic.sent} requests failed`).toEqual([]);
    // The changes made while Ferry was down reached the gateway; nothing it held unchanged was sent again.
    expect(afterRestart!.updated.length + afterRestart!.added.length + afterRestart!.removed.length).toBeGreaterThan(0);
    expect(afterRestart!.resentUnchanged).toEqual([]);
    console.log(`crash: after the restart the gateway took ${afterRestart!.updated.length} updated, ${afterRestart!.added.length} added and ${afterRestart!.removed.length} removed resources; ${afterRestart!.untouched} untouched`);
    expect(await env.world.problems(env.ferry.ports)).toEqual([]);
    expect((await env.world.measureSplits(env.ferry.ports, 2_000)).problems).toEqual([]);
  });

  it('gives a gateway killed with SIGKILL, and restarted, the full configuration, changes made while it was down included', { timeout: 120_000 }, async () => {
    const restarted = new Promise((resolve) => env.gateway.once('start', resolve));
    process.kill(env.gateway.pid!, 'SIGKILL');
    figures.crashesSurvived += 1;
    const churn = await runChurn({ world: env.world, ferry: () => env.ferry, changes: 20, timeBudgetMs: 30_000, pauseMs: 20 });
    figures.changesApplied += churn.written;
    await restarted;
    await env.gateway.ready();
    await waitFor(() => env.ferry.synced(), 30_000, 'the restarted gateway synced');
    expect(await env.world.problems(env.ferry.ports)).toEqual([]);
    expect((await env.world.measureSplits(env.ferry.ports, 2_000)).problems).toEqual([]);

    // A gateway that never crashed, started now, holds exactly what the restarted one holds.
    const fresh = await startEnvoy({ xdsPort: env.ferry.xdsPort, role: 'both', mode: 'delta', nodeId: 'fresh-gateway', waitReady: true });
    try {
      await waitFor(() => env.ferry.synced(2), 30_000, 'the fresh gateway synced');
      // With FERRY_TEST_CLUSTERS=on-demand a gateway holds the Service clusters its requests needed: the fresh one none yet.
      const alike = (held: HeldResource[]) => configurationOf(clustersFromEnvironment().clusters === 'on-demand' ? held.filter((resource) => !isServiceClusterOrEndpoints(resource.key)) : held);
      expect(alike(await heldResources(env.gateway.admin))).toEqual(alike(await heldResources(fresh.admin)));
    } finally {
      await stopEnvoy(fresh);
    }
  });
});

/** A Service cluster (`cluster/namespace/name:port`) or its endpoints, which on-demand gateways load per request. */
function isServiceClusterOrEndpoints(key: string): boolean {
  const [kind, ...name] = key.split('/');
  return (kind === 'cluster' || kind === 'endpoints') && name.length > 1;
}
