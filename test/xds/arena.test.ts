import { describe, expect, it } from 'vitest';
import { ResourceArena, type ArenaResident } from '../../src/xds/arena.js';

/** A resident that holds `size` bytes of `fill` in the arena. */
function resident(arena: ResourceArena, size: number, fill: number): ArenaResident & { bytes(): Uint8Array } {
  let { slab, offset } = arena.allocate(size);
  slab.fill(fill, offset, offset + size);
  return {
    get slab() {
      return slab;
    },
    size,
    moveTo(target, at) {
      target.set(slab.subarray(offset, offset + size), at);
      slab = target;
      offset = at;
    },
    bytes: () => slab.subarray(offset, offset + size),
  };
}

describe('ResourceArena', () => {
  it('packs small byte strings into shared slabs and gives large ones a buffer of their own', () => {
    const arena = new ResourceArena();
    const a = resident(arena, 100, 1);
    const b = resident(arena, 200, 2);
    const large = resident(arena, 20_000, 3);
    expect(a.slab).toBe(b.slab);
    expect(large.slab).not.toBe(a.slab);
    expect(large.slab.length).toBe(20_000);
  });

  it('moves the residents of mostly dead slabs out, keeping their bytes, and leaves well-used slabs alone', () => {
    const arena = new ResourceArena();
    // Two full slabs of 1 KB residents; most of the first dies, all of the second lives.
    const first = Array.from({ length: 64 }, (_, i) => resident(arena, 1024, i));
    const second = Array.from({ length: 64 }, (_, i) => resident(arena, 1024, 100 + i));
    expect(first[0]!.slab).not.toBe(second[0]!.slab);
    const firstSlab = first[0]!.slab;
    const secondSlab = second[0]!.slab;
    resident(arena, 1024, 255); // a third slab becomes the current one
    const survivors = first.slice(0, 3);
    arena.compact([...survivors, ...second]);
    for (const [i, survivor] of survivors.entries()) {
      expect(survivor.slab).not.toBe(firstSlab);
      expect([...new Set(survivor.bytes())]).toEqual([i]);
    }
    for (const kept of second) expect(kept.slab).toBe(secondSlab);
  });
});
