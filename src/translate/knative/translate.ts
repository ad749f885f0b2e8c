import type { KnativeConfig } from '../../model/config.js';
import type { KIngress } from '../../model/ingress.js';
import type { Service } from '../../model/kube.js';
import type { Condition } from '../../model/meta.js';
import type { ClusterDomainClaim, DomainMapping, KnativeService, Route, TrafficTarget } from '../../model/serving.js';
import { resolveDomainClaims } from './claims.js';
import { domainMappingToIngress, resolveDomainMappingTarget } from './domain-mapping-to-ingress.js';
import { domainsForVisibility, routeVisibility } from './domains.js';
import { routeToIngress } from './route-to-ingress.js';
import { KnativeMemo, trafficSignature } from './memo.js';
import { placeholderService } from './placeholder-service.js';
import { latestRevisionName, revisionProtocol, serviceToRoute } from './service-to-route.js';
import { TrafficError, buildTrafficConfig, type RevisionProtocol, type RevisionResolver, type TrafficConfig } from './traffic.js';

export interface KnativeInputs {
  config: KnativeConfig;
  services: KnativeService[];
  routes: Route[];
  domainMappings: DomainMapping[];
  claims: ClusterDomainClaim[];
  /** KIngresses given as such (e.g. written by Knative Serving, or by hand in files mode); passed through. */
  ingresses: KIngress[];
  /** Core Services, for DomainMappings that point at one. */
  coreServices: Service[];
}

export interface ObjectReference {
  kind: 'Service' | 'Route' | 'DomainMapping' | 'Ingress';
  namespace: string;
  name: string;
}

export function sameObject(a: ObjectReference, b: ObjectReference): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/** `Kind/namespace/name`: an ObjectReference as a map key. */
export function referenceKey(ref: ObjectReference): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export interface TranslatedIngress {
  ingress: KIngress;
  /** The object the KIngress comes from (itself for a given KIngress), for status and error messages. */
  origin: ObjectReference;
}

/** What translation knows about an object's readiness; the KIngress's own readiness comes from the gateways. */
export interface KnativeStatus {
  object: ObjectReference;
  conditions: Condition[];
  url?: string;
  address?: string;
  traffic?: TrafficTarget[];
}

export interface KnativeTranslation {
  ingresses: TranslatedIngress[];
  /** The Routes in effect: those given plus those derived from Knative Services. */
  routes: Route[];
  /** ExternalName Services named after the Routes (when options.localGatewayHost is given), unless a core Service has the name. */
  placeholderServices: Service[];
  statuses: KnativeStatus[];
}

export interface KnativeTranslationOptions {
  /**
   * The local gateway's host (Knative: the KIngress's private load balancer domainInternal). When given, each Route
   * gets its placeholder Service, which is what a DomainMapping's KIngress routes to.
   */
  localGatewayHost?: string;
  /** Reuses what earlier passes made from unchanged objects (see memo.ts). */
  memo?: KnativeMemo;
}

/**
 * Knative Serving's Route and DomainMapping reconcilers as one pure function: Knative Services → Routes, Routes →
 * KIngresses, DomainMappings (with their ClusterDomainClaims) → KIngresses. Every KIngress carries its origin.
 */
export function translateKnative(inputs: KnativeInputs, options: KnativeTranslationOptions = {}): KnativeTranslation {
  const { config } = inputs;
  const result: KnativeTranslation = { ingresses: [], routes: [], placeholderServices: [], statuses: [] };
  const servicesByKey = new Map(inputs.services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const routeKeys = new Set(inputs.routes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`));
  const resolver = revisionResolver(inputs.services);

  const routes: Array<{ route: Route; origin: ObjectReference }> = inputs.routes.map((route) => ({ route, origin: reference('Route', route) }));
  for (const service of inputs.services) {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    if (routeKeys.has(key)) {
      result.statuses.push({ object: reference('Service', service), conditions: [condition('RoutesReady', 'False', 'NotOwned', `There is an existing Route ${key} that this Service does not own.`), condition('Ready', 'False', 'NotOwned', `There is an existing Route ${key} that this Service does not own.`)] });
      continue;
    }
    let route = options.memo?.routes.get(service);
    if (!route) {
      route = serviceToRoute(service);
      options.memo?.routes.set(service, route);
    }
    routes.push({ route, origin: reference('Service', service) });
  }

  const derivedIngressKeys = new Set<string>();
  for (const { route, origin } of routes) {
    result.routes.push(route);
    const status: KnativeStatus = { object: origin, conditions: [] };
    result.statuses.push(status);
    let traffic: TrafficConfig;
    try {
      traffic = buildTrafficConfig(route, resolver);
    } catch (error) {
      const reason = error instanceof TrafficError ? error.reason : 'TrafficError';
      status.conditions.push(condition('AllTrafficAssigned', 'False', reason, (error as Error).message), condition('Ready', 'False', reason, (error as Error).message));
      continue;
    }
    if (traffic.targets.size === 0) {
      status.conditions.push(condition('AllTrafficAssigned', 'False', 'NoTraffic', 'spec.traffic is empty: the Route routes nowhere'), condition('Ready', 'False', 'NoTraffic', 'spec.traffic is empty'));
      continue;
    }
    try {
      const signature = options.memo ? trafficSignature(traffic) : '';
      let made = options.memo?.ingresses.get(route);
      if (!made || made.config !== config || made.traffic !== signature) {
        made = { config, traffic: signature, ingress: routeToIngress(route, traffic, config), urls: routeUrls(route, traffic, config) };
        options.memo?.ingresses.set(route, made);
      }
      const { ingress } = made;
      derivedIngressKeys.add(`${ingress.metadata.namespace}/${ingress.metadata.name}`);
      result.ingresses.push({ ingress, origin });
      Object.assign(status, made.urls);
      status.conditions.push(condition('AllTrafficAssigned', 'True'));
    } catch (error) {
      status.conditions.push(condition('IngressReady', 'False', 'IngressNotConfigured', (error as Error).message), condition('Ready', 'False', 'IngressNotConfigured', (error as Error).message));
    }
  }

  const claims = resolveDomainClaims(inputs.domainMappings, inputs.claims, config.network.autocreateClusterDomainClaims);
  const coreServiceKeys = new Set(inputs.coreServices.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  if (options.localGatewayHost) {
    for (const route of result.routes) {
      if (coreServiceKeys.has(`${route.metadata.namespace}/${route.metadata.name}`)) continue;
      let made = options.memo?.placeholders.get(route);
      if (!made || made.host !== options.localGatewayHost) {
        made = { host: options.localGatewayHost, service: placeholderService(route, options.localGatewayHost) };
        options.memo?.placeholders.set(route, made);
      }
      result.placeholderServices.push(made.service);
    }
  }
  const routeKeysInEffect = new Set(result.routes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`));
  for (const mapping of inputs.domainMappings) {
    const key = `${mapping.metadata.namespace}/${mapping.metadata.name}`;
    const status: KnativeStatus = { object: reference('DomainMapping', mapping), conditions: [] };
    result.statuses.push(status);
    const claim = claims.get(key)!;
    if (!claim.claimed) {
      status.conditions.push(condition('DomainClaimed', 'False', claim.reason, claim.message), condition('Ready', 'False', claim.reason, claim.message));
      continue;
    }
    status.conditions.push(condition('DomainClaimed', 'True'));
    const exists = (kind: string, name: string): boolean => {
      const target = `${mapping.metadata.namespace}/${name}`;
      if (kind === 'v1/Service') return coreServiceKeys.has(target);
      if (kind === 'serving.knative.dev/v1/Service') return servicesByKey.has(target);
      return routeKeysInEffect.has(target);
    };
    try {
      const target = resolveDomainMappingTarget(mapping, config, exists);
      status.conditions.push(condition('ReferenceResolved', 'True'));
      let made = options.memo?.mappings.get(mapping);
      if (!made || made.config !== config || made.target.host !== target.host || made.target.serviceName !== target.serviceName) {
        made = { config, target, ingress: domainMappingToIngress(mapping, target, config) };
        options.memo?.mappings.set(mapping, made);
      }
      const { ingress } = made;
      const ingressKey = `${ingress.metadata.namespace}/${ingress.metadata.name}`;
      if (derivedIngressKeys.has(ingressKey)) throw new Error(`a Route already owns the KIngress ${ingressKey}`);
      derivedIngressKeys.add(ingressKey);
      result.ingresses.push({ ingress, origin: status.object });
      status.url = `${ingress.spec.tls ? 'https' : 'http'}://${mapping.metadata.name}`;
      status.address = status.url;
    } catch (error) {
      status.conditions.push(condition('ReferenceResolved', 'False', 'ResolveFailed', (error as Error).message), condition('Ready', 'False', 'ResolveFailed', (error as Error).message));
    }
  }

  for (const ingress of inputs.ingresses) {
    const key = `${ingress.metadata.namespace}/${ingress.metadata.name}`;
    if (derivedIngressKeys.has(key)) {
      result.statuses.push({ object: reference('Ingress', ingress), conditions: [condition('Ready', 'False', 'NotOwned', `the KIngress ${key} is made from a Route or DomainMapping of the same name, which wins; rename one of them`)] });
      continue;
    }
    result.ingresses.push({ ingress, origin: reference('Ingress', ingress) });
  }
  return result;
}

/** In files mode a configuration's latest revision is that of the Knative Service of the same name. */
export function revisionResolver(services: KnativeService[], protocols: Map<string, RevisionProtocol> = new Map()): RevisionResolver {
  const latest = new Map<string, string>();
  const protocolByRevision = new Map(protocols);
  for (const service of services) {
    const revision = latestRevisionName(service);
    latest.set(`${service.metadata.namespace}/${service.metadata.name}`, revision);
    if (!protocolByRevision.has(`${service.metadata.namespace}/${revision}`)) protocolByRevision.set(`${service.metadata.namespace}/${revision}`, revisionProtocol(service));
  }
  return {
    latestRevision: (namespace, configurationName) => latest.get(`${namespace}/${configurationName}`),
    protocol: (namespace, revisionName) => protocolByRevision.get(`${namespace}/${revisionName}`) ?? 'http1',
  };
}

function routeUrls(route: Route, traffic: TrafficConfig, config: KnativeConfig): Pick<KnativeStatus, 'url' | 'address' | 'traffic'> {
  const meta = { name: route.metadata.name, namespace: route.metadata.namespace ?? '', labels: route.metadata.labels, annotations: route.metadata.annotations };
  const visibility = routeVisibility(config, meta);
  const urlFor = (tag: string): string => {
    const hosts = domainsForVisibility(config, meta, tag, visibility);
    // config-network's default-external-scheme: for a TLS-terminating load balancer in front of the gateway.
    return visibility === 'ClusterLocal' ? `http://${hosts[hosts.length - 1]}` : `${config.network.defaultExternalScheme}://${hosts[0]}`;
  };
  const local = domainsForVisibility(config, meta, '', 'ClusterLocal');
  return {
    url: urlFor(''),
    address: `http://${local[local.length - 1]}`,
    traffic: (traffic.targets.get('') ?? []).map((t) => ({
      ...(t.tag ? { tag: t.tag } : {}),
      revisionName: t.revisionName,
      ...(t.configurationName ? { configurationName: t.configurationName } : {}),
      latestRevision: t.latestRevision,
      percent: t.percent,
      ...(t.tag ? { url: urlFor(t.tag) } : {}),
    })),
  };
}

function reference(kind: ObjectReference['kind'], object: { metadata: { name: string; namespace?: string } }): ObjectReference {
  return { kind, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
}

function condition(type: string, status: Condition['status'], reason?: string, message?: string): Condition {
  return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}
