import { Cluster, Cluster_DiscoveryType } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { Secret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import { encodeResource, type XdsResource } from '../../src/xds/resource.js';
import { TypeUrl } from '../../src/xds/resource-types.js';

/** Small Envoy resources for protocol tests; `variant` changes the content (and so the hash). */

export function edsCluster(name: string, variant = 0): XdsResource {
  return encodeResource(TypeUrl.Cluster, name, Cluster, Cluster.fromPartial({
    name, type: Cluster_DiscoveryType.EDS, edsClusterConfig: { serviceName: name, edsConfig: { ads: {} } },
    connectTimeout: { seconds: 1 + variant, nanos: 0 },
  }));
}

export function staticCluster(name: string, variant = 0): XdsResource {
  return encodeResource(TypeUrl.Cluster, name, Cluster, Cluster.fromPartial({
    name, type: Cluster_DiscoveryType.STATIC, connectTimeout: { seconds: 1 + variant, nanos: 0 },
  }));
}

export function endpoints(name: string, port: number): XdsResource {
  return encodeResource(TypeUrl.Endpoint, name, ClusterLoadAssignment, ClusterLoadAssignment.fromPartial({
    clusterName: name,
    endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }],
  }));
}

export function listener(name: string, routeName: string, port = 8080): XdsResource {
  return encodeResource(TypeUrl.Listener, name, Listener, Listener.fromPartial({
    name, address: { socketAddress: { address: '0.0.0.0', portValue: port } }, statPrefix: routeName,
  }));
}

export function route(name: string, cluster: string): XdsResource {
  return encodeResource(TypeUrl.Route, name, RouteConfiguration, RouteConfiguration.fromPartial({
    name, virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
  }));
}

export function secret(name: string, variant = 0): XdsResource {
  return encodeResource(TypeUrl.Secret, name, Secret, Secret.fromPartial({
    name, genericSecret: { secret: { inlineString: `secret-${variant}` } },
  }));
}

const decoders: Record<TypeUrl, (bytes: Uint8Array) => { name?: string; clusterName?: string }> = {
  [TypeUrl.Cluster]: (b) => Cluster.decode(b),
  [TypeUrl.Endpoint]: (b) => ClusterLoadAssignment.decode(b),
  [TypeUrl.Secret]: (b) => Secret.decode(b),
  [TypeUrl.Listener]: (b) => Listener.decode(b),
  [TypeUrl.ScopedRoute]: (b) => ScopedRouteConfiguration.decode(b),
  [TypeUrl.Route]: (b) => RouteConfiguration.decode(b),
};

/** The name inside an Any, decoded with the generated type of its type URL. */
export function anyName(any: Any): string {
  const decoded = decoders[any.typeUrl as TypeUrl](any.value);
  return decoded.name ?? decoded.clusterName ?? '';
}

export function names(resources: readonly Any[]): string[] {
  return resources.map(anyName).sort();
}
