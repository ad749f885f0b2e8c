import { REFERRING_TYPES, TypeUrl } from './resource-types.js';
import type { GatewayRole } from './roles.js';

/** Removals that wait for make-before-break: what refers to them may still be in a gateway. */
export const RETAINED_TYPES: ReadonlySet<TypeUrl> = new Set([TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Secret]);

export interface RetainedItem {
  readonly typeUrl: TypeUrl;
  readonly name: string;
}

/** One batch of removals of one role and what it waits for: per stream, the referring versions to be ACKed. */
export interface Barrier {
  readonly role: GatewayRole;
  readonly items: readonly RetainedItem[];
  readonly waiting: Map<string, Map<TypeUrl, string>>;
}

interface StreamAcks {
  readonly roles: readonly GatewayRole[];
  readonly acked: Map<TypeUrl, string>;
}

export type CurrentVersion = (roles: readonly GatewayRole[], typeUrl: TypeUrl) => string;

/**
 * Bookkeeping of make-before-break removals, without the resources themselves: which streams have ACKed
 * which Listener/Route versions, and which removal batches are still waiting for them. A stream is
 * waited for only on the referring types it has ACKed at least once (a stream that never asked for
 * routes has none that could refer to anything).
 */
export class RemovalBarriers {
  private readonly streams = new Map<string, StreamAcks>();
  private readonly barriers = new Set<Barrier>();

  /** Starts a barrier for removals of `role`; undefined when no connected stream has to ACK anything first. */
  open(role: GatewayRole, items: readonly RetainedItem[], current: CurrentVersion): Barrier | undefined {
    const waiting = new Map<string, Map<TypeUrl, string>>();
    for (const [streamId, stream] of this.streams) {
      if (!stream.roles.includes(role)) continue;
      const needed = new Map<TypeUrl, string>();
      for (const typeUrl of REFERRING_TYPES) {
        const acked = stream.acked.get(typeUrl);
        if (acked === undefined) continue;
        const version = current(stream.roles, typeUrl);
        if (acked !== version) needed.set(typeUrl, version);
      }
      if (needed.size > 0) waiting.set(streamId, needed);
    }
    if (waiting.size === 0) return undefined;
    const barrier: Barrier = { role, items, waiting };
    this.barriers.add(barrier);
    return barrier;
  }

  /** Records an ACK; returns the barriers it released. */
  acked(streamId: string, roles: readonly GatewayRole[], typeUrl: TypeUrl, version: string, current: CurrentVersion): Barrier[] {
    let stream = this.streams.get(streamId);
    if (!stream) {
      stream = { roles: [...roles], acked: new Map() };
      this.streams.set(streamId, stream);
    }
    stream.acked.set(typeUrl, version);
    return this.release(current);
  }

  /** Forgets a stream; returns the barriers that only waited for it. */
  closed(streamId: string, current: CurrentVersion): Barrier[] {
    this.streams.delete(streamId);
    for (const barrier of this.barriers) barrier.waiting.delete(streamId);
    return this.release(current);
  }

  /** Re-checks after a Listener/Route change (a stream may already hold the new current version). */
  versionsChanged(current: CurrentVersion): Barrier[] {
    return this.release(current);
  }

  get pending(): number {
    return this.barriers.size;
  }

  /** An ACK satisfies a barrier if it is of the version current at removal, or of the version current now. */
  private release(current: CurrentVersion): Barrier[] {
    const released: Barrier[] = [];
    for (const barrier of this.barriers) {
      for (const [streamId, needed] of barrier.waiting) {
        const stream = this.streams.get(streamId);
        if (!stream) {
          barrier.waiting.delete(streamId);
          continue;
        }
        for (const [typeUrl, version] of needed) {
          const acked = stream.acked.get(typeUrl);
          if (acked === version || acked === current(stream.roles, typeUrl)) needed.delete(typeUrl);
        }
        if (needed.size === 0) barrier.waiting.delete(streamId);
      }
      if (barrier.waiting.size === 0) {
        this.barriers.delete(barrier);
        released.push(barrier);
      }
    }
    return released;
  }
}
