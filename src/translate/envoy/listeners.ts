import { Address } from 'envoy-proto-ts/envoy/config/core/v3/address';
import { AdditionalAddress, Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import type { FilterChain } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import { FilterChain as FilterChainFns } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import type { Filter } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import {
  HttpConnectionManager,
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ServerHeaderTransformation,
} from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { Router } from 'envoy-proto-ts/envoy/extensions/filters/http/router/v3/router';
import { TlsInspector } from 'envoy-proto-ts/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector';
import { DownstreamTlsContext } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/tls';
import type { GatewayOptions, ServerHeader } from '../../model/gateway-options.js';
import type { GatewayRole } from '../../xds/roles.js';
import { buildAccessLogs } from './access-log.js';
import type { TranslateConfig } from './config.js';
import { buildConnectionLimit } from './connection-limit.js';
import { adsConfigSource, durationFromMs, toAny } from './proto-helpers.js';
import { scopedRoutesFor } from './scoped-routes.js';
import { buildServerHeaderRemoval } from './server-header.js';
import { buildTlsParameters } from './tls-parameters.js';
import { buildExtAuthzFilter } from './ext-authz.js';
import { buildOnDemandFilter } from './on-demand-clusters.js';
import { buildProxyProtocolListenerFilters } from './proxy-protocol.js';
import { buildTracing } from './tracing.js';

/**
 * The HTTP connection manager of every listener: routes over RDS (a route change never touches the
 * listener), HTTP/1.1 and h2c or h2 downstream (codec AUTO), WebSocket upgrades on every route, and the
 * operator's gateway options. The stream idle timeout is off by default: Knative owns request timeouts
 * (revision timeoutSeconds in the queue-proxy), so the gateway must not cut long streams.
 */
function buildHttpConnectionManager(role: GatewayRole, statPrefix: string, routeConfigurationName: string, config: TranslateConfig): Filter {
  const options = config.gateway;
  const manager = HttpConnectionManager.fromPartial({
    statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    ...(config.routeTables !== 'single' ? scopedRoutesFor(role, statPrefix) : { rds: { configSource: adsConfigSource(), routeConfigName: routeConfigurationName } }),
    httpFilters: [
      ...buildServerHeaderRemoval(options.serverHeader),
      ...buildExtAuthzFilter(options.extAuthz),
      ...buildOnDemandFilter(config),
      { name: 'envoy.filters.http.router', typedConfig: toAny('envoy.extensions.filters.http.router.v3.Router', Router, Router.fromPartial({})) },
    ],
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    streamIdleTimeout: durationFromMs(options.streamIdleTimeoutMs),
    accessLog: buildAccessLogs(options.accessLog),
    maxRequestHeadersKb: options.maxRequestHeadersKb,
    useRemoteAddress: options.useRemoteAddress || undefined,
    xffNumTrustedHops: options.trustedHopsCount,
    tracing: buildTracing(options.tracing),
    ...serverHeaderFields(options.serverHeader),
  });
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: toAny('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', HttpConnectionManager, manager),
  };
}

/** Envoy writes its own Server header unless told to pass the backend's through (which `off` then removes). */
function serverHeaderFields(header: ServerHeader): Partial<HttpConnectionManager> {
  if (header.mode !== 'fixed') return { serverHeaderTransformation: HttpConnectionManager_ServerHeaderTransformation.PASS_THROUGH };
  return header.value === 'envoy' ? {} : { serverName: header.value };
}

/** The connection limit (when set) comes first: a refused connection costs no HTTP parsing. */
function listenerFilters(manager: Filter, options: GatewayOptions, statPrefix: string): Filter[] {
  return [...buildConnectionLimit(options.maxConnections, statPrefix), manager];
}

/** The listener's addresses: the first binds, the others (another IP family) are additional addresses. */
function listenerAddresses(port: number, config: TranslateConfig): Pick<Listener, 'address' | 'additionalAddresses'> {
  const [first, ...others] = (config.gateway.listenAddresses ?? [config.bindAddress]).map((address) => Address.fromPartial({ socketAddress: { address, portValue: port } }));
  return { address: first, additionalAddresses: others.map((address) => AdditionalAddress.fromPartial({ address })) };
}

export function buildHttpListener(role: GatewayRole, name: string, port: number, routeConfigurationName: string, config: TranslateConfig): Listener {
  return Listener.fromPartial({
    name,
    ...listenerAddresses(port, config),
    listenerFilters: buildProxyProtocolListenerFilters(config.gateway.proxyProtocol, role),
    filterChains: [{ filters: listenerFilters(buildHttpConnectionManager(role, name, routeConfigurationName, config), config.gateway, name) }],
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
  const filters = listenerFilters(buildHttpConnectionManager(role, name, routeConfigurationName, config), config.gateway, name);
  const tlsParams = buildTlsParameters(config.gateway.tls);
  const filterChains: FilterChain[] = chains.map((chain) =>
    FilterChainFns.fromPartial({
      name: chain.name,
      ...(chain.serverNames.length > 0 ? { filterChainMatch: { serverNames: [...chain.serverNames] } } : {}),
      filters,
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: toAny(
          'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
          DownstreamTlsContext,
          DownstreamTlsContext.fromPartial({
            commonTlsContext: {
              tlsCertificateSdsSecretConfigs: [{ name: chain.secretName, sdsConfig: adsConfigSource() }],
              alpnProtocols: ['h2', 'http/1.1'],
              ...(tlsParams ? { tlsParams } : {}),
            },
          }),
        ),
      },
    }),
  );
  return Listener.fromPartial({
    name,
    ...listenerAddresses(port, config),
    // The PROXY header comes before the TLS ClientHello that tls_inspector reads.
    listenerFilters: [
      ...buildProxyProtocolListenerFilters(config.gateway.proxyProtocol, role),
      { name: 'envoy.filters.listener.tls_inspector', typedConfig: toAny('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', TlsInspector, TlsInspector.fromPartial({})) },
    ],
    filterChains,
  });
}
