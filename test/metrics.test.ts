import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { FerryMetrics } from '../src/metrics.js';

it('still sees a stalled event loop in its event-loop-delay metrics, sampling every 50 ms', async () => {
  const metrics = new FerryMetrics();
  await sleep(120);
  const stalledUntil = Date.now() + 150;
  while (Date.now() < stalledUntil) { /* a stall of the event loop */ }
  await sleep(120);
  const text = await metrics.registry.metrics();
  const max = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
  expect(max).toBeGreaterThanOrEqual(0.1);
});
