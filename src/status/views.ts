import type { Condition } from '../model/meta.js';
import type { SyncState } from './sync-state.js';

/** One row of `ferry get`: what kn shows (NAME, URL, READY, REASON) plus the whole status for -o json|yaml. */
export interface ObjectRow {
  kind: string;
  namespace: string;
  name: string;
  url: string;
  ready: Condition['status'];
  reason: string;
  message: string;
  conditions: Condition[];
  [extra: string]: unknown;
}

/** One resource type of one gateway, for `ferry status`. */
export interface GatewayTypeStatus {
  type: string;
  /** CDS, EDS, SDS, LDS, RDS. */
  api: string;
  sentVersion: string;
  ackedVersion: string;
  currentVersion: string;
  state: SyncState;
  /** Envoy's error_detail message of the last NACK. */
  error?: string;
}

export interface GatewayStatus {
  nodeId: string;
  nodeCluster: string;
  roles: string[];
  address: string;
  protocol: string;
  connectedAt: string;
  synced: boolean;
  types: GatewayTypeStatus[];
}

export interface StatusReport {
  /** The reconcile pass Ferry serves now. */
  pass: number;
  gateways: GatewayStatus[];
  /** Rejected responses per gateway and type, with the resources they carried. */
  nacks: Array<{ nodeId: string; type: string; version: string; resources: string[]; message: string; time: string }>;
  /** Problems the source found in the manifests (formatted: file (document N) Kind ns/name: field: message). */
  problems: Array<{ severity: string; message: string }>;
}

export function readyOf(conditions: readonly Condition[]): Pick<ObjectRow, 'ready' | 'reason' | 'message'> {
  const ready = conditions.find((c) => c.type === 'Ready');
  return { ready: ready?.status ?? 'Unknown', reason: ready?.reason ?? '', message: ready?.message ?? '' };
}
