import type { TypeUrl } from './resource-types.js';
import type { GatewayRole } from './roles.js';

export type XdsProtocol = 'sotw' | 'delta';

/** A resource content that a gateway rejected: it keeps its last good one, and Ferry does not send this content again. */
export interface Rejection {
  /** Content hash of the rejected resource. */
  readonly hash: string;
  /** error_detail.message of the NACK. */
  readonly message: string;
  readonly time: Date;
}

/** Per type of one stream, what was sent and what the gateway answered. */
export interface StreamTypeInfo {
  readonly typeUrl: TypeUrl;
  /** The cache version of the last response sent ('' before any). */
  readonly sentVersion: string;
  readonly sentNonce: string;
  /** The last version the gateway ACKed ('' before any). */
  readonly ackedVersion: string;
  /** True while the last response has neither been ACKed nor NACKed. */
  readonly awaitingAck: boolean;
  /** error_detail.message of the last NACK, until a later ACK or until Ferry found which resources it was about. */
  readonly lastNack: string | undefined;
  /** The resources of this type the gateway rejects now, by name: a live view. */
  readonly rejected: ReadonlyMap<string, Rejection>;
  readonly wildcard: boolean;
  /** The names subscribed to: a live view, not a copy (a gateway may subscribe to tens of thousands of routes). */
  readonly subscribed: ReadonlySet<string>;
}

/** One connected gateway stream, as `ferry status` and the admin endpoints show it: a live view, not a snapshot. */
export interface StreamInfo {
  readonly id: string;
  readonly nodeId: string;
  readonly nodeCluster: string;
  readonly roles: readonly GatewayRole[];
  readonly peer: string;
  readonly protocol: XdsProtocol;
  readonly connectedAt: Date;
  readonly types: readonly StreamTypeInfo[];
}
