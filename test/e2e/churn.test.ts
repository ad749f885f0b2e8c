import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedEnvoy } from '../../src/envoy/managed-envoy.js';
import { reliabilityLine, runChurn, startChurnEnvironment, type ChurnEnvironment, type ChurnResult } from './harness/churn-run.js';
import { configurationOf, heldResources } from './harness/envoy-dump.js';
import { printEnvoyLogsOnFailure, startEnvoy, stopAllEnvoys, waitFor } from './harness/index.js';
import { routeLoad, type RouteLoadResult } from './harness/route-load.js';

/*
 * Issue 14, churn under load: `ferry serve` (files mode, a child process) and a real gateway Envoy, continuous traffic
 * over every route that stays defined while hundreds of mixed changes land (split shifts, backend swaps, scale to zero
 * and back through the activator, certificate rotations, ingresses and DomainMappings added and removed). A second
 * gateway (state-of-the-world ADS, the first is delta) joins halfway and must end with exactly the same configuration.
 * FERRY_CHURN_CHANGES raises the count (the long soak is `node dist/bench/soak.js`).
 */

const CHANGES = Number(process.env.FERRY_CHURN_CHANGES ?? 500);
const CHURN_BUDGET_MS = Math.max(150_000, CHANGES * 400);
const SPLIT_SAMPLES = 2_000;

describe('churn under load through Ferry and real Envoy gateways', () => {
  printEnvoyLogsOnFailure();
  let env: ChurnEnvironment;

  beforeAll(async () => {
    env = await startChurnEnvironment({ seed: 14, untouchedApps: 40 });
  });
  afterAll(async () => {
    await env?.close();
    await stopAllEnvoys();
  });

  it(`applies ${CHANGES} mixed changes under load without a failed request, ends in the last state, and a gateway joining midway converges to the same configuration`, { timeout: CHURN_BUDGET_MS + 180_000 }, async () => {
    const { world, ferry, gateway } = env;
    let second: ManagedEnvoy | undefined;
    const load = routeLoad({ targets: world.stableTargets(ferry.ports), concurrency: 8, durationMs: CHURN_BUDGET_MS + 60_000, maxRequests: 2_000_000 });
    let churn: ChurnResult;
    let traffic: RouteLoadResult;
    try {
      await waitFor(() => load.sent >= 200, 15_000, 'traffic flowing');
      churn = await runChurn({
        world, ferry: () => ferry, changes: CHANGES, timeBudgetMs: CHURN_BUDGET_MS, pauseMs: 80,
        before: async (index) => {
          if (index === Math.floor(CHANGES / 2)) second = await startEnvoy({ xdsPort: ferry.xdsPort, role: 'both', mode: 'sotw', nodeId: 'churn-gateway-2' });
        },
      });
      await waitFor(() => ferry.synced(2), 30_000, 'both gateways synced with the final state');
      // Traffic goes on a little after the last change, over the final state.
      const final = load.sent;
      await waitFor(() => load.sent >= final + 500, 15_000, 'traffic over the final state');
    } finally {
      traffic = await load.stop();
    }
    console.log(reliabilityLine('churn', { requestsSent: traffic.sent, requestsFailed: traffic.failed, changesApplied: churn.applied, crashesSurvived: 0 }, { 'changes by kind': JSON.stringify(churn.byKind), seconds: Math.round(churn.elapsedMs / 1000) }));

    const closedUnderRequest = async (envoy: ManagedEnvoy) => [...(await envoy.admin.stats('upstream_cx_destroy_remote_with_active_rq$')).values()].reduce((a, b) => a + b, 0);
    expect(traffic.failures, `${traffic.failed} of ${traffic.sent} requests failed; upstream connections closed by a backend under a request: ${await closedUnderRequest(gateway)} and ${second ? await closedUnderRequest(second) : '-'}`).toEqual([]);
    // The gateways share the listener ports (SO_REUSEPORT): the one that joined took its part of the traffic.
    const answeredBySecond = [...(await second!.admin.stats('^http\\..*\\.downstream_rq_2xx$')).values()].reduce((a, b) => a + b, 0);
    expect(answeredBySecond).toBeGreaterThan(0);
    expect(churn.written).toBe(CHANGES);
    expect(churn.unseen).toEqual([]);
    expect(Object.values(churn.byKind).every((count) => count > 0), JSON.stringify(churn.byKind)).toBe(true);

    // Whichever gateway the kernel hands a connection to (they share the listener ports), it serves the final state.
    expect(await world.problems(ferry.ports)).toEqual([]);
    const splits = await world.measureSplits(ferry.ports, SPLIT_SAMPLES);
    console.log(`churn: split shares at the end ${JSON.stringify(splits.shares)}`);
    expect(splits.problems).toEqual([]);

    const first = configurationOf(await heldResources(gateway.admin));
    // Not a near-empty dump: the world's clusters, secrets and route tables (fewer tables with sharded route tables).
    expect(first.length).toBeGreaterThan(50);
    expect(configurationOf(await heldResources(second!.admin))).toEqual(first);
  });
});
