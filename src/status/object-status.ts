import type { IngressStatus } from '../model/ingress.js';
import type { Condition } from '../model/meta.js';
import type { ServedIngress } from './served-ingress.js';
import type { KnativeStatus } from '../translate/knative/index.js';
import { condition } from './ingress-status.js';

/**
 * A Route's, Knative Service's or DomainMapping's readiness: what translation said of it, then its KIngress's
 * readiness as IngressReady, and Ready from both (Knative's Route reconciler propagates it the same way).
 */
export function knativeObjectConditions(status: KnativeStatus, ingress: { served: ServedIngress; status: IngressStatus } | undefined): Condition[] {
  if (status.conditions.some((c) => c.type === 'Ready')) return status.conditions;
  if (!ingress) {
    const missing = condition('IngressReady', 'Unknown', 'IngressNotConfigured', 'no KIngress is served for this object yet');
    return [...status.conditions, missing, { ...missing, type: 'Ready' }];
  }
  const ready = ingress.status.conditions?.find((c) => c.type === 'Ready') ?? condition('Ready', 'Unknown', 'Uninitialized');
  return [...status.conditions, { ...ready, type: 'IngressReady' }, { ...ready, type: 'Ready' }];
}
