import type { ConfigMap, EndpointSlice, Secret, Service } from './kube.js';
import type { KIngress } from './ingress.js';
import { INGRESS_API_VERSION } from './ingress.js';
import type { ClusterDomainClaim, DomainMapping, KnativeService, Route } from './serving.js';
import { CLUSTER_DOMAIN_CLAIM_API_VERSION, DOMAIN_MAPPING_API_VERSION, SERVING_API_VERSION } from './serving.js';

/**
 * The kinds of object Ferry holds, by a name that is unique across API groups (the core Service and the Knative
 * Service share `kind: Service`). Endpoints are not here: sources turn them into EndpointSlices, so that
 * everything downstream sees one endpoint model.
 */
export interface ObjectsByKind {
  KIngress: KIngress;
  KnativeService: KnativeService;
  Route: Route;
  DomainMapping: DomainMapping;
  ClusterDomainClaim: ClusterDomainClaim;
  Service: Service;
  EndpointSlice: EndpointSlice;
  Secret: Secret;
  ConfigMap: ConfigMap;
}

export type ObjectKind = keyof ObjectsByKind;
export type AnyObject = ObjectsByKind[ObjectKind];

export const OBJECT_KINDS: readonly ObjectKind[] = [
  'KIngress', 'KnativeService', 'Route', 'DomainMapping', 'ClusterDomainClaim', 'Service', 'EndpointSlice', 'Secret', 'ConfigMap',
];

export const CLUSTER_SCOPED_KINDS: ReadonlySet<ObjectKind> = new Set(['ClusterDomainClaim']);

/** apiVersion + kind as written in manifests → Ferry's kind name. 'Endpoints' is accepted and converted. */
const MANIFEST_KINDS: Record<string, ObjectKind | 'Endpoints'> = {
  [`${INGRESS_API_VERSION}/Ingress`]: 'KIngress',
  [`${CLUSTER_DOMAIN_CLAIM_API_VERSION}/ClusterDomainClaim`]: 'ClusterDomainClaim',
  [`${SERVING_API_VERSION}/Service`]: 'KnativeService',
  [`${SERVING_API_VERSION}/Route`]: 'Route',
  [`${DOMAIN_MAPPING_API_VERSION}/DomainMapping`]: 'DomainMapping',
  'v1/Service': 'Service',
  'discovery.k8s.io/v1/EndpointSlice': 'EndpointSlice',
  'v1/Endpoints': 'Endpoints',
  'v1/Secret': 'Secret',
  'v1/ConfigMap': 'ConfigMap',
};

export function manifestKind(apiVersion: unknown, kind: unknown): ObjectKind | 'Endpoints' | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  return MANIFEST_KINDS[`${apiVersion}/${kind}`];
}

export function acceptedManifestKinds(): string[] {
  return Object.keys(MANIFEST_KINDS).map((k) => {
    const slash = k.lastIndexOf('/');
    return `${k.slice(0, slash)} ${k.slice(slash + 1)}`;
  });
}
