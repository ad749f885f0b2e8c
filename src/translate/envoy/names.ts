import type { GatewayRole } from '../../xds/roles.js';

export type ListenerKind = 'http' | 'https';

/** Listener and route configuration share one name per role and kind, e.g. `external-https`. */
export function listenerName(role: GatewayRole, kind: ListenerKind): string {
  return `${role}-${kind}`;
}

export const routeConfigurationName = listenerName;

/** One cluster per Service port, e.g. `default/hello-00001:80`; also the EDS service name. */
export function clusterName(namespace: string, serviceName: string, port: number | string): string {
  return `${namespace}/${serviceName}:${port}`;
}

/**
 * Whether a cluster name is a Service port's (one KIngress backend's), which `--clusters on-demand` leaves for a
 * gateway to ask for; the clusters of gateway options (`ferry-ext-authz`, `ferry-tracing-collector`) have no '/'.
 */
export function isServiceClusterName(name: string): boolean {
  return name.includes('/');
}

/** SDS secret name, e.g. `knative-serving/wildcard-cert`. */
export function secretResourceName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
