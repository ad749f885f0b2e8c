/**
 * Shared slabs for the encoded resources' bytes. An ArrayBuffer per resource costs ~400 bytes of heap objects
 * and allocator overhead besides its bytes (60 MB of RSS for the ~150k resources of 10k KIngresses); slabs share
 * one ArrayBuffer among hundreds of resources.
 *
 * Slab space is written once and never reused, so a view handed out (a response being written) stays valid, and
 * a slab is freed by the garbage collector when no resource refers to it any more. What a live resource keeps
 * alive of dead neighbours is bounded by compact(): a slab less than half live has its residents moved out.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger byte strings get a buffer of their own: they would leave a slab's tail unused. */
const OWN_BUFFER_ABOVE = 8 * 1024;
/** Below this much new allocation a compaction is not worth a pass over every resource. */
const MIN_COMPACTION_BYTES = 16 * 2 ** 20;

/** Something whose bytes live in the arena and can be moved (the cache's resources, virtual hosts). */
export interface ArenaResident {
  /** The slab it is in, or any view of that slab. */
  readonly slab: Uint8Array;
  readonly size: number;
  /** Copies the bytes to `slab` at `offset` (allocated for it) and uses them from now on. */
  moveTo(slab: Uint8Array, offset: number): void;
}

export interface ArenaSpace {
  slab: Uint8Array;
  offset: number;
}

export class ResourceArena {
  private current = new Uint8Array(0);
  private used = 0;
  private readonly slabs = new WeakSet<ArrayBufferLike>();
  private allocatedSinceCompaction = 0;
  private liveAtCompaction = 0;

  /** Space for `size` bytes that nobody else will write. */
  allocate(size: number): ArenaSpace {
    this.allocatedSinceCompaction += size;
    if (size > OWN_BUFFER_ABOVE) return { slab: new Uint8Array(size), offset: 0 };
    if (this.used + size > this.current.length) {
      this.current = new Uint8Array(SLAB_SIZE);
      this.slabs.add(this.current.buffer);
      this.used = 0;
    }
    const space = { slab: this.current, offset: this.used };
    this.used += size;
    return space;
  }

  /** True when enough was allocated since the last compaction (as much as was live then) to pay for another. */
  get wantsCompaction(): boolean {
    return this.allocatedSinceCompaction > Math.max(this.liveAtCompaction, MIN_COMPACTION_BYTES);
  }

  /**
   * Moves the residents of slabs that are less than half live into the current slab, so that their slabs can be
   * freed. `residents` must be every long-lived resident (the cache's resources); a slab none of them is in is
   * left alone, it is garbage or holds short-lived bytes.
   */
  compact(residents: readonly ArenaResident[]): void {
    const live = new Map<ArrayBufferLike, number>();
    let liveBytes = 0;
    for (const resident of residents) {
      liveBytes += resident.size;
      const slab = resident.slab.buffer;
      if (this.slabs.has(slab) && slab !== this.current.buffer) live.set(slab, (live.get(slab) ?? 0) + resident.size);
    }
    for (const resident of residents) {
      const bytes = live.get(resident.slab.buffer);
      if (bytes === undefined || bytes >= SLAB_SIZE / 2) continue;
      const space = this.allocate(resident.size);
      resident.moveTo(space.slab, space.offset);
    }
    this.liveAtCompaction = liveBytes;
    this.allocatedSinceCompaction = 0;
  }
}

/** The process's arena: every encoded resource is in it. */
export const resourceArena = new ResourceArena();
