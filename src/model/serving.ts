import type { Condition, KubeObject } from './meta.js';

/** serving.knative.dev and the Knative networking objects that Ferry reads besides KIngress. */
export const SERVING_API_VERSION = 'serving.knative.dev/v1';
export const DOMAIN_MAPPING_API_VERSION = 'serving.knative.dev/v1beta1';
export const CLUSTER_DOMAIN_CLAIM_API_VERSION = 'networking.internal.knative.dev/v1alpha1';

/** Labels and annotations that Knative Serving puts on the objects it derives. */
export const ROUTE_LABEL = 'serving.knative.dev/route';
export const ROUTE_NAMESPACE_LABEL = 'serving.knative.dev/routeNamespace';
export const SERVICE_LABEL = 'serving.knative.dev/service';
export const DOMAIN_MAPPING_UID_LABEL = 'serving.knative.dev/domainMappingUID';
export const DOMAIN_MAPPING_NAMESPACE_LABEL = 'serving.knative.dev/domainMappingNamespace';
export const VISIBILITY_LABEL = 'networking.knative.dev/visibility';
/** The label key Knative used before `networking.knative.dev/visibility`; still honoured. */
export const LEGACY_VISIBILITY_LABEL = 'serving.knative.dev/visibility';
export const VISIBILITY_CLUSTER_LOCAL = 'cluster-local';
export const HTTP_PROTOCOL_ANNOTATION = 'networking.knative.dev/http-protocol';
export const LEGACY_HTTP_PROTOCOL_ANNOTATION = 'networking.knative.dev/httpProtocol';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Headers Knative's data plane contract uses. */
export const REVISION_HEADER = 'Knative-Serving-Revision';
export const REVISION_NAMESPACE_HEADER = 'Knative-Serving-Namespace';
export const TAG_HEADER = 'Knative-Serving-Tag';
export const ORIGINAL_HOST_HEADER = 'K-Original-Host';

export interface TrafficTarget {
  tag?: string;
  revisionName?: string;
  configurationName?: string;
  latestRevision?: boolean;
  percent?: number;
  url?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}

export interface RevisionTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    containers?: Array<{ name?: string; image?: string; ports?: ContainerPort[]; env?: Array<{ name: string; value?: string }> }>;
    [field: string]: unknown;
  };
}

export interface RouteStatusFields {
  conditions?: Condition[];
  observedGeneration?: number;
  url?: string;
  address?: { url?: string };
  traffic?: TrafficTarget[];
}

/** serving.knative.dev/v1 Service (the "Knative Service", not the core one). */
export interface KnativeService extends KubeObject {
  kind: 'Service';
  spec: { template?: RevisionTemplate; traffic?: TrafficTarget[] };
  status?: RouteStatusFields;
}

export interface Route extends KubeObject {
  kind: 'Route';
  spec: { traffic?: TrafficTarget[] };
  status?: RouteStatusFields;
}

export interface DomainMappingRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface DomainMapping extends KubeObject {
  kind: 'DomainMapping';
  spec: { ref: DomainMappingRef; tls?: { secretName?: string } };
  status?: { conditions?: Condition[]; url?: string; address?: { url?: string } };
}

/** Cluster-scoped: its name is the domain, spec.namespace the namespace allowed to map it. */
export interface ClusterDomainClaim extends KubeObject {
  kind: 'ClusterDomainClaim';
  spec: { namespace?: string };
}
