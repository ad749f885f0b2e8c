import type { Filter } from 'envoy-proto-ts/envoy/config/listener/v3/listener_components';
import { ConnectionLimit } from 'envoy-proto-ts/envoy/extensions/filters/network/connection_limit/v3/connection_limit';
import { toAny } from './proto-helpers.js';

/**
 * Envoy's connection_limit network filter: a client connection beyond `maxConnections` open ones on the filter chain
 * is closed at once (counted in `connection_limit.<listener>.limited_connections`). None without a limit.
 */
export function buildConnectionLimit(maxConnections: number | undefined, statPrefix: string): Filter[] {
  if (maxConnections === undefined) return [];
  return [{
    name: 'envoy.filters.network.connection_limit',
    typedConfig: toAny('envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit', ConnectionLimit, ConnectionLimit.fromPartial({ statPrefix, maxConnections })),
  }];
}
