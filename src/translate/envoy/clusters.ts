import { isIP } from 'node:net';
import { Cluster, Cluster_DiscoveryType, Cluster_DnsLookupFamily } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { HttpProtocolOptions } from 'envoy-proto-ts/envoy/extensions/upstreams/http/v3/http_protocol_options';
import type { Backend } from './backends.js';
import type { TranslateConfig } from './config.js';
import { adsConfigSource, durationFromMs, toAny } from './proto-helpers.js';
import { buildSystemInternalTlsSocket, usesSystemInternalTls } from './system-internal-tls.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * A Service port as a cluster: endpoints over EDS (an endpoint flip never touches the cluster), or DNS
 * for an ExternalName Service. No retries and no circuit-breaker tuning beyond Envoy's defaults.
 */
export function buildCluster(backend: Backend, config: TranslateConfig): Cluster {
  const hairpin = backend.externalName === config.localGateway.host;
  const protocolOptions = upstreamProtocol(backend, hairpin);
  const common = {
    name: backend.clusterName,
    connectTimeout: durationFromMs(config.connectTimeoutMs),
    typedExtensionProtocolOptions: typedProtocolOptions(protocolOptions),
    ...(usesSystemInternalTls(backend, config) ? { transportSocket: buildSystemInternalTlsSocket(backend) } : {}),
  };
  if (backend.externalName) {
    const port = hairpin ? config.localGateway.port : backend.port;
    return Cluster.fromPartial({
      ...common,
      type: Cluster_DiscoveryType.LOGICAL_DNS,
      dnsLookupFamily: Cluster_DnsLookupFamily.V4_PREFERRED,
      loadAssignment: {
        clusterName: backend.clusterName,
        endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: backend.externalName, portValue: port } } } }] }],
      },
    });
  }
  return Cluster.fromPartial({
    ...common,
    type: Cluster_DiscoveryType.EDS,
    edsClusterConfig: { edsConfig: adsConfigSource(), serviceName: backend.clusterName },
  });
}

/** A cluster's upstream HTTP protocol options, as Envoy takes them (none: HTTP/1.1). */
export function typedProtocolOptions(options: HttpProtocolOptions | undefined): Cluster['typedExtensionProtocolOptions'] {
  return options ? { [HTTP_PROTOCOL_OPTIONS]: toAny(HTTP_PROTOCOL_OPTIONS, HttpProtocolOptions, options) } : {};
}

/**
 * h2c for a port that says so. The hairpin to the local gateway (a DomainMapping's backend: the Route's placeholder
 * Service, whose port Knative names http2) instead speaks what the client spoke, since the local listener takes
 * HTTP/1.1 and h2c alike: over h2 a WebSocket's HTTP/1.1 Upgrade would become an extended CONNECT, which the local
 * listener refuses (the client got 503), while gRPC and other HTTP/2 clients still get h2 end to end.
 */
function upstreamProtocol(backend: Backend, hairpin: boolean): HttpProtocolOptions | undefined {
  if (hairpin) return HttpProtocolOptions.fromPartial({ useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } });
  if (backend.h2c) return HttpProtocolOptions.fromPartial({ explicitHttpConfig: { http2ProtocolOptions: {} } });
  return undefined;
}

/**
 * A service that a gateway option names by `host:port` (the authorization service, a tracing collector): an IP address
 * as is, a DNS name (a Kubernetes Service's) resolved and followed as it changes; HTTP/2 for gRPC.
 */
export function buildHostPortCluster(name: string, target: { host: string; port: number; protocol: 'grpc' | 'http' }, connectTimeoutMs: number): Cluster {
  const protocolOptions = target.protocol === 'grpc' ? HttpProtocolOptions.fromPartial({ explicitHttpConfig: { http2ProtocolOptions: {} } }) : undefined;
  return Cluster.fromPartial({
    name,
    connectTimeout: durationFromMs(connectTimeoutMs),
    ...(isIP(target.host) ? { type: Cluster_DiscoveryType.STATIC } : { type: Cluster_DiscoveryType.STRICT_DNS, dnsLookupFamily: Cluster_DnsLookupFamily.V4_PREFERRED }),
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: target.host, portValue: target.port } } } }] }],
    },
    typedExtensionProtocolOptions: typedProtocolOptions(protocolOptions),
  });
}
