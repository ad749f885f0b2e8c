import type { Condition } from '../model/meta.js';
import type { HostConflict } from '../translate/envoy/index.js';
import type { KnativeStatus, TranslatedIngress } from '../translate/knative/index.js';

/** One KIngress as Ferry serves it, with where it came from and what translation said of it. */
export interface ServedIngress extends TranslatedIngress {
  probeHash: string;
  warnings: string[];
  conflict: HostConflict | undefined;
  /** The reconcile pass in which this KIngress last changed: it is Ready once the gateways took that pass. */
  changedInPass: number;
  /** What its status says of enabled config-network options Ferry does not honour (see config-network-conditions.ts). */
  networkConditions?: Condition[];
}

/** What the reconciler serves after a pass: the input of every status (files mode's views, kube mode's writer). */
export interface ReconcileState {
  pass: number;
  ingresses: Map<string, ServedIngress>;
  /** The keys of the KIngresses that changed in this pass (their changedInPass is `pass`), perhaps twice. */
  changed: string[];
  /** The keys of the KIngresses this pass stopped serving. */
  removed: string[];
  statuses: KnativeStatus[];
  warnings: string[];
}
