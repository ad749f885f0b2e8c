import type { Node } from 'envoy-proto-ts/envoy/config/core/v3/base';

/** The gateway a resource belongs to: external serves ExternalIP rules, local serves every rule. */
export type GatewayRole = 'external' | 'local';

export const GATEWAY_ROLES: readonly GatewayRole[] = ['external', 'local'];

/** Node metadata key that names an Envoy's roles explicitly, e.g. "external,local". */
export const ROLES_METADATA_KEY = 'ferry.knative.dev/roles';

/**
 * Which roles an Envoy serves, from its node: the metadata key wins, then node.cluster. Anything unknown
 * is external only, so that a misconfigured Envoy can never receive ClusterLocal hosts.
 */
export function rolesForNode(node: Node | undefined): GatewayRole[] {
  const fromMetadata = node?.metadata?.[ROLES_METADATA_KEY];
  if (typeof fromMetadata === 'string') {
    const named = new Set(fromMetadata.split(',').map((s) => s.trim().toLowerCase()));
    const roles = GATEWAY_ROLES.filter((role) => named.has(role));
    if (roles.length > 0) return roles;
  }
  const cluster = (node?.cluster ?? '').toLowerCase();
  if (cluster.includes('both')) return ['external', 'local'];
  if (cluster.includes('local')) return ['local'];
  return ['external'];
}
