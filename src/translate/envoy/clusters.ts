import { Cluster, Cluster_DiscoveryType, Cluster_DnsLookupFamily } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { HttpProtocolOptions } from 'envoy-proto-ts/envoy/extensions/upstreams/http/v3/http_protocol_options';
import type { Backend } from './backends.js';
import type { TranslateConfig } from './config.js';
import { adsConfigSource, durationFromMs, toAny } from './proto-helpers.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * A Service port as a cluster: endpoints over EDS (an endpoint flip never touches the cluster), or DNS
 * for an ExternalName Service. No retries and no circuit-breaker tuning beyond Envoy's defaults.
 */
export function buildCluster(backend: Backend, config: TranslateConfig): Cluster {
  const common = {
    name: backend.clusterName,
    connectTimeout: durationFromMs(config.connectTimeoutMs),
    typedExtensionProtocolOptions: backend.h2c
      ? { [HTTP_PROTOCOL_OPTIONS]: toAny(HTTP_PROTOCOL_OPTIONS, HttpProtocolOptions, HttpProtocolOptions.fromPartial({ explicitHttpConfig: { http2ProtocolOptions: {} } })) }
      : {},
  };
  if (backend.externalName) {
    const port = backend.externalName === config.localGateway.host ? config.localGateway.port : backend.port;
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
