import type { ClusterDomainClaim, DomainMapping } from '../../model/serving.js';

export type ClaimResult = { claimed: true } | { claimed: false; reason: 'DomainAlreadyClaimed'; message: string };

/**
 * Knative's DomainMapping reconcileDomainClaim: a DomainMapping may serve its domain only if the ClusterDomainClaim
 * of that name gives the domain to its namespace. With autocreate-cluster-domain-claims, a missing claim is implied
 * for the first DomainMapping of the domain (oldest creationTimestamp, then namespace), as if it had created it.
 */
export function resolveDomainClaims(mappings: DomainMapping[], claims: ClusterDomainClaim[], autocreate: boolean): Map<string, ClaimResult> {
  const claimsByDomain = new Map(claims.map((c) => [c.metadata.name, c.spec.namespace ?? '']));
  if (autocreate) {
    for (const mapping of [...mappings].sort(byAge)) {
      if (!claimsByDomain.has(mapping.metadata.name)) claimsByDomain.set(mapping.metadata.name, mapping.metadata.namespace ?? '');
    }
  }
  const results = new Map<string, ClaimResult>();
  for (const mapping of mappings) {
    const key = `${mapping.metadata.namespace}/${mapping.metadata.name}`;
    const owner = claimsByDomain.get(mapping.metadata.name);
    if (owner === mapping.metadata.namespace) results.set(key, { claimed: true });
    else if (owner === undefined) {
      results.set(key, { claimed: false, reason: 'DomainAlreadyClaimed', message: `no ClusterDomainClaim found for domain "${mapping.metadata.name}": create one with spec.namespace "${mapping.metadata.namespace}", or set autocreate-cluster-domain-claims to "true" in config-network` });
    } else {
      results.set(key, { claimed: false, reason: 'DomainAlreadyClaimed', message: `the domain "${mapping.metadata.name}" is claimed by namespace "${owner}" (ClusterDomainClaim ${mapping.metadata.name})` });
    }
  }
  return results;
}

function byAge(a: DomainMapping, b: DomainMapping): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}
