import type { ListenerFilter } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import { ProxyProtocol } from 'envoy-proto-ts/envoy/extensions/filters/listener/proxy_protocol/v3/proxy_protocol';
import type { GatewayRole } from '../../xds/roles.js';
import { toAny } from './proto-helpers.js';

/**
 * `proxy-protocol: true`: the external listeners read a PROXY protocol header (v1 text or v2 binary) before anything
 * else, as a load balancer in front of the gateway sends it; its source address becomes the connection's downstream
 * address (what use-remote-address appends to X-Forwarded-For). A connection without the header is closed. The local
 * listeners are reached inside the cluster (and by the DomainMapping hairpin), never through such a load balancer:
 * none there.
 */
export function buildProxyProtocolListenerFilters(enabled: boolean, role: GatewayRole): ListenerFilter[] {
  if (!enabled || role !== 'external') return [];
  return [{
    name: 'envoy.filters.listener.proxy_protocol',
    typedConfig: toAny('envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol', ProxyProtocol, ProxyProtocol.fromPartial({})),
  }];
}
