import type { ReconcileState } from './served-ingress.js';
import type { StreamInfo } from '../xds/stream-info.js';
import { GATEWAY_ROLES, type GatewayRole } from '../xds/roles.js';
import { streamSynced, type CurrentVersion, type HasResources } from './sync-state.js';

/** What the gateways of one role have taken. */
export interface RoleSync {
  /** Connected gateway streams that serve the role. */
  gateways: number;
  /** The latest reconcile pass that every connected gateway of the role had fully ACKed (0: none yet). */
  syncedPass: number;
  /** Gateways of the role that are not synced now, by node id. */
  behind: string[];
}

export interface GatewaySyncInputs {
  streams(): StreamInfo[];
  currentVersion: CurrentVersion;
  hasResources: HasResources;
  currentPass(): number;
  onStreamsChanged(listener: () => void): () => void;
  onPass(listener: (state: ReconcileState) => void): () => void;
}

/**
 * Remembers, per gateway role, the latest reconcile pass that all connected gateways of the role ACKed: a
 * KIngress is load-balancer-ready once that pass is at least the pass in which it last changed. Checked after
 * every pass and every connect, ACK, NACK or disconnect, because "all synced" may hold only for a moment.
 */
export class GatewaySyncTracker {
  private readonly synced = new Map<GatewayRole, number>(GATEWAY_ROLES.map((role) => [role, 0]));
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly inputs: GatewaySyncInputs) {
    this.unsubscribe = [inputs.onStreamsChanged(() => this.check()), inputs.onPass(() => this.check())];
    this.check();
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
  }

  role(role: GatewayRole): RoleSync {
    const streams = this.inputs.streams().filter((stream) => stream.roles.includes(role));
    const behind = streams.filter((stream) => !streamSynced(stream, this.inputs.currentVersion, this.inputs.hasResources)).map((stream) => stream.nodeId);
    return { gateways: streams.length, syncedPass: this.synced.get(role) ?? 0, behind };
  }

  private check(): void {
    const streams = this.inputs.streams();
    const pass = this.inputs.currentPass();
    // A gateway of both roles (the managed Envoy) is looked at once, not once per role.
    const synced = new Map<StreamInfo, boolean>();
    const isSynced = (stream: StreamInfo): boolean => {
      let result = synced.get(stream);
      if (result === undefined) {
        result = streamSynced(stream, this.inputs.currentVersion, this.inputs.hasResources);
        synced.set(stream, result);
      }
      return result;
    };
    for (const role of GATEWAY_ROLES) {
      const ofRole = streams.filter((stream) => stream.roles.includes(role));
      if (ofRole.length > 0 && ofRole.every(isSynced)) this.synced.set(role, pass);
    }
  }
}
