import { hash } from 'node:crypto';

/** Four 32-bit lanes: a 128-bit order-independent sum of per-resource digests. */
export type Digest = readonly [number, number, number, number];

/**
 * The digest of one resource: its name and content hash, so that a rename changes the version too.
 * Callers recompute it on removal instead of storing it (one small array per resource adds up at 10^5).
 */
export function resourceDigest(name: string, contentHash: string): Digest {
  const d = hash('sha256', `${name}\0${contentHash}`, 'buffer');
  return [d.readUInt32BE(0), d.readUInt32BE(4), d.readUInt32BE(8), d.readUInt32BE(12)];
}

/**
 * A set's version, maintained in O(1) per change: the lane-wise sum (mod 2^32) of its members' digests.
 * It depends only on the content, never on order, time or process, so every Ferry replica and every
 * restart computes the same version for the same resources; the empty set is all zeros.
 */
export class VersionAccumulator {
  private readonly lanes = [0, 0, 0, 0];

  add(digest: Digest): void {
    for (let i = 0; i < 4; i++) this.lanes[i] = (this.lanes[i]! + digest[i]!) >>> 0;
  }

  remove(digest: Digest): void {
    for (let i = 0; i < 4; i++) this.lanes[i] = (this.lanes[i]! - digest[i]! + 0x1_0000_0000) >>> 0;
  }

  get value(): Digest {
    return [this.lanes[0]!, this.lanes[1]!, this.lanes[2]!, this.lanes[3]!];
  }
}

/** The version string of a union of sets: the sum of their accumulators, as 32 hex characters. */
export function formatVersion(parts: readonly Digest[]): string {
  const lanes = [0, 0, 0, 0];
  for (const part of parts) for (let i = 0; i < 4; i++) lanes[i] = (lanes[i]! + part[i]!) >>> 0;
  return lanes.map((lane) => lane.toString(16).padStart(8, '0')).join('');
}
