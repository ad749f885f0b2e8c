import { HttpFilter } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { HeaderMutation } from 'envoy-proto-ts/envoy/extensions/filters/http/header_mutation/v3/header_mutation';
import type { ServerHeader } from '../../model/gateway-options.js';
import { toAny } from './proto-helpers.js';

/**
 * `server-header: off`: Envoy passes the backend's Server header through (it writes none of its own) and this filter
 * removes it from every response. No filter otherwise.
 */
export function buildServerHeaderRemoval(header: ServerHeader): HttpFilter[] {
  if (header.mode !== 'off') return [];
  return [HttpFilter.fromPartial({
    name: 'envoy.filters.http.header_mutation',
    typedConfig: toAny('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation', HeaderMutation,
      HeaderMutation.fromPartial({ mutations: { responseMutations: [{ remove: 'server' }] } })),
  })];
}
