import { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { Secret as EnvoySecret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import { encodeResource, type XdsResource } from '../../xds/resource.js';
import { TypeUrl } from '../../xds/resource-types.js';
import type { GatewayRole } from '../../xds/roles.js';
import type { Backend } from './backends.js';
import { buildCluster } from './clusters.js';
import type { TranslateContext } from './config.js';
import { resolveHostConflicts, type HostConflict } from './conflicts.js';
import { buildLoadAssignment } from './endpoints.js';
import { buildOptionClusters } from './option-clusters.js';
import type { IngressTranslation } from './ingress-translation.js';
import { buildHttpListener, buildHttpsListener, type HttpsFilterChainSpec } from './listeners.js';
import { listenerName, routeConfigurationName, secretResourceName, type ListenerKind } from './names.js';
import { scopedRouteResources } from './scoped-routes.js';
import { shardedRouteResources } from './sharded-routes.js';
import { assembleRouteConfiguration } from './route-configuration.js';
import { buildTlsSecret } from './secrets.js';
import { buildSystemInternalCaSecret, SYSTEM_INTERNAL_CA, SYSTEM_INTERNAL_CA_RESOURCE } from './system-internal-tls.js';

export interface GatewayResources {
  listeners: XdsResource[];
  /** Empty when config.routeTables is 'single'. */
  scopedRoutes: XdsResource[];
  routes: XdsResource[];
  clusters: XdsResource[];
  endpoints: XdsResource[];
  secrets: XdsResource[];
  /** KIngresses left out of every gateway because an older one serves their hosts. */
  conflicts: HostConflict[];
  /** Problems found while assembling (missing or invalid Secrets), naming the object. */
  warnings: string[];
}

/**
 * Everything one gateway role serves, from the per-KIngress translations (possibly cached): the HTTP
 * listener always, the HTTPS listener only when it has a certificate to serve, one route table per
 * listener assembled from encoded virtual hosts, one cluster per backend, endpoints for EDS clusters,
 * and the Secrets the HTTPS filter chains name. Output order is deterministic (sorted by name).
 */
export function buildGatewayResources(role: GatewayRole, translations: readonly IngressTranslation[], ctx: TranslateContext): GatewayResources {
  const { config } = ctx;
  const { accepted, conflicts } = resolveHostConflicts(translations);
  const warnings: string[] = [];
  const backends = new Map<string, Backend>();
  const secrets = new Map<string, XdsResource>();
  const chains: HttpsFilterChainSpec[] = [];

  const addSecret = (namespace: string, name: string, usedBy: string): string | undefined => {
    const resourceName = secretResourceName(namespace, name);
    if (secrets.has(resourceName)) return resourceName;
    const built = buildTlsSecret(resourceName, ctx.secret(namespace, name), usedBy);
    if (built.warning) {
      warnings.push(built.warning);
      return undefined;
    }
    secrets.set(resourceName, encodeResource(TypeUrl.Secret, resourceName, EnvoySecret, built.secret));
    return resourceName;
  };

  for (const translation of accepted) {
    const part = translation.roles[role];
    for (const backend of part.backends) backends.set(backend.clusterName, backend);
    for (const tls of part.tls) {
      const secretName = addSecret(tls.secret.namespace, tls.secret.name, tls.name);
      if (secretName) chains.push({ name: tls.name, serverNames: tls.serverNames, secretName });
    }
  }
  if (config.defaultCertificate) {
    const { namespace, name } = config.defaultCertificate;
    const secretName = addSecret(namespace, name, 'config defaultCertificate');
    if (secretName) chains.push({ name: 'default-certificate', serverNames: [], secretName });
  }
  if (config.systemInternalTls) {
    const built = buildSystemInternalCaSecret(ctx.secret(SYSTEM_INTERNAL_CA.namespace, SYSTEM_INTERNAL_CA.name));
    if (built.warning) warnings.push(built.warning);
    else secrets.set(SYSTEM_INTERNAL_CA_RESOURCE, encodeResource(TypeUrl.Secret, SYSTEM_INTERNAL_CA_RESOURCE, EnvoySecret, built.secret));
  }

  const ports = config.ports[role];
  const httpName = listenerName(role, 'http');
  const httpsName = listenerName(role, 'https');
  const listeners = [encodeResource(TypeUrl.Listener, httpName, Listener, buildHttpListener(role, httpName, ports.http, routeConfigurationName(role, 'http'), config))];
  const kinds: ListenerKind[] = ['http'];
  if (chains.length > 0) {
    listeners.push(encodeResource(TypeUrl.Listener, httpsName, Listener, buildHttpsListener(role, httpsName, ports.https, routeConfigurationName(role, 'https'), chains, config)));
    kinds.push('https');
  }
  const virtualHostsOf = (t: IngressTranslation, kind: ListenerKind) => (kind === 'http' ? t.roles[role].httpVirtualHosts : t.roles[role].httpsVirtualHosts);
  const routes: XdsResource[] = [];
  const scopedRoutes: XdsResource[] = [];
  if (config.routeTables === 'single') {
    for (const kind of kinds) routes.push(assembleRouteConfiguration(routeConfigurationName(role, kind), accepted.flatMap((t) => virtualHostsOf(t, kind))));
  } else if (config.routeTables === 'sharded') {
    const built = shardedRouteResources(role, accepted, config.routeTableShards);
    routes.push(...built.routes);
    scopedRoutes.push(...built.scopes);
  } else {
    for (const translation of accepted) {
      const built = scopedRouteResources(role, translation);
      if (!built) continue;
      routes.push(built.routeConfiguration);
      scopedRoutes.push(...built.scopes);
    }
  }

  const sortedBackends = [...backends.values()].sort((a, b) => (a.clusterName < b.clusterName ? -1 : 1));
  return {
    listeners,
    scopedRoutes,
    routes,
    clusters: [...sortedBackends.map((backend) => buildCluster(backend, config)), ...buildOptionClusters(config)]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((cluster) => encodeResource(TypeUrl.Cluster, cluster.name, Cluster, cluster)),
    endpoints: sortedBackends
      .filter((backend) => !backend.externalName)
      .map((backend) => encodeResource(TypeUrl.Endpoint, backend.clusterName, ClusterLoadAssignment, buildLoadAssignment(backend, ctx))),
    secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    conflicts,
    warnings,
  };
}
