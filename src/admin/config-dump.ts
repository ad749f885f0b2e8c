import type { XdsResource } from '../xds/resource.js';
import { API_NAME, PUSH_ORDER, SHORT_NAME, TypeUrl } from '../xds/resource-types.js';
import { GATEWAY_ROLES, type GatewayRole } from '../xds/roles.js';
import { resourceToEnvoyJson } from './envoy-json.js';
import { SCOPED_ROUTES_NAME } from '../translate/envoy/scoped-routes.js';

/** What the dump reads of the xDS cache. */
export interface ServedResources {
  list(roles: readonly GatewayRole[], typeUrl: TypeUrl): XdsResource[];
  version(roles: readonly GatewayRole[], typeUrl: TypeUrl): string;
}

export interface ConfigDumpQuery {
  role?: string;
  /** listeners|routes|clusters|endpoints|secrets, or Envoy's lds|rds|cds|eds|sds, or a type URL. */
  type?: string;
  name?: string;
}

/** One role's dump: exactly the shape of Envoy's GET /config_dump (admin.v3.ConfigDump). */
export interface EnvoyConfigDump {
  configs: Array<Record<string, unknown>>;
}

const DISCOVERY_NAMES: Record<string, TypeUrl> = Object.fromEntries(PUSH_ORDER.map((typeUrl) => [API_NAME[typeUrl].toLowerCase(), typeUrl]));

/** The config_dump message that holds each resource type, and how one dynamic resource is wrapped in it (Envoy's field names). */
const DUMP_SHAPE: Record<TypeUrl, { type: string; list: string; entries: (resources: readonly XdsResource[], version: string) => Array<Record<string, unknown>> }> = {
  [TypeUrl.Listener]: { type: 'ListenersConfigDump', list: 'dynamic_listeners', entries: each((r, json) => ({ name: r.name, active_state: { version_info: r.hash, listener: json } })) },
  [TypeUrl.Cluster]: { type: 'ClustersConfigDump', list: 'dynamic_active_clusters', entries: each((r, json) => ({ version_info: r.hash, cluster: json })) },
  // Envoy lists scopes under the scoped_routes name of the connection managers: one name for all of Ferry's.
  [TypeUrl.ScopedRoute]: {
    type: 'ScopedRoutesConfigDump', list: 'dynamic_scoped_route_configs',
    entries: (resources, version) => (resources.length === 0 ? [] : [{ name: SCOPED_ROUTES_NAME, version_info: version, scoped_route_configs: resources.map((resource) => resourceToEnvoyJson(resource)) }]),
  },
  [TypeUrl.Route]: { type: 'RoutesConfigDump', list: 'dynamic_route_configs', entries: each((r, json) => ({ version_info: r.hash, route_config: json })) },
  [TypeUrl.Secret]: { type: 'SecretsConfigDump', list: 'dynamic_active_secrets', entries: each((r, json) => ({ name: r.name, version_info: r.hash, secret: json })) },
  [TypeUrl.Endpoint]: { type: 'EndpointsConfigDump', list: 'dynamic_endpoint_configs', entries: each((r, json) => ({ version_info: r.hash, endpoint_config: json })) },
};

/** One dump entry per resource. */
function each(entry: (resource: XdsResource, json: Record<string, unknown>) => Record<string, unknown>): (resources: readonly XdsResource[]) => Array<Record<string, unknown>> {
  return (resources) => resources.map((resource) => entry(resource, resourceToEnvoyJson(resource)));
}

/** Envoy's own dump order: bootstrap first, then clusters, endpoints, listeners, routes, secrets. */
const DUMP_ORDER: readonly TypeUrl[] = [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.ScopedRoute, TypeUrl.Route, TypeUrl.Secret];

export function parseDumpType(type: string | undefined): TypeUrl | undefined {
  if (type === undefined || type === '') return undefined;
  const lower = type.toLowerCase();
  const found = PUSH_ORDER.find((typeUrl) => SHORT_NAME[typeUrl] === lower || typeUrl === type) ?? DISCOVERY_NAMES[lower];
  if (!found) throw new Error(`unknown resource type "${type}": use one of ${PUSH_ORDER.map((t) => SHORT_NAME[t]).join(', ')} (or cds, eds, lds, srds, rds, sds)`);
  return found;
}

export function parseDumpRole(role: string | undefined): GatewayRole | undefined {
  if (role === undefined || role === '') return undefined;
  if (!(GATEWAY_ROLES as readonly string[]).includes(role)) throw new Error(`unknown gateway role "${role}": use external or local`);
  return role as GatewayRole;
}

/**
 * What Ferry serves, per gateway role, as Envoy's /config_dump would print it after taking all of it (resource
 * versions are the delta xDS versions, i.e. content hashes). Key material is always redacted.
 */
export function buildConfigDump(served: ServedResources, query: ConfigDumpQuery): Partial<Record<GatewayRole, EnvoyConfigDump>> {
  const role = parseDumpRole(query.role);
  const type = parseDumpType(query.type);
  const dump: Partial<Record<GatewayRole, EnvoyConfigDump>> = {};
  for (const gatewayRole of GATEWAY_ROLES.filter((r) => role === undefined || r === role)) {
    dump[gatewayRole] = {
      configs: DUMP_ORDER.filter((t) => type === undefined || t === type).map((typeUrl) => {
        const shape = DUMP_SHAPE[typeUrl];
        const resources = served.list([gatewayRole], typeUrl)
          .filter((resource) => query.name === undefined || query.name === '' || resource.name === query.name)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const version = served.version([gatewayRole], typeUrl);
        return {
          '@type': `type.googleapis.com/envoy.admin.v3.${shape.type}`,
          version_info: version,
          [shape.list]: shape.entries(resources, version),
        };
      }),
    };
  }
  return dump;
}
