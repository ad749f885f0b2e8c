import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CoalescingScheduler } from '../../src/serve/coalescing-scheduler.js';

describe('CoalescingScheduler', () => {
  it('runs once per burst, after the hold-off', async () => {
    let runs = 0;
    const scheduler = new CoalescingScheduler(() => runs++, 20, 1_000);
    scheduler.schedule();
    await sleep(5);
    scheduler.schedule();
    expect(runs).toBe(0);
    await sleep(60);
    expect(runs).toBe(1);
  });

  it('without a hold-off, runs once after the requests of the current turn', async () => {
    let runs = 0;
    const scheduler = new CoalescingScheduler(() => runs++, 0, 1_000);
    scheduler.schedule();
    scheduler.schedule();
    expect(runs).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    scheduler.schedule();
    scheduler.cancel();
    await sleep(5);
    expect(runs).toBe(1);
  });
});
