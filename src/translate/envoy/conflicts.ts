import type { IngressTranslation } from './ingress-translation.js';

/** A KIngress left out because an older one already serves some of its hosts (status: DomainConflict). */
export interface HostConflict {
  /** namespace/name of the KIngress that lost. */
  ingress: string;
  hosts: string[];
  /** namespace/name of the older KIngress that keeps the hosts. */
  winner: string;
}

/**
 * The older KIngress (creationTimestamp, then namespace/name) keeps a contested host; the newer one is
 * left out as a whole, so that a half-served KIngress never looks Ready. Returned in namespace/name order.
 */
export function resolveHostConflicts(translations: readonly IngressTranslation[]): { accepted: IngressTranslation[]; conflicts: HostConflict[] } {
  const owner = new Map<string, string>();
  const accepted: IngressTranslation[] = [];
  const conflicts: HostConflict[] = [];
  for (const translation of [...translations].sort(olderFirst)) {
    const contested = translation.hosts.filter((host) => owner.has(host) && owner.get(host) !== translation.key);
    if (contested.length > 0) {
      conflicts.push({ ingress: translation.key, hosts: contested, winner: owner.get(contested[0] as string) as string });
      continue;
    }
    for (const host of translation.hosts) owner.set(host, translation.key);
    accepted.push(translation);
  }
  return { accepted: accepted.sort(byKey), conflicts: conflicts.sort((a, b) => compare(a.ingress, b.ingress)) };
}

/** A missing creationTimestamp counts as newest (RFC 3339 UTC timestamps compare as strings). */
function olderFirst(a: IngressTranslation, b: IngressTranslation): number {
  const byTime = compare(a.creationTimestamp ?? '\uffff', b.creationTimestamp ?? '\uffff');
  return byTime || byKey(a, b);
}

function byKey(a: IngressTranslation, b: IngressTranslation): number {
  return compare(a.key, b.key);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
