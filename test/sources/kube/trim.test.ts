import { describe, expect, it } from 'vitest';
import { TRIMMERS, isFerryKIngress } from '../../../src/sources/kube/trim.js';

const managed = { managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }], resourceVersion: '42', selfLink: 'x', ownerReferences: [{ uid: 'u' }] };

describe('objects trimmed on arrival from the API server', () => {
  it('keeps a KIngress\'s identity, labels, class and spec; drops managedFields, status, resourceVersion and kubectl\'s copy', () => {
    const raw = {
      apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress',
      metadata: {
        ...managed, name: 'hello', namespace: 'default', uid: 'abc', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: 'b' },
        annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}' },
      },
      spec: { rules: [{ hosts: ['h'] }] },
      status: { observedGeneration: 2 },
    };
    expect(TRIMMERS.KIngress(raw)).toEqual({
      apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress',
      metadata: { name: 'hello', namespace: 'default', uid: 'abc', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: 'b' }, annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' } },
      spec: { rules: [{ hosts: ['h'] }] },
    });
  });

  it('drops KIngresses of other classes and without a class (Knative always writes it; its conformance suite checks)', () => {
    const of = (annotations?: Record<string, string>) => ({ metadata: { name: 'x', namespace: 'n', ...(annotations ? { annotations } : {}) }, spec: {} });
    expect(TRIMMERS.KIngress(of({ 'networking.knative.dev/ingress.class': 'kourier.ingress.networking.knative.dev' }))).toBeUndefined();
    expect(TRIMMERS.KIngress(of())).toBeUndefined();
    expect(TRIMMERS.KIngress(of({ 'networking.knative.dev/ingress.class': '' }))).toBeUndefined();
    expect(isFerryKIngress(of({ 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' }))).toBe(true);
  });

  it('keeps of a Service its type, ExternalName and ports; of an EndpointSlice its addresses, readiness, ports and Service label', () => {
    expect(TRIMMERS.Service({ metadata: { ...managed, name: 's', namespace: 'n', labels: { app: 'x' } }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.5', selector: { app: 'x' }, sessionAffinity: 'None', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } }))
      .toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    expect(TRIMMERS.EndpointSlice({
      metadata: { ...managed, name: 's-1', namespace: 'n', labels: { 'kubernetes.io/service-name': 's', 'endpointslice.kubernetes.io/managed-by': 'x' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'node', targetRef: { kind: 'Pod' }, zone: 'z' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    })).toEqual({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's-1', namespace: 'n', labels: { 'kubernetes.io/service-name': 's' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  });

  it('keeps of a TLS Secret only the certificate, key and CA', () => {
    expect(TRIMMERS.Secret({ metadata: { name: 'c', namespace: 'n', ...managed }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y3J0', 'tls.key': 'a2V5', other: 'eA==' } }))
      .toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c', namespace: 'n' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y3J0', 'tls.key': 'a2V5' } });
  });
});
