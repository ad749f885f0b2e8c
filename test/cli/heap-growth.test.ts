import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../src/cli/heap-growth.js';

describe('limitHeapGrowth', () => {
  it('sets V8 heap growth unless node was given its own', () => {
    const set: string[] = [];
    expect(limitHeapGrowth(['--inspect'], (flags) => set.push(flags))).toBe(true);
    expect(limitHeapGrowth(['--heap-growing-percent=80'], (flags) => set.push(flags))).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent', '80'], (flags) => set.push(flags))).toBe(false);
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });
});
