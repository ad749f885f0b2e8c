import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { HeaderMutation } from 'envoy-proto-ts/envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation';
import type { ScopedRoutes } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { HeaderValueOption_HeaderAppendAction } from 'envoy-proto-ts/envoy/config/core/v3/base';
import { contentHash, encodeResource, makeResource, type XdsResource } from '../../xds/resource.js';
import { TypeUrl } from '../../xds/resource-types.js';
import { withEncoded } from '../../xds/reused-writer.js';
import type { GatewayRole } from '../../xds/roles.js';
import { adsConfigSource, toAny } from './proto-helpers.js';
import { writeVirtualHosts } from './route-configuration.js';
import type { IngressTranslation } from './ingress-translation.js';
import { SharedBuilds } from './shared-builds.js';
import type { EncodedVirtualHost } from './virtual-host.js';

/*
 * Route tables chosen by Host ("scoped" route tables). One route table per listener holding every virtual host makes
 * Envoy receive and parse the whole table (megabytes at 10k KIngresses) on each change. Instead each KIngress gets
 * a RouteConfiguration of its own per gateway role (or shares a shard table with others, see sharded-routes.ts), and
 * Envoy picks it per request through scoped routes (SRDS):
 * the scope key is the Host without its port plus the role. The role comes from a header that each listener's
 * connection manager sets before routing (overwriting any client value), because Envoy delivers every SRDS scope
 * to every connection manager: without it a ClusterLocal host's scope would match on the external listener too.
 * The http and https listeners of a role share scopes and tables (half the resources of one set per listener):
 * where they differ (httpOption Redirected), a route matching the listener header redirects plain HTTP only.
 * Most KIngresses also share one table between the roles (routeTableKindFor). Both headers are removed before the
 * request goes upstream.
 */

/** The gateway role (`external`, `local`), set by every listener of the role: the second fragment of scope keys. */
export const GATEWAY_HEADER = 'x-ferry-gateway';
/** The listener (`external-http`, ...), set by each listener: what Redirected hosts' redirect route matches. */
export const LISTENER_HEADER = 'x-ferry-listener';

/** Whose virtual hosts a route table holds: one role's, or both roles' when they route alike (routeTableKindFor). */
export type RouteTableKind = GatewayRole | 'both';

/** The per-KIngress route table of one role, e.g. `external/default/hello`, or of both, `both/default/hello`. */
export function scopedRouteConfigurationName(role: RouteTableKind, ingressKey: string): string {
  return `${role}/${ingressKey}`;
}

/**
 * The kind of route table that one role's scopes of a KIngress point to. A KIngress made from a Knative Route has an
 * external rule and a ClusterLocal rule with the same splits, so the local role's table already holds every virtual
 * host the external role serves, with the same clusters (as one virtual host: IngressTranslation.sharedTable): both
 * roles' scopes then point to that one table (at 10k
 * KIngresses 10k tables instead of 18k for Envoy to load, and a change sends one table, not two). The scope key
 * still keeps the roles apart: an external listener has no scope for a cluster-local host, so the table's
 * cluster-local virtual hosts are not reachable through it. When the roles' virtual hosts differ (httpOption
 * Redirected redirects on the external role only) or the local role routes to a cluster the external role does not
 * have, each role keeps a table of its own.
 */
export function routeTableKindFor(role: GatewayRole, translation: IngressTranslation): { kind: RouteTableKind; virtualHosts: readonly EncodedVirtualHost[] } | undefined {
  const own = translation.roles[role].sharedVirtualHosts;
  if (own.length === 0) return undefined;
  if (translation.sharedTable) return { kind: 'both', virtualHosts: translation.sharedTable };
  return { kind: role, virtualHosts: own };
}

/** Scoped mode: the KIngress's own table of the kind routeTableKindFor chose. */
function routeTableFor(role: GatewayRole, translation: IngressTranslation): { name: string; virtualHosts: readonly EncodedVirtualHost[] } | undefined {
  const table = routeTableKindFor(role, translation);
  return table && { name: scopedRouteConfigurationName(table.kind, translation.key), virtualHosts: table.virtualHosts };
}

/** The scope of one host in one role, e.g. `external/hello.default.example.com`. */
function scopeName(role: GatewayRole, host: string): string {
  return `${role}/${host}`;
}

/**
 * The name of the scoped routes of every connection manager. Envoy shares one SRDS subscription between
 * connection managers of the same name and config source, and every subscription receives every scope: one
 * name means each scope is handled once, not once per listener.
 */
export const SCOPED_ROUTES_NAME = 'ferry';

/** The HttpConnectionManager parts that replace `rds` in scoped mode. */
export function scopedRoutesFor(role: GatewayRole, listener: string): { scopedRoutes: ScopedRoutes; earlyHeaderMutationExtensions: Array<{ name: string; typedConfig: ReturnType<typeof toAny> }> } {
  const overwrite = (key: string, value: string) => ({ append: { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD } });
  return {
    scopedRoutes: {
      name: SCOPED_ROUTES_NAME,
      scopeKeyBuilder: {
        fragments: [
          { headerValueExtractor: { name: ':authority', elementSeparator: ':', index: 0 } },
          { headerValueExtractor: { name: GATEWAY_HEADER, elementSeparator: ',', index: 0 } },
        ],
      },
      rdsConfigSource: adsConfigSource(),
      scopedRds: { scopedRdsConfigSource: adsConfigSource(), srdsResourcesLocator: '' },
    },
    earlyHeaderMutationExtensions: [{
      name: 'envoy.http.early_header_mutation.header_mutation',
      typedConfig: toAny('envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation', HeaderMutation, HeaderMutation.fromPartial({
        mutations: [overwrite(GATEWAY_HEADER, role), overwrite(LISTENER_HEADER, listener)],
      })),
    }],
  };
}

/**
 * A route table that scopes point to (one KIngress's, or a shard's): the name and the removal of Ferry's headers are
 * encoded, the virtual hosts' bytes are copied.
 */
function assembleScopedRouteConfiguration(name: string, virtualHosts: readonly EncodedVirtualHost[], hash: string): XdsResource {
  const head = RouteConfiguration.fromPartial({ name, requestHeadersToRemove: [GATEWAY_HEADER, LISTENER_HEADER] });
  return withEncoded((writer) => writeVirtualHosts(RouteConfiguration.encode(head, writer), virtualHosts), (bytes) => makeResource(TypeUrl.Route, name, bytes, hash));
}

export function buildScope(role: GatewayRole, host: string, routeConfigurationName: string): XdsResource {
  const name = scopeName(role, host);
  return encodeResource(TypeUrl.ScopedRoute, name, ScopedRouteConfiguration, ScopedRouteConfiguration.fromPartial({
    name,
    routeConfigurationName,
    key: { fragments: [{ stringKey: host }, { stringKey: role }] },
  }));
}

/** The hosts a set of virtual hosts serves (their domains without the `host:*` port forms). */
export function hostsOfVirtualHosts(virtualHosts: readonly EncodedVirtualHost[]): string[] {
  return virtualHosts.flatMap((virtualHost) => virtualHost.domains.filter((domain) => !domain.endsWith(':*')));
}

/**
 * What one KIngress adds to one gateway role in scoped mode: its route table and a scope per host of the role. A
 * scope is its role, host and table name, so `kept` may give back one this KIngress already had (for that table)
 * instead of encoding it again.
 */
export function scopedRouteResources(
  role: GatewayRole, translation: IngressTranslation, shared = new SharedBuilds(), kept: (scopeName: string, table: string) => XdsResource | undefined = () => undefined,
): { routeConfiguration: XdsResource; scopes: XdsResource[] } | undefined {
  const table = routeTableFor(role, translation);
  if (!table) return undefined;
  return {
    routeConfiguration: shared.once(TypeUrl.Route, table.name, translation, () => assembleRouteTable(table.name, table.virtualHosts)),
    scopes: scopesFor(role, translation, table.name, kept),
  };
}

/** A route table with a hash of its name and its virtual hosts' hashes (the same content, the same hash). */
export function assembleRouteTable(name: string, virtualHosts: readonly EncodedVirtualHost[]): XdsResource {
  const hash = contentHash(Buffer.from(`${name}\n${virtualHosts.map((virtualHost) => virtualHost.hash).join(',')}`));
  return assembleScopedRouteConfiguration(name, virtualHosts, hash);
}

/** A scope per host of the KIngress in this role, pointing to `table`; `kept` may give back one already built. */
export function scopesFor(role: GatewayRole, translation: IngressTranslation, table: string, kept: (scopeName: string, table: string) => XdsResource | undefined = () => undefined): XdsResource[] {
  return hostsOfVirtualHosts(translation.roles[role].sharedVirtualHosts).map((host) => kept(scopeName(role, host), table) ?? buildScope(role, host, table));
}
