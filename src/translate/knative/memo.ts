import type { KnativeConfig } from '../../model/config.js';
import type { KIngress } from '../../model/ingress.js';
import type { ConfigMap, Service } from '../../model/kube.js';
import type { DomainMapping, KnativeService, Route } from '../../model/serving.js';
import type { DomainMappingTarget } from './domain-mapping-to-ingress.js';
import type { KnativeStatus } from './translate.js';
import type { TrafficConfig } from './traffic.js';

/**
 * What Knative translation made from each object, kept by the object's identity (the store replaces an object when
 * it changes, never edits it), so that a pass over 10k Routes re-derives only the ones that changed and hands
 * back the very same KIngress objects for the others: the caller's comparison is then an identity check.
 * Entries go with their objects (WeakMap). Pure functions stay pure: same inputs, same outputs, only cheaper.
 */
export class KnativeMemo {
  readonly routes = new WeakMap<KnativeService, Route>();
  readonly ingresses = new WeakMap<Route, { config: KnativeConfig; traffic: string; ingress: KIngress; urls: Pick<KnativeStatus, 'url' | 'address' | 'traffic'> }>();
  readonly placeholders = new WeakMap<Route, { host: string; service: Service }>();
  readonly mappings = new WeakMap<DomainMapping, { config: KnativeConfig; target: DomainMappingTarget; ingress: KIngress }>();
  /** The config and the ConfigMaps it was read from: the same ConfigMap objects give the same config object. */
  config: { from: readonly (ConfigMap | undefined)[]; clusterDomain: string | undefined; config: KnativeConfig } | undefined;
}

/** The resolved traffic of a Route as a short string: equal strings, equal KIngress. */
export function trafficSignature(traffic: TrafficConfig): string {
  let signature = '';
  for (const [tag, targets] of traffic.targets) {
    signature += `${tag}:`;
    for (const t of targets) signature += `${t.revisionName}/${t.configurationName ?? ''}/${t.latestRevision ? 1 : 0}/${t.percent}/${t.protocol}/${t.tag ?? ''};`;
    signature += '|';
  }
  return signature;
}
