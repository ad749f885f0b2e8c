import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import type { FilterChain } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import { FilterChain as FilterChainFns } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import {
  HttpConnectionManager,
  HttpConnectionManager_CodecType,
} from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { Router } from 'envoy-proto-ts/envoy/extensions/filters/http/router/v3/router';
import { TlsInspector } from 'envoy-proto-ts/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector';
import { DownstreamTlsContext } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/tls';
import type { GatewayRole } from '../../xds/roles.js';
import type { TranslateConfig } from './config.js';
import { adsConfigSource, toAny } from './proto-helpers.js';
import { scopedRoutesFor } from './scoped-routes.js';

/**
 * The HTTP connection manager of every listener: routes over RDS (a route change never touches the
 * listener), HTTP/1.1 and h2c or h2 downstream (codec AUTO), WebSocket upgrades on every route.
 */
function buildHttpConnectionManager(role: GatewayRole, statPrefix: string, routeConfigurationName: string, config: TranslateConfig) {
  const manager = HttpConnectionManager.fromPartial({
    statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    ...(config.routeTables === 'scoped' ? scopedRoutesFor(role, statPrefix) : { rds: { configSource: adsConfigSource(), routeConfigName: routeConfigurationName } }),
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: toAny('envoy.extensions.filters.http.router.v3.Router', Router, Router.fromPartial({})) }],
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    streamIdleTimeout: { seconds: config.streamIdleTimeoutSeconds, nanos: 0 },
  });
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: toAny('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', HttpConnectionManager, manager),
  };
}

export function buildHttpListener(role: GatewayRole, name: string, port: number, routeConfigurationName: string, config: TranslateConfig): Listener {
  return Listener.fromPartial({
    name,
    address: { socketAddress: { address: config.bindAddress, portValue: port } },
    filterChains: [{ filters: [buildHttpConnectionManager(role, name, routeConfigurationName, config)] }],
  });
}

/** One filter chain per certificate; `serverNames` empty makes it the default chain (any or no SNI). */
export interface HttpsFilterChainSpec {
  name: string;
  serverNames: readonly string[];
  /** SDS secret name. */
  secretName: string;
}

/**
 * Certificates come over SDS, never inlined: a certificate rotation updates a Secret resource and
 * leaves the listener (and its connections) alone. tls_inspector reads the SNI that selects the chain.
 */
export function buildHttpsListener(role: GatewayRole, name: string, port: number, routeConfigurationName: string, chains: readonly HttpsFilterChainSpec[], config: TranslateConfig): Listener {
  const manager = buildHttpConnectionManager(role, name, routeConfigurationName, config);
  const filterChains: FilterChain[] = chains.map((chain) =>
    FilterChainFns.fromPartial({
      name: chain.name,
      ...(chain.serverNames.length > 0 ? { filterChainMatch: { serverNames: [...chain.serverNames] } } : {}),
      filters: [manager],
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: toAny(
          'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
          DownstreamTlsContext,
          DownstreamTlsContext.fromPartial({
            commonTlsContext: {
              tlsCertificateSdsSecretConfigs: [{ name: chain.secretName, sdsConfig: adsConfigSource() }],
              alpnProtocols: ['h2', 'http/1.1'],
            },
          }),
        ),
      },
    }),
  );
  return Listener.fromPartial({
    name,
    address: { socketAddress: { address: config.bindAddress, portValue: port } },
    listenerFilters: [
      { name: 'envoy.filters.listener.tls_inspector', typedConfig: toAny('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', TlsInspector, TlsInspector.fromPartial({})) },
    ],
    filterChains,
  });
}
