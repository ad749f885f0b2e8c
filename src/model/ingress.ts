import type { Condition, KubeObject } from './meta.js';

/** networking.internal.knative.dev/v1alpha1 Ingress ("KIngress"), as Knative Serving writes it. */
export const INGRESS_API_VERSION = 'networking.internal.knative.dev/v1alpha1';
export const FERRY_INGRESS_CLASS = 'ferry.ingress.networking.knative.dev';
export const INGRESS_CLASS_ANNOTATION = 'networking.knative.dev/ingress.class';

/**
 * Whether a KIngress is Ferry's. In a cluster only one annotated with Ferry's class is (Knative always writes the
 * annotation, and its ingress conformance suite checks that an ingress leaves unannotated KIngresses alone, as
 * net-kourier and net-istio do); in a folder of manifests an unannotated one is too (`allowUnset`), for hand-written files.
 */
export function isFerryClass(metadata: { annotations?: Record<string, string> } | undefined, allowUnset: boolean): boolean {
  const value = metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
  return value === undefined ? allowUnset : value === FERRY_INGRESS_CLASS;
}

export type Visibility = 'ExternalIP' | 'ClusterLocal';
export type HttpOption = 'Enabled' | 'Redirected';

export interface KIngress extends KubeObject {
  kind: 'Ingress';
  spec: IngressSpec;
  status?: IngressStatus;
}

export interface IngressSpec {
  tls?: IngressTLS[];
  rules?: IngressRule[];
  httpOption?: HttpOption;
}

export interface IngressTLS {
  hosts?: string[];
  secretName: string;
  secretNamespace: string;
}

export interface IngressRule {
  hosts?: string[];
  visibility?: Visibility;
  http?: HTTPIngressRuleValue;
}

/** A rule without visibility is ExternalIP, as in Knative. */
export function isExternalRule(rule: IngressRule): boolean {
  return (rule.visibility ?? 'ExternalIP') === 'ExternalIP';
}

export interface HTTPIngressRuleValue {
  paths: HTTPIngressPath[];
}

export interface HeaderMatch {
  exact: string;
}

export interface HTTPIngressPath {
  path?: string;
  headers?: Record<string, HeaderMatch>;
  rewriteHost?: string;
  splits: IngressBackendSplit[];
  appendHeaders?: Record<string, string>;
}

export interface IngressBackend {
  serviceNamespace: string;
  serviceName: string;
  /** An int port number, or the name of a Service port. */
  servicePort: number | string;
}

export interface IngressBackendSplit extends IngressBackend {
  percent?: number;
  appendHeaders?: Record<string, string>;
}

export interface LoadBalancerIngressStatus {
  ip?: string;
  domain?: string;
  domainInternal?: string;
  meshOnly?: boolean;
}

export interface IngressStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  publicLoadBalancer?: { ingress?: LoadBalancerIngressStatus[] };
  privateLoadBalancer?: { ingress?: LoadBalancerIngressStatus[] };
}
