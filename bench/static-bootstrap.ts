import { join } from 'node:path';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Cluster, Cluster_DiscoveryType } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { ApiVersion, ConfigSource } from 'envoy-proto-ts/envoy/config/core/v3/config_source';
import { HttpConnectionManager } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { DownstreamTlsContext } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/tls';
import type { XdsCache } from '../src/xds/cache.js';
import type { XdsResource } from '../src/xds/resource.js';
import { TypeUrl } from '../src/xds/resource-types.js';
import { encodeDiscoveryResponse } from '../src/xds/wire.js';
import { GATEWAY_ROLES } from '../src/xds/roles.js';

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

// Field numbers of envoy.config.bootstrap.v3.Bootstrap / StaticResources and core.v3.Node (not generated in envoy-proto-ts).
const BOOTSTRAP_NODE = 1;
const BOOTSTRAP_STATIC_RESOURCES = 2;
const NODE_ID = 1;
const NODE_CLUSTER = 2;
const STATIC_LISTENERS = 1;
const STATIC_CLUSTERS = 2;
const STATIC_SECRETS = 3;

export interface StaticBootstrap {
  /** An encoded envoy.config.bootstrap.v3.Bootstrap (Envoy reads `-c file.pb` as binary proto). */
  bytes: Uint8Array;
  /** Route configuration files (encoded DiscoveryResponse) the listeners read, by absolute path. */
  routeFiles: Map<string, Uint8Array>;
  counts: { listeners: number; routes: number; clusters: number; endpoints: number; secrets: number };
}

/**
 * What Ferry serves to a gateway of both roles, as local files: listeners, clusters (EDS made STATIC with
 * their endpoints inlined) and secrets in a static bootstrap; each route configuration in a file of its own
 * that the listeners read over filesystem RDS. Routes are not inlined in the listeners: every HTTPS filter
 * chain would hold its own copy of a multi-megabyte table. Envoy loading this is the floor Ferry's cold
 * start is compared with.
 */
export function staticBootstrapFromCache(cache: XdsCache, routesDirectory: string): StaticBootstrap {
  const roles = GATEWAY_ROLES;
  const routes = new Map(cache.list(roles, TypeUrl.Route).map((r) => [r.name, r]));
  const endpoints = new Map(cache.list(roles, TypeUrl.Endpoint).map((r) => [r.name, r]));
  const listeners = cache.list(roles, TypeUrl.Listener);
  const clusters = cache.list(roles, TypeUrl.Cluster);
  const secrets = cache.list(roles, TypeUrl.Secret);

  const staticResources = new BinaryWriter();
  const routeFiles = new Map<string, Uint8Array>();
  for (const route of routes.values()) routeFiles.set(routeFilePath(routesDirectory, route.name), encodeDiscoveryResponse('1', [route], route.typeUrl, ''));
  for (const listener of listeners) staticResources.uint32(tag(STATIC_LISTENERS)).bytes(staticListener(listener, routes, routesDirectory));
  for (const cluster of clusters) staticResources.uint32(tag(STATIC_CLUSTERS)).bytes(staticCluster(cluster, endpoints));
  for (const secret of secrets) staticResources.uint32(tag(STATIC_SECRETS)).bytes(secret.bytes);
  const node = new BinaryWriter().uint32(tag(NODE_ID)).string('ferry-bench-static').uint32(tag(NODE_CLUSTER)).string('both').finish();
  const bytes = new BinaryWriter()
    .uint32(tag(BOOTSTRAP_NODE)).bytes(node)
    .uint32(tag(BOOTSTRAP_STATIC_RESOURCES)).bytes(staticResources.finish())
    .finish();
  return { bytes, routeFiles, counts: { listeners: listeners.length, routes: routes.size, clusters: clusters.length, endpoints: endpoints.size, secrets: secrets.length } };
}

function staticListener(resource: XdsResource, routes: Map<string, XdsResource>, routesDirectory: string): Uint8Array {
  const listener = Listener.decode(resource.bytes);
  for (const chain of listener.filterChains) {
    for (const filter of chain.filters) {
      if (filter.typedConfig?.typeUrl !== HCM_TYPE) continue;
      const hcm = HttpConnectionManager.decode(filter.typedConfig.value);
      const routeName = hcm.rds?.routeConfigName;
      if (routeName !== undefined) {
        if (!routes.has(routeName)) throw new Error(`static bootstrap: listener ${resource.name} names route configuration ${routeName}, which Ferry does not serve`);
        hcm.rds = { routeConfigName: routeName, configSource: ConfigSource.fromPartial({ pathConfigSource: { path: routeFilePath(routesDirectory, routeName) }, resourceApiVersion: ApiVersion.V3 }) };
      }
      filter.typedConfig.value = Buffer.from(HttpConnectionManager.encode(hcm).finish());
    }
    const socket = chain.transportSocket?.typedConfig;
    if (socket?.typeUrl === TLS_TYPE) {
      const tls = DownstreamTlsContext.decode(socket.value);
      // Without an sds_config the name refers to a static secret of the bootstrap.
      for (const config of tls.commonTlsContext?.tlsCertificateSdsSecretConfigs ?? []) config.sdsConfig = undefined;
      socket.value = Buffer.from(DownstreamTlsContext.encode(tls).finish());
    }
  }
  return Listener.encode(listener).finish();
}

function staticCluster(resource: XdsResource, endpoints: Map<string, XdsResource>): Uint8Array {
  const cluster = Cluster.decode(resource.bytes);
  if (cluster.type === Cluster_DiscoveryType.EDS) {
    const assignment = endpoints.get(cluster.edsClusterConfig?.serviceName || cluster.name);
    cluster.type = Cluster_DiscoveryType.STATIC;
    cluster.edsClusterConfig = undefined;
    cluster.loadAssignment = assignment ? ClusterLoadAssignment.decode(assignment.bytes) : ClusterLoadAssignment.fromPartial({ clusterName: cluster.name });
  }
  return Cluster.encode(cluster).finish();
}

function routeFilePath(directory: string, routeName: string): string {
  return join(directory, `route-${routeName.replace(/[^a-zA-Z0-9-]/g, '_')}.pb`);
}

function tag(field: number): number {
  return (field << 3) | 2;
}
