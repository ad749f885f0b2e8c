import { INGRESS_API_VERSION, isFerryClass, type IngressStatus, type KIngress } from '../../model/ingress.js';
import type { ObjectKind, ObjectsByKind } from '../../model/kinds.js';
import { SERVICE_NAME_LABEL, type ConfigMap, type EndpointSlice, type Secret, type Service } from '../../model/kube.js';
import type { ObjectMeta } from '../../model/meta.js';
import { CLUSTER_DOMAIN_CLAIM_API_VERSION, DOMAIN_MAPPING_API_VERSION, LAST_APPLIED_ANNOTATION, SERVING_API_VERSION } from '../../model/serving.js';

/**
 * Objects arrive from the API server with everything the server keeps (managedFields, status, the last applied
 * configuration, owner references); Ferry keeps only the fields its model reads, so that its memory follows what
 * it serves. No resourceVersion and no status are kept either: a status write (Ferry's own) or a no-op update
 * must look like no change at all to the store.
 */
type Raw = Record<string, unknown>;

/** Annotations that describe how an object was written, never what it means. */
const DROPPED_ANNOTATIONS = [LAST_APPLIED_ANNOTATION];

function meta(raw: Raw, { labels = true, annotations = true, lifecycle = true } = {}): ObjectMeta {
  const m = (raw.metadata ?? {}) as ObjectMeta & Raw;
  const out: ObjectMeta = { name: m.name };
  if (m.namespace) out.namespace = m.namespace;
  if (lifecycle) {
    if (m.uid) out.uid = m.uid;
    if (m.generation !== undefined) out.generation = m.generation;
    if (m.creationTimestamp) out.creationTimestamp = m.creationTimestamp;
  }
  if (labels && m.labels && Object.keys(m.labels).length > 0) out.labels = m.labels;
  if (annotations && m.annotations) {
    const kept = Object.fromEntries(Object.entries(m.annotations).filter(([key]) => !DROPPED_ANNOTATIONS.includes(key)));
    if (Object.keys(kept).length > 0) out.annotations = kept;
  }
  return out;
}

/** Ferry's KIngresses only: in a cluster, those annotated with Ferry's class; others are dropped unread. */
export function isFerryKIngress(raw: Raw): boolean {
  return isFerryClass(raw.metadata as ObjectMeta | undefined, false);
}

export function trimKIngress(raw: Raw): KIngress | undefined {
  if (!isFerryKIngress(raw)) return undefined;
  return { apiVersion: INGRESS_API_VERSION, kind: 'Ingress', metadata: meta(raw), spec: (raw.spec ?? {}) as KIngress['spec'] };
}

/** The status a KIngress has in the API server now: the status writer compares with it before writing. */
export function statusOf(raw: Raw): IngressStatus | undefined {
  return raw.status as IngressStatus | undefined;
}

export function trimService(raw: Raw): Service {
  const spec = (raw.spec ?? {}) as Service['spec'] & Raw;
  const kept: Service['spec'] = {};
  if (spec.type) kept.type = spec.type;
  if (spec.externalName) kept.externalName = spec.externalName;
  if (spec.ports) kept.ports = spec.ports.map(({ name, protocol, port, targetPort, appProtocol }) => dropUndefined({ name, protocol, port, targetPort, appProtocol }));
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(raw, { labels: false, annotations: false, lifecycle: false }), spec: dropUndefined(kept) };
}

export function trimEndpointSlice(raw: Raw): EndpointSlice {
  const slice = raw as unknown as EndpointSlice;
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const metadata = meta(raw, { labels: false, annotations: false, lifecycle: false });
  if (service) metadata.labels = { [SERVICE_NAME_LABEL]: service };
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, addressType: slice.addressType,
    endpoints: (slice.endpoints ?? []).map(({ addresses, conditions }) => (conditions ? { addresses, conditions } : { addresses })),
    ...(slice.ports ? { ports: slice.ports.map(({ name, port, protocol, appProtocol }) => dropUndefined({ name, port, protocol, appProtocol })) } : {}),
  };
}

/** Only the certificate, its key and a CA: other keys of a TLS Secret are never served. */
export function trimSecret(raw: Raw): Secret {
  const data = (raw.data ?? {}) as Record<string, string>;
  const kept = Object.fromEntries(['tls.crt', 'tls.key', 'ca.crt'].filter((key) => data[key] !== undefined).map((key) => [key, data[key]!]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(raw, { labels: false, annotations: false, lifecycle: false }), type: raw.type as string, data: kept };
}

export function trimConfigMap(raw: Raw): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(raw, { labels: false, annotations: false, lifecycle: false }), data: (raw.data ?? {}) as Record<string, string> };
}

/** Knative's own objects, read with --knative-translation: metadata and spec; their status is Knative's. */
function trimSpecObject<K extends 'KnativeService' | 'Route' | 'DomainMapping' | 'ClusterDomainClaim'>(apiVersion: string, kind: string) {
  return (raw: Raw): ObjectsByKind[K] => ({ apiVersion, kind, metadata: meta(raw), spec: raw.spec ?? {} }) as unknown as ObjectsByKind[K];
}

export const TRIMMERS: { [K in ObjectKind]: (raw: Raw) => ObjectsByKind[K] | undefined } = {
  KIngress: trimKIngress,
  Service: trimService,
  EndpointSlice: trimEndpointSlice,
  Secret: trimSecret,
  ConfigMap: trimConfigMap,
  KnativeService: trimSpecObject<'KnativeService'>(SERVING_API_VERSION, 'Service'),
  Route: trimSpecObject<'Route'>(SERVING_API_VERSION, 'Route'),
  DomainMapping: trimSpecObject<'DomainMapping'>(DOMAIN_MAPPING_API_VERSION, 'DomainMapping'),
  ClusterDomainClaim: trimSpecObject<'ClusterDomainClaim'>(CLUSTER_DOMAIN_CLAIM_API_VERSION, 'ClusterDomainClaim'),
};

function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
