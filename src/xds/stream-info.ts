import type { TypeUrl } from './resource-types.js';
import type { GatewayRole } from './roles.js';

export type XdsProtocol = 'sotw' | 'delta';

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
  /** error_detail.message of the last NACK, until a later ACK. */
  readonly lastNack: string | undefined;
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
