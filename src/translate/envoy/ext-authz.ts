import { ApiVersion } from 'envoy-proto-ts/envoy/config/core/v3/config_source';
import { ExtAuthz, ExtAuthzPerRoute } from 'envoy-proto-ts/envoy/extensions/filters/http/ext_authz/v3/ext_authz';
import { HttpFilter } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import type { ExtAuthzOptions } from '../../model/ext-authz-options.js';
import { durationFromMs, toAny } from './proto-helpers.js';

/** The filter's name: per-route and per-virtual-host settings refer to it. */
export const EXT_AUTHZ_FILTER = 'envoy.filters.http.ext_authz';
/** The authorization service's cluster (ext-authz-cluster.ts); Service clusters are `namespace/name:port`, never this. */
export const EXT_AUTHZ_CLUSTER = 'ferry-ext-authz';

/**
 * Envoy's ext_authz filter: each request is held until the authorization service allows it; a denial goes back to the
 * client as the service wrote it (403 by default) and the backend never sees the request. When the service cannot be
 * asked, the request is refused with 403 unless failure-mode-allow is set. None when external authorization is off.
 */
export function buildExtAuthzFilter(options: ExtAuthzOptions | undefined): HttpFilter[] {
  if (!options) return [];
  const timeout = durationFromMs(options.timeoutMs);
  const service = options.protocol === 'grpc'
    ? { grpcService: { envoyGrpc: { clusterName: EXT_AUTHZ_CLUSTER }, timeout } }
    : { httpService: { serverUri: { uri: `http://${hostPort(options)}`, cluster: EXT_AUTHZ_CLUSTER, timeout }, pathPrefix: options.pathPrefix ?? '' } };
  const config = ExtAuthz.fromPartial({
    ...service,
    transportApiVersion: ApiVersion.V3,
    failureModeAllow: options.failureModeAllow,
    // A partial body (the first bytes) rather than 413 for a larger one: the check gets what it asked for at most.
    ...(options.maxRequestBytes === undefined ? {} : { withRequestBody: { maxRequestBytes: options.maxRequestBytes, allowPartialMessage: true } }),
  });
  return [HttpFilter.fromPartial({ name: EXT_AUTHZ_FILTER, typedConfig: toAny('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz', ExtAuthz, config) })];
}

function hostPort({ host, port }: ExtAuthzOptions): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** typed_per_filter_config that turns the filter off for one route or virtual host. Encoded once: it never changes. */
export const EXT_AUTHZ_DISABLED: Readonly<Record<string, Any>> = {
  [EXT_AUTHZ_FILTER]: toAny('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute', ExtAuthzPerRoute, ExtAuthzPerRoute.fromPartial({ disabled: true })),
};
