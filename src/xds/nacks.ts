import type { TypeUrl } from './resource-types.js';
import type { GatewayRole } from './roles.js';

/** A response that a gateway rejected: the last good version stays in the gateway. */
export interface NackEntry {
  readonly nodeId: string;
  readonly roles: readonly GatewayRole[];
  readonly typeUrl: TypeUrl;
  /** The version Ferry sent and the gateway rejected. */
  readonly version: string;
  readonly nonce: string;
  /**
   * The resources the rejection is about: the one resource the gateway rejected once Ferry found it (see
   * XdsStream.culprits), else every resource whose content was new in the rejected response.
   */
  readonly resourceNames: readonly string[];
  /** error_detail.message from the gateway: Envoy names the resource and the field it refused. */
  readonly message: string;
  readonly time: Date;
}

export type NackListener = (entry: NackEntry | undefined, nodeId: string, typeUrl: TypeUrl) => void;

/**
 * What each gateway node rejects now, per type and resource, until the gateway accepts that resource (a later content
 * ACKed) or disconnects, so that status, the admin endpoints and `ferry status` can tie a rejection to the objects that
 * caused it. A rejection outlives ACKs of other resources of its type: they say nothing of it.
 */
export class NackStore {
  /** By node and type: the entries in the order recorded. */
  private readonly entries = new Map<string, NackEntry[]>();
  private readonly listeners = new Set<NackListener>();

  /** Replaces the entries of the node and type that name any of the same resources. */
  record(entry: NackEntry): void {
    const names = new Set(entry.resourceNames);
    const kept = (this.entries.get(key(entry.nodeId, entry.typeUrl)) ?? []).filter((old) => !old.resourceNames.some((name) => names.has(name)));
    this.entries.set(key(entry.nodeId, entry.typeUrl), [...kept, entry]);
    for (const listener of this.listeners) listener(entry, entry.nodeId, entry.typeUrl);
  }

  /** The node ACKed a response that carried these resources (or removed them): their rejections are over. */
  accepted(nodeId: string, typeUrl: TypeUrl, resourceNames: Iterable<string>): void {
    const entries = this.entries.get(key(nodeId, typeUrl));
    if (!entries) return;
    const names = new Set(resourceNames);
    const kept = entries.filter((entry) => !entry.resourceNames.some((name) => names.has(name)));
    if (kept.length === entries.length) return;
    if (kept.length > 0) this.entries.set(key(nodeId, typeUrl), kept);
    else this.entries.delete(key(nodeId, typeUrl));
    for (const listener of this.listeners) listener(kept.at(-1), nodeId, typeUrl);
  }

  /** The node's stream closed: what it rejected is sent again, and judged again, when it reconnects. */
  forget(nodeId: string): void {
    for (const [entryKey, entries] of this.entries) {
      if (entries[0]!.nodeId !== nodeId) continue;
      this.entries.delete(entryKey);
      for (const listener of this.listeners) listener(undefined, nodeId, entries[0]!.typeUrl);
    }
  }

  /** The latest rejection of this node and type that is not over. */
  get(nodeId: string, typeUrl: TypeUrl): NackEntry | undefined {
    return this.entries.get(key(nodeId, typeUrl))?.at(-1);
  }

  list(): NackEntry[] {
    return [...this.entries.values()].flat();
  }

  /** Called with the latest entry left on a change, undefined when a node has none left for the type. */
  onChange(listener: NackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function key(nodeId: string, typeUrl: TypeUrl): string {
  return `${nodeId}\n${typeUrl}`;
}
