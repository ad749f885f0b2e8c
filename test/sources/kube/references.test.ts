import { describe, expect, it } from 'vitest';
import type { KIngress } from '../../../src/model/ingress.js';
import { ReferenceCounts, referencesOf } from '../../../src/sources/kube/references.js';

function ingress(services: string[], secrets: string[] = []): KIngress {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name: 'i', namespace: 'ns' },
    spec: {
      tls: secrets.map((s) => ({ hosts: ['h'], secretNamespace: s.split('/')[0]!, secretName: s.split('/')[1]! })),
      rules: [{ hosts: ['h'], http: { paths: [{ splits: services.map((s) => ({ serviceNamespace: s.split('/')[0]!, serviceName: s.split('/')[1]!, servicePort: 80, percent: 100 / services.length })) }] } }],
    },
  };
}

describe('which Services and Secrets the kube source keeps', () => {
  it('reads every split backend and every TLS Secret of a KIngress, once each', () => {
    expect(referencesOf(ingress(['a/s1', 'a/s2', 'a/s1'], ['a/cert']))).toEqual({ services: ['a/s1', 'a/s2'], secrets: ['a/cert'] });
  });

  it('says when a Service is needed for the first time and when the last KIngress naming it lets go', () => {
    const counts = new ReferenceCounts({ services: ['knative-serving/activator-service'], secrets: [] });
    expect(counts.set('ns/one', referencesOf(ingress(['a/s1'])))).toEqual({ added: { services: ['a/s1'], secrets: [] }, removed: { services: [], secrets: [] } });
    // A second KIngress naming the same Service: nothing new to fetch.
    expect(counts.set('ns/two', referencesOf(ingress(['a/s1', 'a/s2'])))).toEqual({ added: { services: ['a/s2'], secrets: [] }, removed: { services: [], secrets: [] } });
    expect(counts.set('ns/one', undefined).removed.services).toEqual([]);
    expect(counts.hasService('a/s1')).toBe(true);
    // The KIngress moves from s1 to s3: s1 goes, s2 (still named) stays.
    expect(counts.set('ns/two', referencesOf(ingress(['a/s2', 'a/s3'])))).toEqual({ added: { services: ['a/s3'], secrets: [] }, removed: { services: ['a/s1'], secrets: [] } });
    expect(counts.hasService('a/s1')).toBe(false);
  });

  it('always keeps the activator, and never reports it as added or removed', () => {
    const counts = new ReferenceCounts({ services: ['knative-serving/activator-service'], secrets: ['ferry-system/default-cert'] });
    expect(counts.hasService('knative-serving/activator-service')).toBe(true);
    expect(counts.hasSecret('ferry-system/default-cert')).toBe(true);
    expect(counts.set('ns/x', referencesOf(ingress(['knative-serving/activator-service'], ['ferry-system/default-cert']))).added).toEqual({ services: [], secrets: [] });
    expect(counts.set('ns/x', undefined).removed).toEqual({ services: [], secrets: [] });
    expect(counts.hasService('knative-serving/activator-service')).toBe(true);
  });
});
