import { stringify } from 'yaml';
import { FERRY_INGRESS_CLASS, INGRESS_API_VERSION, INGRESS_CLASS_ANNOTATION, type IngressBackendSplit, type IngressSpec, type KIngress } from '../../../src/model/ingress.js';
import type { BackendAnswer, HttpResult } from '../harness/index.js';

/** Manifests for the routing end-to-end tests, built as typed objects and written as YAML documents. */

export function kingress(name: string, spec: IngressSpec, namespace = 'default'): KIngress {
  return {
    apiVersion: INGRESS_API_VERSION,
    kind: 'Ingress',
    metadata: { name, namespace, annotations: { [INGRESS_CLASS_ANNOTATION]: FERRY_INGRESS_CLASS } },
    spec,
  };
}

/** A split to the revision Service `serviceName` (port 80), as Knative's Route→KIngress writes it. */
export function split(serviceName: string, percent: number, appendHeaders: Record<string, string> = {}, namespace = 'default'): IngressBackendSplit {
  return { serviceNamespace: namespace, serviceName, servicePort: 80, percent, ...(Object.keys(appendHeaders).length > 0 ? { appendHeaders } : {}) };
}

/**
 * A revision's public Service (port 80) and its EndpointSlice: one ready address, the test backend on loopback. A
 * revision that speaks h2c (gRPC) has its port named `http2`, as Knative names it.
 */
export function revisionService(name: string, backendPort: number, namespace = 'default', portName = 'http'): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: portName, port: 80, targetPort: backendPort }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-local`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: portName, port: backendPort, protocol: 'TCP' }],
    },
  ];
}

/** A Knative Service whose latest revision, `revision`, takes all traffic. */
export function knativeService(name: string, revision: string, labels: Record<string, string> = {}, namespace = 'default'): object {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { template: { metadata: { name: revision }, spec: { containers: [{ image: 'ghcr.io/knative/helloworld-go:latest' }] } } },
  };
}

/** A DomainMapping of `domain` to the Knative Service `service`, with the ClusterDomainClaim that lets it take the domain. */
export function domainMapping(domain: string, service: string, namespace = 'default'): object[] {
  return [
    { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: domain, namespace }, spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: service } } },
    { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'ClusterDomainClaim', metadata: { name: domain }, spec: { namespace } },
  ];
}

/** Several objects as one multi-document YAML file. */
export function toYaml(...objects: object[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

/** The test backend's JSON answer; fails with the status and body when the answer is something else. */
export function answerOf(result: HttpResult): BackendAnswer {
  try {
    return JSON.parse(result.body) as BackendAnswer;
  } catch {
    throw new Error(`expected a test backend's JSON answer, got ${result.status}: ${result.body.slice(0, 200)}`);
  }
}
