import type { KnativeConfig } from '../../model/config.js';
import type { HTTPIngressPath, HttpOption, IngressBackendSplit, IngressRule, IngressTLS, KIngress, Visibility } from '../../model/ingress.js';
import type { KubeObject } from '../../model/meta.js';
import { INGRESS_API_VERSION, INGRESS_CLASS_ANNOTATION } from '../../model/ingress.js';
import type { Route } from '../../model/serving.js';
import {
  HTTP_PROTOCOL_ANNOTATION, LAST_APPLIED_ANNOTATION, LEGACY_HTTP_PROTOCOL_ANNOTATION, REVISION_HEADER, REVISION_NAMESPACE_HEADER,
  ROUTE_LABEL, ROUTE_NAMESPACE_LABEL, TAG_HEADER,
} from '../../model/serving.js';
import { domainsForVisibility, routeVisibility, type RouteMeta } from './domains.js';
import type { RevisionProtocol, RevisionTarget, TrafficConfig } from './traffic.js';

/** Knative's public revision Service ports: http 80, h2c ("http2") 81. */
export const REVISION_SERVICE_PORT: Record<RevisionProtocol, number> = { http1: 80, h2c: 81 };
/** Knative's public revision Service TLS port (`https`, to the queue-proxy's 8112), for config-network system-internal-tls. */
export const REVISION_HTTPS_PORT = 443;
/** Appended to the default target's path when tag-header routing is on, so the revision knows it was not routed by tag. */
export const DEFAULT_ROUTE_HEADER = 'Knative-Serving-Default-Route';

/**
 * Knative's route resources.MakeIngress: one KIngress named after the Route. For each target (the default one,
 * then tags in order) a ClusterLocal rule with the cluster-local hosts and, unless the Route is cluster-local, an
 * ExternalIP rule with the domain-template host. Each split goes to the revision's public Service with the
 * revision headers. Throws (with a message for the Route's status) when a host name cannot be made.
 */
export function routeToIngress(route: Route, traffic: TrafficConfig, config: KnativeConfig): KIngress {
  const meta: RouteMeta = { name: route.metadata.name, namespace: route.metadata.namespace ?? '', labels: route.metadata.labels, annotations: route.metadata.annotations };
  const tags = [...traffic.targets.keys()].sort();
  const visibility = routeVisibility(config, meta);
  const rules: IngressRule[] = [];
  for (const tag of tags) {
    const visibilities: Visibility[] = visibility === 'ClusterLocal' ? ['ClusterLocal'] : ['ClusterLocal', 'ExternalIP'];
    for (const ruleVisibility of visibilities) {
      const basePath = makeBasePath(meta.namespace, traffic.targets.get(tag)!, config);
      const paths: HTTPIngressPath[] = [basePath];
      if (config.features.tagHeaderBasedRouting) {
        if (tag === '') {
          basePath.appendHeaders = { ...basePath.appendHeaders, [DEFAULT_ROUTE_HEADER]: 'true' };
          const tagPaths = tags.filter((t) => t !== '').map((t) => ({ headers: { [TAG_HEADER]: { exact: t } }, ...makeBasePath(meta.namespace, traffic.targets.get(t)!, config) }));
          paths.unshift(...tagPaths);
        } else {
          basePath.appendHeaders = { ...basePath.appendHeaders, [TAG_HEADER]: tag };
        }
      }
      rules.push({ hosts: domainsForVisibility(config, meta, tag, ruleVisibility), visibility: ruleVisibility, http: { paths } });
    }
  }
  return makeIngress(route.metadata, { [ROUTE_LABEL]: route.metadata.name, [ROUTE_NAMESPACE_LABEL]: meta.namespace }, [], rules, config);
}

/**
 * The KIngress of a Route or DomainMapping (the owner): its name and namespace, its labels plus the owner labels,
 * the ingress class and its own annotations, its httpOption.
 */
export function makeIngress(owner: KubeObject['metadata'], ownerLabels: Record<string, string>, tls: IngressTLS[], rules: IngressRule[], config: KnativeConfig): KIngress {
  const httpOption = routeHttpOption(owner.annotations, config);
  return {
    apiVersion: INGRESS_API_VERSION,
    kind: 'Ingress',
    metadata: {
      name: owner.name,
      namespace: owner.namespace ?? '',
      labels: { ...(owner.labels ?? {}), ...ownerLabels },
      annotations: ingressAnnotations(owner.annotations, config),
    },
    spec: {
      ...(tls.length > 0 ? { tls } : {}),
      rules,
      ...(httpOption ? { httpOption } : {}),
    },
  };
}

function makeBasePath(namespace: string, targets: RevisionTarget[], config: KnativeConfig): HTTPIngressPath {
  const splits: IngressBackendSplit[] = targets
    .filter((t) => t.percent !== 0)
    .map((t) => ({
      serviceNamespace: namespace,
      serviceName: t.revisionName,
      // The port of the public Service must match the activator's, so that scale-from-zero hands off seamlessly;
      // with system-internal-tls, the TLS port whatever the protocol (Knative's makeBaseIngressPath).
      servicePort: config.network.systemInternalTls ? REVISION_HTTPS_PORT : REVISION_SERVICE_PORT[t.protocol],
      percent: t.percent,
      appendHeaders: { [REVISION_HEADER]: t.revisionName, [REVISION_NAMESPACE_HEADER]: namespace },
    }));
  return { splits };
}

/** The KIngress's annotations: the ingress class from config-network, then the owner's own, less kubectl's copy of it. */
export function ingressAnnotations(owner: Record<string, string> | undefined, config: KnativeConfig): Record<string, string> {
  const annotations: Record<string, string> = { [INGRESS_CLASS_ANNOTATION]: config.network.ingressClass, ...(owner ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  return annotations;
}

/** networking.knative.dev/http-protocol on the Route wins over config-network's http-protocol; Disabled sets none. */
export function routeHttpOption(annotations: Record<string, string> | undefined, config: KnativeConfig): HttpOption | undefined {
  const annotated = annotations?.[HTTP_PROTOCOL_ANNOTATION] ?? annotations?.[LEGACY_HTTP_PROTOCOL_ANNOTATION];
  if (annotated) {
    const value = annotated.toLowerCase();
    if (value === 'enabled') return 'Enabled';
    if (value === 'redirected') return 'Redirected';
    if (value === 'disabled') return undefined;
    throw new Error(`incorrect ${HTTP_PROTOCOL_ANNOTATION} annotation: "${annotated}" (use Enabled, Redirected or Disabled)`);
  }
  return config.network.httpProtocol === 'Disabled' ? undefined : config.network.httpProtocol;
}
