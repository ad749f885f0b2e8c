import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { HeaderMutation } from 'envoy-proto-ts/envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation';
import type { ScopedRoutes } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { HeaderValueOption_HeaderAppendAction } from 'envoy-proto-ts/envoy/config/core/v3/base';
import { contentHash, encodeResource, makeResource, type XdsResource } from '../../xds/resource.js';
import { TypeUrl } from '../../xds/resource-types.js';
import { adsConfigSource, toAny } from './proto-helpers.js';
import { encodeVirtualHostsField } from './route-configuration.js';
import type { EncodedVirtualHost } from './virtual-host.js';

/*
 * Sharded route tables ("scoped" route tables). One route table per listener holding every virtual host makes
 * Envoy receive and parse the whole table (megabytes at 10k KIngresses) on each change. Instead each KIngress gets
 * a RouteConfiguration of its own per listener, and Envoy picks it per request through scoped routes (SRDS): the
 * scope key is the Host without its port plus the listener's name. The listener name comes from a header that the
 * connection manager sets before routing (overwriting any client value), because Envoy delivers every SRDS scope
 * to every connection manager: without it a ClusterLocal host's scope would match on the external listener too.
 * The header is removed before the request goes upstream.
 */

/** Set by each listener's connection manager before the scope is chosen; never reaches a backend. */
export const LISTENER_HEADER = 'x-ferry-listener';

/** The per-KIngress route table of one listener, e.g. `external-http/default/hello`. */
export function scopedRouteConfigurationName(listener: string, ingressKey: string): string {
  return `${listener}/${ingressKey}`;
}

/** The scope of one host on one listener, e.g. `external-http/hello.default.example.com`. */
export function scopeName(listener: string, host: string): string {
  return `${listener}/${host}`;
}

/** The HttpConnectionManager parts that replace `rds` in scoped mode. */
export function scopedRoutesFor(listener: string): { scopedRoutes: ScopedRoutes; earlyHeaderMutationExtensions: Array<{ name: string; typedConfig: ReturnType<typeof toAny> }> } {
  return {
    scopedRoutes: {
      name: listener,
      scopeKeyBuilder: {
        fragments: [
          { headerValueExtractor: { name: ':authority', elementSeparator: ':', index: 0 } },
          { headerValueExtractor: { name: LISTENER_HEADER, elementSeparator: ',', index: 0 } },
        ],
      },
      rdsConfigSource: adsConfigSource(),
      scopedRds: { scopedRdsConfigSource: adsConfigSource(), srdsResourcesLocator: '' },
    },
    earlyHeaderMutationExtensions: [{
      name: 'envoy.http.early_header_mutation.header_mutation',
      typedConfig: toAny('envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation', HeaderMutation, HeaderMutation.fromPartial({
        mutations: [{ append: { header: { key: LISTENER_HEADER, value: listener }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD } }],
      })),
    }],
  };
}

/**
 * One KIngress's route table for one listener, from its virtual hosts' field bytes (encodeVirtualHostsField):
 * the name and the removal of the listener header are encoded, the virtual hosts are copied.
 */
export function assembleScopedRouteConfiguration(name: string, virtualHostFields: Uint8Array, hash: string): XdsResource {
  const head = RouteConfiguration.encode(RouteConfiguration.fromPartial({ name, requestHeadersToRemove: [LISTENER_HEADER] })).finish();
  return makeResource(TypeUrl.Route, name, Buffer.concat([head, virtualHostFields]), hash);
}

export function buildScope(listener: string, host: string, routeConfigurationName: string): XdsResource {
  const name = scopeName(listener, host);
  return encodeResource(TypeUrl.ScopedRoute, name, ScopedRouteConfiguration, ScopedRouteConfiguration.fromPartial({
    name,
    routeConfigurationName,
    key: { fragments: [{ stringKey: host }, { stringKey: listener }] },
  }));
}

/** The hosts a set of virtual hosts serves (their domains without the `host:*` port forms). */
export function hostsOfVirtualHosts(virtualHosts: readonly EncodedVirtualHost[]): string[] {
  return virtualHosts.flatMap((virtualHost) => virtualHost.domains.filter((domain) => !domain.endsWith(':*')));
}

/** What one KIngress adds to one listener in scoped mode: its route table and a scope per host. */
export function scopedRouteResources(listener: string, ingressKey: string, virtualHosts: readonly EncodedVirtualHost[]): { routeConfiguration: XdsResource; scopes: XdsResource[] } {
  const name = scopedRouteConfigurationName(listener, ingressKey);
  const hash = contentHash(Buffer.from(`${name}\n${virtualHosts.map((virtualHost) => virtualHost.hash).join(',')}`));
  return {
    routeConfiguration: assembleScopedRouteConfiguration(name, encodeVirtualHostsField(virtualHosts), hash),
    scopes: hostsOfVirtualHosts(virtualHosts).map((host) => buildScope(listener, host, name)),
  };
}
