import { isExternalRule, type HTTPIngressPath, type IngressBackendSplit, type KIngress } from '../../model/ingress.js';
import { flatJoin, objectKey } from '../../model/meta.js';
import type { GatewayRole } from '../../xds/roles.js';
import { probeHash } from '../probe-hash.js';
import { resolveBackend, type Backend } from './backends.js';
import type { ObjectRef, TranslateContext } from './config.js';
import { routeAuthorization, type RouteAuthorization } from './ext-authz-routes.js';
import { listenerName } from './names.js';
import { routablePaths, sortedMap } from './paths.js';
import type { Route } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import { buildHttpsRedirectRoute, buildRoute, type RoutePath, type RouteSplit } from './route.js';
import { encodeVirtualHost, type EncodedVirtualHost } from './virtual-host.js';
import { REVISION_HEADER, REVISION_NAMESPACE_HEADER } from '../../model/serving.js';

/** spec.tls hosts of one role that present one certificate. */
export interface TlsHosts {
  /** Names the KIngress field, e.g. `default/hello:spec.tls[0]`. */
  name: string;
  serverNames: string[];
  secret: ObjectRef;
}

/** What one KIngress contributes to one gateway role. */
export interface RoleTranslation {
  /** Virtual hosts of the plain-HTTP listener (301 to https for Redirected hosts on the external role). */
  httpVirtualHosts: EncodedVirtualHost[];
  /** Virtual hosts of the HTTPS listener. */
  httpsVirtualHosts: EncodedVirtualHost[];
  /**
   * Scoped route tables: the virtual hosts both listeners share. The same as httpsVirtualHosts, except that
   * Redirected hosts of the external role also redirect requests that came through the plain-HTTP listener.
   */
  sharedVirtualHosts: EncodedVirtualHost[];
  tls: TlsHosts[];
  /** Upstream clusters the routes send to, one per cluster name (an array: a Map per role and KIngress costs ~3 MB at 10k). */
  backends: readonly Backend[];
}

/**
 * The per-KIngress intermediate result, cacheable by the caller: it depends only on the KIngress (its
 * spec, namespace/name, creationTimestamp and disable-ext-authz annotation), the Services in
 * `dependencies.services` and the config.
 * Endpoints and Secret contents are read later by buildGatewayResources.
 */
export interface IngressTranslation {
  key: string;
  creationTimestamp: string | undefined;
  /** K-Network-Hash of this KIngress: what its probe routes set. */
  probeHash: string;
  /** Every host of every rule, for conflict detection. */
  hosts: string[];
  roles: Record<GatewayRole, RoleTranslation>;
  /**
   * Scoped and sharded route tables: the virtual hosts of one table that both roles' scopes point to, when the roles
   * route alike (every external virtual host is also the local role's, every local cluster the external role's);
   * undefined when each role needs a table of its own. Rules that route alike (Knative's Routes write an external
   * and a cluster-local rule with the same splits) are one virtual host there, with the hosts of both: the scope
   * keys keep the roles apart (an external listener has no scope for a cluster-local host), so the table may hold
   * both. At 10k Knative Services that halves the routes a gateway holds.
   */
  sharedTable: EncodedVirtualHost[] | undefined;
  dependencies: { services: string[]; secrets: string[] };
  /** Problems naming the KIngress field; the rest of the KIngress is still translated. */
  warnings: string[];
}

export function translateIngress(ingress: KIngress, ctx: TranslateContext): IngressTranslation {
  const key = objectKey(ingress);
  const hash = probeHash(ingress);
  const warnings: string[] = [];
  const services = new Set<string>();
  const roles: Record<GatewayRole, RoleParts> = { external: emptyRole(), local: emptyRole() };
  const roleHosts: Record<GatewayRole, Set<string>> = { external: new Set(), local: new Set() };
  const redirected = (ingress.spec.httpOption ?? ctx.config.defaultHttpOption) === 'Redirected';
  const authorization = routeAuthorization(ingress, key, ctx.config, warnings);
  /** The local role's rules as routed (every rule is served there), for the table both roles may share. */
  const localRules: LocalRule[] = [];

  const splitsOf = (path: HTTPIngressPath, pathField: string, backends: Map<string, Backend>): RouteSplit[] =>
    path.splits.map((split, k) => {
      const field = `${pathField}.splits[${k}]`;
      services.add(flatJoin('/', split.serviceNamespace, split.serviceName));
      const resolved = resolveBackend(split, ctx.service(split.serviceNamespace, split.serviceName), field);
      if (resolved.warning) warnings.push(resolved.warning);
      if (resolved.backend) backends.set(resolved.clusterName, resolved.backend);
      return {
        clusterName: resolved.clusterName,
        weight: splitWeight(split, path.splits.length),
        appendHeaders: sortedMap(Object.entries(splitHeaders(split, resolved.backend))),
      };
    });

  (ingress.spec.rules ?? []).forEach((rule, i) => {
    const ruleField = `spec.rules[${i}]`;
    if (!rule.http) {
      warnings.push(`${key}:${ruleField}.http is missing; the rule is not served`);
      return;
    }
    const ruleBackends = new Map<string, Backend>();
    const paths = routablePaths(rule, `${key}:${ruleField}`, hash, (path, field) => splitsOf(path, field, ruleBackends)).map((path) => authorization.route(dropForbiddenHeaders(path, warnings)));
    const routes = paths.map(buildRoute);
    const servedBy: GatewayRole[] = isExternalRule(rule) ? ['external', 'local'] : ['local'];
    const encoded = new Map<string, EncodedVirtualHost>();
    const name = `${key}:${ruleField}`;
    for (const role of servedBy) {
      const hosts = uniqueHosts(rule.hosts ?? [], roleHosts[role], `${key}:${ruleField}.hosts`, warnings);
      if (hosts.length === 0) continue;
      const hostsKey = hosts.join(',');
      const virtualHost = encoded.get(hostsKey) ?? encodeVirtualHost(name, hosts, routes, authorization.virtualHost);
      encoded.set(hostsKey, virtualHost);
      const target = roles[role];
      target.httpsVirtualHosts.push(virtualHost);
      const redirect = role === 'external' && redirected;
      target.httpVirtualHosts.push(redirect ? redirectVirtualHost(name, hosts, paths, authorization.virtualHost) : virtualHost);
      target.sharedVirtualHosts.push(redirect ? encodeVirtualHost(name, hosts, [...probeRoutes(paths), buildHttpsRedirectRoute(`${name}:redirect`, listenerName(role, 'http')), ...routes], authorization.virtualHost) : virtualHost);
      for (const [clusterName, backend] of ruleBackends) target.backends.set(clusterName, backend);
      if (role === 'local') localRules.push({ name, hosts, paths, routes, virtualHost });
    }
  });

  const sharedTable = sharedTableOf(roles, localRules, authorization);
  const secrets = new Set<string>();
  (ingress.spec.tls ?? []).forEach((tls, i) => {
    const field = `${key}:spec.tls[${i}]`;
    for (const role of ['external', 'local'] as const) {
      const serverNames = [...new Set(tls.hosts ?? [])].filter((host) => roleHosts[role].has(host));
      if (serverNames.length === 0) continue;
      roles[role].tls.push({ name: field, serverNames, secret: { namespace: tls.secretNamespace, name: tls.secretName } });
      secrets.add(`${tls.secretNamespace}/${tls.secretName}`);
    }
  });

  const finished = { external: finishedRole(roles.external, warnings), local: finishedRole(roles.local, warnings) };
  return {
    key,
    creationTimestamp: ingress.metadata.creationTimestamp,
    probeHash: hash,
    hosts: [...new Set([...roleHosts.external, ...roleHosts.local])],
    roles: finished,
    sharedTable: sharedTable === 'local' ? finished.local.sharedVirtualHosts : sharedTable,
    dependencies: { services: [...services].sort(), secrets: [...secrets].sort() },
    warnings: [...new Set(warnings)],
  };
}

/** One rule as the local role serves it. */
interface LocalRule {
  name: string;
  hosts: string[];
  paths: RoutePath[];
  routes: Route[];
  virtualHost: EncodedVirtualHost;
}

/** See IngressTranslation.sharedTable; 'local': the local role's virtual hosts as they are (no two rules route alike). */
function sharedTableOf(roles: Record<GatewayRole, RoleParts>, localRules: readonly LocalRule[], authorization: RouteAuthorization): EncodedVirtualHost[] | 'local' | undefined {
  const { external, local } = roles;
  if (external.sharedVirtualHosts.length === 0) return undefined;
  const localVirtualHosts = new Set(local.sharedVirtualHosts);
  if (!external.sharedVirtualHosts.every((virtualHost) => localVirtualHosts.has(virtualHost))) return undefined;
  for (const clusterName of local.backends.keys()) if (!external.backends.has(clusterName)) return undefined;
  if (localRules.length < 2) return 'local';
  const groups = new Map<string, LocalRule[]>();
  for (const rule of localRules) {
    const routing = routingOf(rule.paths);
    const alike = groups.get(routing);
    if (alike) alike.push(rule);
    else groups.set(routing, [rule]);
  }
  if (groups.size === localRules.length) return 'local';
  return [...groups.values()].map((alike) => alike.length === 1
    ? alike[0]!.virtualHost
    : encodeVirtualHost(alike[0]!.name, alike.flatMap((rule) => rule.hosts), alike[0]!.routes, authorization.virtualHost));
}

/** What a rule's paths do, without their names: rules with the same routing serve their hosts alike. */
function routingOf(paths: readonly RoutePath[]): string {
  return JSON.stringify(paths.map((path) => [
    path.isProbe, path.prefix, [...path.headers], [...path.appendHeaders], path.rewriteHost ?? null,
    path.splits.map((split) => [split.clusterName, split.weight, [...split.appendHeaders]]),
    Object.entries(path.typedPerFilterConfig ?? {}).map(([filter, any]) => [filter, any.typeUrl, Buffer.from(any.value).toString('base64')]),
  ]));
}

/** A role's translation while it is built: backends by cluster name. */
type RoleParts = Omit<RoleTranslation, 'backends'> & { backends: Map<string, Backend> };

function emptyRole(): RoleParts {
  return { httpVirtualHosts: [], httpsVirtualHosts: [], sharedVirtualHosts: [], tls: [], backends: new Map() };
}

/**
 * A role's translation as it is kept: TLS server names named twice dropped (with a warning), backends as an array.
 * Translations are kept for every KIngress, and an array filled by push keeps room for 17 elements (~170 bytes
 * for one virtual host): the kept arrays are exact copies.
 */
function finishedRole(role: RoleParts, warnings: string[]): RoleTranslation {
  return {
    httpVirtualHosts: role.httpVirtualHosts.slice(),
    httpsVirtualHosts: role.httpsVirtualHosts.slice(),
    sharedVirtualHosts: role.sharedVirtualHosts.slice(),
    tls: withoutRepeatedServerNames(role.tls, warnings).slice(),
    backends: [...role.backends.values()],
  };
}

/** Knative defaults a lone split to 100%. */
function splitWeight(split: IngressBackendSplit, splitCount: number): number {
  if (split.percent === undefined || split.percent === null) return splitCount === 1 ? 100 : 0;
  return split.percent;
}

/**
 * The activator needs Knative-Serving-Revision/-Namespace to know whom to wake when it receives a
 * fallback request. Knative's Route→KIngress sets them; when neither is there, derive them from the split.
 */
function splitHeaders(split: IngressBackendSplit, backend: Backend | undefined): Record<string, string> {
  const headers = { ...(split.appendHeaders ?? {}) };
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());
  if (backend && !backend.externalName && !has(REVISION_HEADER) && !has(REVISION_NAMESPACE_HEADER)) {
    headers[REVISION_HEADER] = split.serviceName;
    headers[REVISION_NAMESPACE_HEADER] = split.serviceNamespace;
  }
  return headers;
}

/** Envoy refuses (NACKs) request_headers_to_add for pseudo-headers and Host; rewriteHost is the way to change Host. */
function dropForbiddenHeaders(path: RoutePath, warnings: string[]): RoutePath {
  const allowed = (where: string) => ([name]: [string, string]) => {
    const forbidden = name.startsWith(':') || name.toLowerCase() === 'host';
    if (forbidden) warnings.push(`${where}.appendHeaders[${JSON.stringify(name)}] cannot be set by a gateway; use rewriteHost to change the Host`);
    return !forbidden;
  };
  return {
    ...path,
    appendHeaders: new Map([...path.appendHeaders].filter(allowed(path.name))),
    splits: path.splits.map((split, k) => ({ ...split, appendHeaders: new Map([...split.appendHeaders].filter(allowed(`${path.name}.splits[${k}]`))) })),
  };
}

/** A host may appear once per gateway role (Envoy rejects a route table with a repeated domain). */
function uniqueHosts(hosts: readonly string[], seen: Set<string>, field: string, warnings: string[]): string[] {
  const unique: string[] = [];
  for (const host of hosts) {
    if (seen.has(host)) {
      if (!unique.includes(host)) warnings.push(`${field}: host ${JSON.stringify(host)} is already served by an earlier rule; this rule's copy is ignored`);
      continue;
    }
    seen.add(host);
    unique.push(host);
  }
  return unique;
}

/** Probe routes stay reachable over plain HTTP (so the prober can check the gateway); everything else is redirected. */
function redirectVirtualHost(name: string, hosts: string[], paths: RoutePath[], typedPerFilterConfig: RouteAuthorization['virtualHost']): EncodedVirtualHost {
  return encodeVirtualHost(name, hosts, [...probeRoutes(paths), buildHttpsRedirectRoute(`${name}:redirect`)], typedPerFilterConfig);
}

function probeRoutes(paths: readonly RoutePath[]) {
  return paths.filter((path) => path.isProbe).map(buildRoute);
}

/** One server name may select only one filter chain; the first spec.tls entry naming it wins. */
function withoutRepeatedServerNames(tls: TlsHosts[], warnings: string[]): TlsHosts[] {
  const seen = new Set<string>();
  return tls.flatMap((entry) => {
    const serverNames = entry.serverNames.filter((host) => {
      if (seen.has(host)) {
        warnings.push(`${entry.name}.hosts: ${JSON.stringify(host)} already has a certificate from an earlier spec.tls entry; this one is ignored`);
        return false;
      }
      seen.add(host);
      return true;
    });
    return serverNames.length > 0 ? [{ ...entry, serverNames }] : [];
  });
}
