import { CONFIG_NETWORK_NAME, KNATIVE_NAMESPACE, type NetworkConfig } from '../model/config.js';
import type { KIngress } from '../model/ingress.js';
import type { Condition } from '../model/meta.js';
import { condition } from './ingress-status.js';

/** The config-network options that touch the gateways but that Ferry cannot always carry out. */
export type UnhonouredNetworkOptions = Pick<NetworkConfig, 'clusterLocalDomainTls'>;

const WHERE = `${KNATIVE_NAMESPACE}/${CONFIG_NETWORK_NAME}`;

/** What Ferry says once, at start and whenever config-network changes, of the options it does not honour. */
export function unhonouredNetworkWarnings(options: UnhonouredNetworkOptions): string[] {
  if (!options.clusterLocalDomainTls) return [];
  return [`${WHERE} data.cluster-local-domain-tls is Enabled: Ferry serves cluster-local hosts over TLS on the local gateway only with the certificates a KIngress's spec.tls names (Knative Serving provisions them; Ferry's own Route translation makes none); KIngresses without say so in a ClusterLocalDomainTLS condition`];
}

/**
 * The conditions that tell a KIngress's readers which enabled config-network option it does not get: its own type per
 * option, which Knative's readiness does not read (the hosts are still served, over plain HTTP).
 */
export function unhonouredNetworkConditions(ingress: KIngress, options: UnhonouredNetworkOptions): Condition[] {
  if (!options.clusterLocalDomainTls) return [];
  const rules = ingress.spec.rules ?? [];
  const tlsHosts = new Set((ingress.spec.tls ?? []).flatMap((tls) => tls.hosts ?? []));
  const plain = rules.filter((rule) => rule.visibility === 'ClusterLocal').flatMap((rule) => rule.hosts ?? []).filter((host) => !tlsHosts.has(host));
  if (plain.length === 0) return [];
  return [condition('ClusterLocalDomainTLS', 'False', 'NotHonoured',
    `${WHERE} data.cluster-local-domain-tls is Enabled, but no spec.tls of this KIngress names its cluster-local hosts (Knative Serving puts the certificates it provisions there): they are served over plain HTTP only (${plain.join(', ')})`)];
}
