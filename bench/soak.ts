import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import type { ManagedEnvoy } from '../src/envoy/managed-envoy.js';
import { reliabilityLine, runChurn, startChurnEnvironment } from '../test/e2e/harness/churn-run.js';
import { configurationOf, heldResources } from '../test/e2e/harness/envoy-dump.js';
import { startEnvoy, stopEnvoy } from '../test/e2e/harness/envoy.js';
import { routeLoad } from '../test/e2e/harness/route-load.js';
import { waitFor } from '../test/e2e/harness/wait.js';

const USAGE = `Usage: node dist/bench/soak.js [flags]   (build first: npm run build)
The churn of test/e2e/churn.test.ts, longer: \`ferry serve\` and a gateway Envoy on loopback, bounded traffic over every
route that stays defined while mixed changes land, Ferry killed with SIGKILL and restarted along the way, a second
gateway joining halfway. Prints the figures, writes bench/results/soak-<time>.json, exits 1 on any failed request or
wrong end state.
  --changes N          changes to make (default 5000)
  --seed S             change-sequence seed (default 1)
  --untouched N        KIngresses no change touches, also under load (default 200)
  --crash-every N      kill Ferry (SIGKILL) every N changes, 0 for never (default 1000)
  --down-changes N     changes written while Ferry is down, before its restart (default 20)
  --pause-ms MS        pause after each change (default 50)
  --concurrency N      requests in flight (default 8)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      changes: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' }, untouched: { type: 'string', default: '200' },
      'crash-every': { type: 'string', default: '1000' }, 'down-changes': { type: 'string', default: '20' }, 'pause-ms': { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '8' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const number = (flag: keyof typeof values): number => {
    const value = Number(values[flag]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${flag} ${String(values[flag])}: expected a whole number\n${USAGE}`);
    return value;
  };
  const changes = number('changes');
  const crashEvery = number('crash-every');
  const downChanges = number('down-changes');
  if (crashEvery > 0 && downChanges >= crashEvery) throw new Error(`--down-changes ${downChanges}: must be below --crash-every ${crashEvery}`);

  const env = await startChurnEnvironment({ seed: number('seed'), untouchedApps: number('untouched') });
  let second: ManagedEnvoy | undefined;
  const errors: string[] = [];
  let crashes = 0;
  let down = false;
  // Bounded by count and time: as long as the changes may take at a slow pace, and a million requests an hour.
  const budgetMs = changes * 1_000 + 120_000;
  const load = routeLoad({ targets: env.world.stableTargets(env.ferry.ports), concurrency: number('concurrency'), durationMs: budgetMs, maxRequests: Math.ceil(budgetMs / 3.6) });
  try {
    const churn = await runChurn({
      world: env.world, ferry: () => (down ? undefined : env.ferry), changes, timeBudgetMs: budgetMs, pauseMs: number('pause-ms'),
      before: async (index) => {
        if (index === Math.floor(changes / 2)) second = await startEnvoy({ xdsPort: env.ferry.xdsPort, role: 'both', mode: 'sotw', nodeId: 'soak-gateway-2' });
        if (crashEvery > 0 && index > 0 && index % crashEvery === 0) {
          await env.ferry.kill('SIGKILL');
          crashes += 1;
          down = true;
        }
        if (down && index % crashEvery === downChanges) {
          env.restartFerry();
          await waitFor(() => env.ferry.synced(), 60_000, 'the restarted Ferry synced');
          down = false;
        }
        if (index % 500 === 0) process.stderr.write(`soak: ${index} changes, ${load.sent} requests, ${load.failed} failed, ${crashes} Ferry crashes\n`);
      },
    });
    if (down) env.restartFerry();
    await waitFor(() => env.ferry.synced(second ? 2 : 1), 60_000, 'the gateways synced with the final state');
    const traffic = await load.stop();
    const problems = await env.world.problems(env.ferry.ports);
    const splits = await env.world.measureSplits(env.ferry.ports, 2_000);
    const same = second ? isDeepStrictEqual(configurationOf(await heldResources(env.gateway.admin)), configurationOf(await heldResources(second.admin))) : true;
    if (traffic.failed > 0) errors.push(`${traffic.failed} requests failed, the first: ${JSON.stringify(traffic.failures.slice(0, 5))}`);
    if (churn.unseen.length > 0) errors.push(`${churn.unseen.length} changes were not applied by a running Ferry within 5 s`);
    errors.push(...problems, ...splits.problems);
    if (!same) errors.push('the gateway that joined halfway holds another configuration than the first');
    const figures = { requestsSent: traffic.sent, requestsFailed: traffic.failed, changesApplied: churn.written, crashesSurvived: crashes };
    const result = { figures, byKind: churn.byKind, elapsedSeconds: Math.round(churn.elapsedMs / 1000), splitShares: splits.shares, secondGatewaySame: same, errors };
    const file = join(repositoryRoot(), 'bench', 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(join(repositoryRoot(), 'bench', 'results'), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${reliabilityLine('soak', figures, { seconds: result.elapsedSeconds })}\n${errors.length === 0 ? 'no problem found' : errors.join('\n')}\nresults: ${file}\n`);
  } finally {
    await load.stop();
    if (second) await stopEnvoy(second);
    await env.close();
  }
  if (errors.length > 0) process.exitCode = 1;
}

await main();
