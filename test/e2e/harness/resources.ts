import { Cluster, Cluster_DiscoveryType } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ApiVersion, ConfigSource } from 'envoy-proto-ts/envoy/config/core/v3/config_source';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { HttpConnectionManager } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { Router } from 'envoy-proto-ts/envoy/extensions/filters/http/router/v3/router';
import { HttpProtocolOptions } from 'envoy-proto-ts/envoy/extensions/upstreams/http/v3/http_protocol_options';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import { encodeResource, type XdsResource } from '../../../src/xds/resource.js';
import { TypeUrl } from '../../../src/xds/resource-types.js';

/**
 * Hand-built Envoy resources for end-to-end tests of the xDS layer, independent of translate/: a plain
 * HTTP listener whose routes come over RDS, EDS clusters, and their endpoints on loopback.
 */

const ADS: ConfigSource = ConfigSource.fromPartial({ ads: {}, resourceApiVersion: ApiVersion.V3 });

function pack<T>(typeName: string, fns: { encode(message: T): { finish(): Uint8Array } }, message: T): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(fns.encode(message).finish()) };
}

/** An HTTP listener on 127.0.0.1:port whose route table `routeConfigName` comes over RDS (WebSockets allowed). */
export function testListener(name: string, port: number, routeConfigName: string): XdsResource {
  const manager = HttpConnectionManager.fromPartial({
    statPrefix: name,
    rds: { configSource: ADS, routeConfigName },
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: pack('envoy.extensions.filters.http.router.v3.Router', Router, Router.fromPartial({})) }],
  });
  return encodeResource(TypeUrl.Listener, name, Listener, Listener.fromPartial({
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: port } },
    filterChains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', HttpConnectionManager, manager),
      }],
    }],
  }));
}

/** A route table: each host routed, whatever the path, to one cluster; no route timeout. */
export function testRouteConfiguration(name: string, hosts: ReadonlyArray<{ host: string; cluster: string }>): XdsResource {
  return encodeResource(TypeUrl.Route, name, RouteConfiguration, RouteConfiguration.fromPartial({
    name,
    virtualHosts: hosts.map(({ host, cluster }) => ({
      name: host,
      domains: [host],
      routes: [{ match: { prefix: '/' }, route: { cluster, timeout: { seconds: 0, nanos: 0 } } }],
    })),
  }));
}

/** A cluster whose endpoints come over EDS; h2c speaks HTTP/2 without TLS to them. */
export function testEdsCluster(name: string, options: { h2c?: boolean; connectTimeoutSeconds?: number } = {}): XdsResource {
  const protocolOptions = options.h2c
    ? { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': pack('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', HttpProtocolOptions, HttpProtocolOptions.fromPartial({ explicitHttpConfig: { http2ProtocolOptions: {} } })) }
    : {};
  return encodeResource(TypeUrl.Cluster, name, Cluster, Cluster.fromPartial({
    name,
    type: Cluster_DiscoveryType.EDS,
    edsClusterConfig: { edsConfig: ADS },
    connectTimeout: { seconds: options.connectTimeoutSeconds ?? 1, nanos: 0 },
    typedExtensionProtocolOptions: protocolOptions,
  }));
}

/** The endpoints of a cluster: loopback ports. */
export function testLoadAssignment(clusterName: string, ports: readonly number[]): XdsResource {
  return encodeResource(TypeUrl.Endpoint, clusterName, ClusterLoadAssignment, ClusterLoadAssignment.fromPartial({
    clusterName,
    endpoints: [{ lbEndpoints: ports.map((port) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } })) }],
  }));
}

/** A cluster Envoy rejects: a negative connect timeout ("Invalid duration: Expected positive duration"). */
export function invalidCluster(name: string): XdsResource {
  return encodeResource(TypeUrl.Cluster, name, Cluster, Cluster.fromPartial({
    name,
    type: Cluster_DiscoveryType.EDS,
    edsClusterConfig: { edsConfig: ADS },
    connectTimeout: { seconds: -1, nanos: 0 },
  }));
}
