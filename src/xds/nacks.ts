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
  /** Names of the resources in the rejected response (for delta: the resources that response carried). */
  readonly resourceNames: readonly string[];
  /** error_detail.message from the gateway: Envoy names the resource and the field it refused. */
  readonly message: string;
  readonly time: Date;
}

export type NackListener = (entry: NackEntry | undefined, nodeId: string, typeUrl: TypeUrl) => void;

/**
 * The latest NACK per gateway node and type, until a later version of that type is ACKed, so that status,
 * the admin endpoints and `ferry status` can tie a rejection to the objects that caused it.
 */
export class NackStore {
  private readonly entries = new Map<string, NackEntry>();
  private readonly listeners = new Set<NackListener>();

  record(entry: NackEntry): void {
    this.entries.set(key(entry.nodeId, entry.typeUrl), entry);
    for (const listener of this.listeners) listener(entry, entry.nodeId, entry.typeUrl);
  }

  /** A later version of this type was ACKed by this node: its rejection is over. */
  clear(nodeId: string, typeUrl: TypeUrl): void {
    if (!this.entries.delete(key(nodeId, typeUrl))) return;
    for (const listener of this.listeners) listener(undefined, nodeId, typeUrl);
  }

  get(nodeId: string, typeUrl: TypeUrl): NackEntry | undefined {
    return this.entries.get(key(nodeId, typeUrl));
  }

  list(): NackEntry[] {
    return [...this.entries.values()];
  }

  /** Called with the new entry on a NACK, and with undefined when a node's NACK for a type is cleared. */
  onChange(listener: NackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function key(nodeId: string, typeUrl: TypeUrl): string {
  return `${nodeId}\n${typeUrl}`;
}
