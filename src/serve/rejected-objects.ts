import type { IngressStatus, KIngress } from '../model/ingress.js';
import { objectKey } from '../model/meta.js';
import { condition } from '../status/ingress-status.js';
import type { CurrentRejection } from '../xds/rejections.js';
import { SHORT_NAME, TypeUrl } from '../xds/resource-types.js';

/**
 * The rejections that concern a KIngress, read from Ferry's resource names: its own route tables (`<role>/<ns>/<name>`)
 * and scopes (`<role>/<host>`), the clusters and endpoints of the Services it splits to (`<ns>/<service>:<port>`), the
 * Secrets of its spec.tls (`<ns>/<secret>`). Listeners are shared by every KIngress: theirs concern none in particular.
 */
export function rejectionsOfIngress(ingress: KIngress, rejections: readonly CurrentRejection[]): CurrentRejection[] {
  if (rejections.length === 0) return [];
  return rejections.filter((rejection) => concerns(ingress, rejection.typeUrl, rejection.name));
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
