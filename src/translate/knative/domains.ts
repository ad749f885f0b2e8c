import type { KnativeConfig } from '../../model/config.js';
import { domainNameProblem } from '../../model/names.js';
import { parseGoTemplate } from '../../model/template.js';
import { DEFAULT_DOMAIN_TEMPLATE } from '../../model/config.js';
import { LEGACY_VISIBILITY_LABEL, VISIBILITY_CLUSTER_LOCAL, VISIBILITY_LABEL } from '../../model/serving.js';
import type { Visibility } from '../../model/ingress.js';

/** Host names of Routes, as Knative Serving's route/domains package computes them. */

const defaultDomainTemplate = parseGoTemplate(DEFAULT_DOMAIN_TEMPLATE);

export interface RouteMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function isClusterLocalLabelled(labels: Record<string, string> | undefined): boolean {
  return labels?.[VISIBILITY_LABEL] === VISIBILITY_CLUSTER_LOCAL || labels?.[LEGACY_VISIBILITY_LABEL] === VISIBILITY_CLUSTER_LOCAL;
}

/** `<name>` for the default target, the tag template (`{{.Tag}}-{{.Name}}`) for a tag. */
export function hostnameFromTemplate(config: KnativeConfig, name: string, tag: string): string {
  if (tag === '') return name;
  return config.network.tagTemplate.execute({ Name: name, Tag: tag });
}

/** The config-domain domain for a Route's labels: the most specific matching selector wins, ties by name. */
export function lookupDomainForLabels(config: KnativeConfig, labels: Record<string, string> = {}): string {
  if (isClusterLocalLabelled(labels)) return `svc.${config.clusterDomain}`;
  let domain = '';
  let specificity = -1;
  for (const candidate of config.domain.domains) {
    const selector = Object.entries(candidate.selector);
    if (!selector.every(([key, value]) => labels[key] === value) || selector.length < specificity) continue;
    if (selector.length > specificity || candidate.domain < domain) {
      domain = candidate.domain;
      specificity = selector.length;
    }
  }
  return domain;
}

/** Whole-Route visibility: cluster-local when its domain is the cluster's own (by label or by config-domain). */
export function routeVisibility(config: KnativeConfig, route: RouteMeta): Visibility {
  return lookupDomainForLabels(config, route.labels) === `svc.${config.clusterDomain}` ? 'ClusterLocal' : 'ExternalIP';
}

/** Applies the domain template (the default one for cluster-local Routes); throws when the result is no domain name. */
function domainNameFromTemplate(config: KnativeConfig, route: RouteMeta, hostname: string, clusterLocal: boolean): string {
  const labels = withVisibility(route.labels, clusterLocal);
  const template = isClusterLocalLabelled(labels) ? defaultDomainTemplate : config.network.domainTemplate;
  const domain = template.execute({
    Name: hostname,
    Namespace: route.namespace,
    Domain: lookupDomainForLabels(config, labels),
    Annotations: route.annotations ?? {},
    Labels: labels,
  });
  const problem = domainNameProblem(domain);
  if (problem) throw new Error(`invalid domain name "${domain}" from domain template ${config.network.domainTemplate.source}: ${problem}`);
  return domain;
}

/** Hosts of one target (tag) for one visibility, sorted; cluster-local hosts come with their short forms. */
export function domainsForVisibility(config: KnativeConfig, route: RouteMeta, tag: string, visibility: Visibility): string[] {
  const hostname = hostnameFromTemplate(config, route.name, tag);
  const clusterLocal = visibility === 'ClusterLocal';
  const full = domainNameFromTemplate(config, route, hostname, clusterLocal);
  return clusterLocal ? expandedHosts([full], config.clusterDomain) : [full];
}

/** `name.ns.svc.cluster.local` → also `name.ns.svc` and `name.ns` (knative.dev/networking ExpandedHosts). */
export function expandedHosts(hosts: string[], clusterDomain: string): string[] {
  const suffixes = ['', `.${clusterDomain}`, `.svc.${clusterDomain}`];
  const expanded = new Set<string>();
  for (const host of hosts) {
    for (const suffix of suffixes) {
      const trimmed = suffix === '' ? host : host.endsWith(suffix) ? host.slice(0, -suffix.length) : undefined;
      if (trimmed !== undefined && isValidTopLevelDomain(trimmed)) expanded.add(trimmed);
    }
  }
  return [...expanded].sort();
}

function isValidTopLevelDomain(domain: string): boolean {
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  return tld.length <= 63 && /[^0-9]/.test(tld);
}

function withVisibility(labels: Record<string, string> | undefined, clusterLocal: boolean): Record<string, string> {
  const copy = { ...(labels ?? {}) };
  delete copy[LEGACY_VISIBILITY_LABEL];
  if (clusterLocal) copy[VISIBILITY_LABEL] = VISIBILITY_CLUSTER_LOCAL;
  else delete copy[VISIBILITY_LABEL];
  return copy;
}
