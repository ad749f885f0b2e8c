import { describe, expect, it, vi } from 'vitest';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { collectGarbageAfterBursts, collectGarbageOnceSynced, fullGarbageCollection, releaseMemory } from '../../src/cli/collect-after-sync.js';

function streamEvents(): { onStreamsChanged(listener: () => void): () => void; emit(): void; listeners: Set<() => void> } {
  const listeners = new Set<() => void>();
  return {
    listeners,
    onStreamsChanged: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: () => { for (const listener of [...listeners]) listener(); },
  };
}

describe('collectGarbageOnceSynced', () => {
  it('collects once, on a later turn, the first time the gateways are in sync, then stops listening', async () => {
    const events = streamEvents();
    let synced = false;
    let collections = 0;
    collectGarbageOnceSynced(events, () => synced, () => { collections += 1; });
    events.emit();
    await nextTurn();
    expect(collections).toBe(0);
    synced = true;
    events.emit();
    expect(collections).toBe(0);
    await nextTurn();
    expect(collections).toBe(1);
    expect(events.listeners.size).toBe(0);
    events.emit();
    await nextTurn();
    expect(collections).toBe(1);
  });

  it('collects at once when the gateways are already in sync', async () => {
    const events = streamEvents();
    let collections = 0;
    collectGarbageOnceSynced(events, () => true, () => { collections += 1; });
    await nextTurn();
    expect(collections).toBe(1);
    expect(events.listeners.size).toBe(0);
  });

  it('collects once without the gateways when they are not in sync within the fallback time', async () => {
    const events = streamEvents();
    let collections = 0;
    collectGarbageOnceSynced(events, () => false, () => { collections += 1; }, 20);
    await nextTurn();
    expect(collections).toBe(0);
    await sleep(60);
    expect(collections).toBe(1);
    expect(events.listeners.size).toBe(0);
  });

  it('does not collect a second time when the fallback time passes after the gateways synced', async () => {
    const events = streamEvents();
    let collections = 0;
    collectGarbageOnceSynced(events, () => true, () => { collections += 1; }, 20);
    await sleep(60);
    expect(collections).toBe(1);
  });

  it('frees unreachable objects', async () => {
    let garbage: object | undefined = {};
    const ref = new WeakRef(garbage);
    garbage = undefined;
    // A WeakRef keeps its target alive until the end of the turn that made it.
    await nextTurn();
    fullGarbageCollection();
    expect(ref.deref()).toBeUndefined();
  });

  it('releaseMemory frees unreachable objects and shrinks the new space that allocation grew', async () => {
    const newSpace = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    // Objects that survive a scavenge or two make V8 grow the new space.
    let survivors: object[] = [];
    for (let i = 0; i < 2_000_000 && newSpace() < 8 * 2 ** 20; i += 1) {
      survivors.push({ i, s: `value ${i}` });
      if (survivors.length > 200_000) survivors = [];
    }
    const grown = newSpace();
    expect(grown).toBeGreaterThanOrEqual(8 * 2 ** 20);
    let garbage: object | undefined = {};
    const ref = new WeakRef(garbage);
    garbage = undefined;
    survivors = [];
    await nextTurn();
    await releaseMemory();
    expect(ref.deref()).toBeUndefined();
    expect(newSpace()).toBeLessThan(grown / 2);
    expect(survivors).toHaveLength(0);
  });
});

describe('collectGarbageAfterBursts', () => {
  function passEvents() {
    const passes = new Set<() => void>();
    return {
      onPass: (listener: () => void) => {
        passes.add(listener);
        return () => passes.delete(listener);
      },
      pass: () => { for (const listener of [...passes]) listener(); },
    };
  }

  it('collects when no pass has run for a while and the heap grew since the last collection, and only then', async () => {
    vi.useFakeTimers();
    try {
      const events = passEvents();
      let heap = 100;
      let collections = 0;
      const stop = collectGarbageAfterBursts(events, () => true, async () => { collections += 1; heap = 105; }, { quietMs: 100, growth: 1.3, heapSize: () => heap });
      heap = 125;
      await vi.advanceTimersByTimeAsync(300);
      expect(collections).toBe(0);
      heap = 140;
      // Passes keep coming: no collection while they do.
      for (let i = 0; i < 5; i++) {
        events.pass();
        await vi.advanceTimersByTimeAsync(60);
      }
      expect(collections).toBe(0);
      await vi.advanceTimersByTimeAsync(200);
      expect(collections).toBe(1);
      // The new baseline is the heap after the collection (105): 130 is not enough, 140 is.
      heap = 130;
      await vi.advanceTimersByTimeAsync(300);
      expect(collections).toBe(1);
      heap = 140;
      await vi.advanceTimersByTimeAsync(100);
      expect(collections).toBe(2);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits for the gateways to be in sync', async () => {
    vi.useFakeTimers();
    try {
      let synced = false;
      let collections = 0;
      let heap = 100;
      const stop = collectGarbageAfterBursts(passEvents(), () => synced, async () => { collections += 1; }, { quietMs: 100, heapSize: () => heap });
      heap = 200;
      await vi.advanceTimersByTimeAsync(500);
      expect(collections).toBe(0);
      synced = true;
      await vi.advanceTimersByTimeAsync(100);
      expect(collections).toBe(1);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
