import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import type { IngressStatus, KIngress } from '../model/ingress.js';
import { objectKey } from '../model/meta.js';
import { condition } from '../status/ingress-status.js';
import { isShardTableName } from '../translate/envoy/sharded-routes.js';
import type { XdsCache } from '../xds/cache.js';
import type { CurrentRejection } from '../xds/rejections.js';
import type { XdsResource } from '../xds/resource.js';
import { SHORT_NAME, TypeUrl } from '../xds/resource-types.js';

/** A rejection, and for a shard route table (several KIngresses' virtual hosts) the keys of the KIngresses it concerns. */
export interface IngressRejection extends CurrentRejection {
  ingresses?: ReadonlySet<string>;
}

/**
 * The rejections that concern a KIngress, read from Ferry's resource names: its own route tables (`<role>/<ns>/<name>`)
 * and scopes (`<role>/<host>`), the clusters and endpoints of the Services it splits to (`<ns>/<service>:<port>`), the
 * Secrets of its spec.tls (`<ns>/<secret>`); a shard route table's rejection says which KIngresses it concerns
 * (withShardMembers). Listeners are shared by every KIngress: theirs concern none in particular.
 */
export function rejectionsOfIngress(ingress: KIngress, rejections: readonly IngressRejection[]): IngressRejection[] {
  if (rejections.length === 0) return [];
  return rejections.filter((rejection) => (rejection.ingresses ? rejection.ingresses.has(objectKey(ingress)) : concerns(ingress, rejection.typeUrl, rejection.name)));
}

/** Adds to each rejection of a shard route table the KIngresses it concerns, read from the table the cache serves. */
export function withShardMembers(rejections: readonly CurrentRejection[], cache: XdsCache): IngressRejection[] {
  return rejections.map((rejection) => {
    if (rejection.typeUrl !== TypeUrl.Route || !isShardTableName(rejection.name)) return rejection;
    // A `both/` table is the same in both roles' views; `external/` and `local/` ones are in their role's only.
    const table = cache.get([rejection.name.startsWith('local/') ? 'local' : 'external'], TypeUrl.Route, rejection.name);
    return table ? { ...rejection, ingresses: ingressesBlamed(table, rejection.message) } : rejection;
  });
}

/** Per table content and message: the KIngresses blamed (statuses are read often, a rejected shard decoded once). */
const blamed = new WeakMap<XdsResource, { message: string; ingresses: ReadonlySet<string> }>();

/**
 * The members of a rejected shard table whose virtual host Envoy's message names: by its position (a validation error,
 * `RouteConfigurationValidationError.VirtualHosts[3]`, after a dump of the table), or, in a message without a dump of
 * the table (which names members with no fault, and is cut at 4 KiB, often before the reason), by its name or one of
 * its domains (`Duplicate entry of domain ...`); every member when it names none.
 */
export function ingressesBlamed(table: XdsResource, message: string): ReadonlySet<string> {
  const known = blamed.get(table);
  if (known?.message === message) return known.ingresses;
  const virtualHosts = RouteConfiguration.decode(table.bytes).virtualHosts;
  const positions = new Set([...message.matchAll(/RouteConfigurationValidationError\.VirtualHosts\[(\d+)\]/g)].map((match) => Number(match[1])));
  const dumped = message.includes(`name: "${table.name}"`);
  const named = positions.size > 0 ? virtualHosts.filter((_, i) => positions.has(i))
    : dumped ? [] : virtualHosts.filter((virtualHost) => message.includes(virtualHost.name) || virtualHost.domains.some((domain) => namesDomain(message, domain)));
  const ingresses = new Set((named.length > 0 ? named : virtualHosts).map((virtualHost) => ingressOfVirtualHost(virtualHost.name)));
  blamed.set(table, { message, ingresses });
  return ingresses;
}

/** Virtual hosts are named `<namespace>/<name>:spec.rules[i]` (ingress-translation.ts); namespaces and names hold no ':'. */
function ingressOfVirtualHost(name: string): string {
  return name.slice(0, name.indexOf(':'));
}

/** The domain as a whole word of the message: `a.example.com` is not named by `data.example.com`. */
function namesDomain(message: string, domain: string): boolean {
  for (let at = message.indexOf(domain); at >= 0; at = message.indexOf(domain, at + 1)) {
    if (!/[\w.*-]/.test(message[at - 1] ?? '') && !/[\w.:-]/.test(message[at + domain.length] ?? '')) return true;
  }
  return false;
}

function concerns(ingress: KIngress, typeUrl: TypeUrl, name: string): boolean {
  const rules = ingress.spec.rules ?? [];
  const afterRole = name.slice(name.indexOf('/') + 1);
  switch (typeUrl) {
    case TypeUrl.Route:
      return afterRole === objectKey(ingress);
    case TypeUrl.ScopedRoute:
      return rules.some((rule) => rule.hosts?.includes(afterRole));
    case TypeUrl.Cluster:
    case TypeUrl.Endpoint:
      return rules.some((rule) => rule.http?.paths.some((path) => path.splits.some((split) => name.startsWith(`${split.serviceNamespace}/${split.serviceName}:`))));
    case TypeUrl.Secret:
      return (ingress.spec.tls ?? []).some((tls) => name === `${tls.secretNamespace}/${tls.secretName}`);
    default:
      return false;
  }
}

/**
 * A KIngress whose resources a gateway rejects is not Ready, with Envoy's reason: the gateway serves the last good
 * version of those resources, so the latest change of this KIngress is not served. It recovers once the input is fixed.
 */
export function withRejections(status: IngressStatus, rejections: readonly CurrentRejection[]): IngressStatus {
  const causes = rejections.map((rejection) => `gateway ${rejection.nodeId} rejected ${SHORT_NAME[rejection.typeUrl]} ${rejection.name}: ${rejection.message}`);
  const message = `${[...new Set(causes)].join('; ')}; the gateway keeps serving the last version it accepted; fix the input and the change goes out by itself`;
  const notReady = condition('LoadBalancerReady', 'False', 'GatewayRejected', message);
  const configured = status.conditions?.find((c) => c.type === 'NetworkConfigured') ?? condition('NetworkConfigured', 'True');
  return { observedGeneration: status.observedGeneration, conditions: [notReady, configured, { ...notReady, type: 'Ready' }] };
}
