import { describe, expect, it } from 'vitest';
import type { KIngress } from '../../src/model/ingress.js';
import type { DomainMapping, KnativeService, Route } from '../../src/model/serving.js';
import type { Secret } from '../../src/model/kube.js';
import { validateObject } from '../../src/model/validate.js';
import { formatValidationError } from '../../src/model/validation-error.js';
import { parseDomainConfig, parseNetworkConfig } from '../../src/model/config.js';

const split = { serviceNamespace: 'default', serviceName: 'hello-00001', servicePort: 80 };
function ingress(spec: unknown): KIngress {
  return { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name: 'hello', namespace: 'default' }, spec } as KIngress;
}
const fields = (errors: Array<{ field: string }>): string[] => errors.map((e) => e.field);

describe('KIngress validation', () => {
  it('accepts a valid ingress, with a single split that omits its percent', () => {
    expect(validateObject('KIngress', ingress({ rules: [{ hosts: ['a.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split] }] } }] }))).toEqual([]);
  });
  it('requires rules', () => {
    expect(fields(validateObject('KIngress', ingress({ rules: [] })))).toEqual(['spec.rules']);
  });
  it('requires hosts, a valid visibility, http paths and splits', () => {
    const errors = validateObject('KIngress', ingress({ rules: [
      { hosts: [], visibility: 'Public', http: { paths: [{ splits: [split] }, { splits: [] }] } },
      { hosts: ['b'], http: { paths: [] } },
    ] }));
    expect(fields(errors)).toEqual(['spec.rules[0].hosts', 'spec.rules[0].visibility', 'spec.rules[0].http.paths[1].splits', 'spec.rules[1].http.paths']);
  });
  it('requires percents to total 100 when there are several splits, each 0-100, and backends complete', () => {
    const errors = validateObject('KIngress', ingress({ rules: [{ hosts: ['a'], http: { paths: [{ splits: [
      { ...split, percent: 50 }, { ...split, percent: 120 }, { serviceNamespace: 'default', serviceName: '', percent: 0 },
    ] }] } }] }));
    expect(errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.rules[0].http.paths[0].splits[1].percent: 120 must be an integer from 0 to 100',
      'spec.rules[0].http.paths[0].splits[2].serviceName: must be set',
      'spec.rules[0].http.paths[0].splits[2].servicePort: must be set to a port number (1 to 65535) or a port name of the Service',
      'spec.rules[0].http.paths[0].splits: percents must total 100, but total 170',
    ]);
  });
  it('requires tls secretName and secretNamespace', () => {
    const errors = validateObject('KIngress', ingress({ tls: [{ hosts: ['a'] }], rules: [{ hosts: ['a'], http: { paths: [{ splits: [split] }] } }] }));
    expect(fields(errors)).toEqual(['spec.tls[0].secretName', 'spec.tls[0].secretNamespace']);
  });
  it('formats errors with file, document, object and field', () => {
    const [error] = validateObject('KIngress', ingress({ rules: [{ hosts: [], http: { paths: [{ splits: [split] }] } }] }));
    expect(formatValidationError({ ...error!, file: 'file.yaml', document: 2 })).toBe('file.yaml (document 2) Ingress default/hello: spec.rules[0].hosts: must not be empty');
  });
  it('requires metadata.name', () => {
    expect(validateObject('KIngress', { ...ingress({}), metadata: { name: '', namespace: 'default' } })).toEqual([{ object: 'Ingress default/<unnamed>', field: 'metadata.name', message: 'must be set' }]);
  });
});

describe('Route and Service traffic validation', () => {
  const route = (traffic: unknown): Route => ({ apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'r', namespace: 'default' }, spec: { traffic } } as Route);
  const service = (traffic: unknown): KnativeService => ({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { template: {}, traffic } } as KnativeService);

  it('accepts splits summing to 100 with tags', () => {
    expect(validateObject('Route', route([{ revisionName: 'r-1', percent: 40, tag: 'blue' }, { configurationName: 'c', percent: 60 }]))).toEqual([]);
    expect(validateObject('KnativeService', service([{ latestRevision: true, percent: 100 }]))).toEqual([]);
    expect(validateObject('KnativeService', service(undefined))).toEqual([]);
  });
  it('rejects percents out of range and sums other than 100', () => {
    const errors = validateObject('Route', route([{ revisionName: 'a', percent: 120 }, { revisionName: 'b', percent: 30 }]));
    expect(errors.map((e) => `${e.field}: ${e.message}`)).toEqual(['spec.traffic[0].percent: 120 must be an integer from 0 to 100', 'spec.traffic: traffic targets sum to 30, want 100']);
  });
  it('rejects tags that are not DNS-1035 labels, and duplicate tags', () => {
    const errors = validateObject('Route', route([{ revisionName: 'a', percent: 50, tag: '1st' }, { revisionName: 'b', percent: 50, tag: '1st' }]));
    expect(fields(errors)).toEqual(['spec.traffic[0].tag', 'spec.traffic[1].tag', 'spec.traffic[1].tag']);
  });
  it('requires revisionName or configurationName in a Route, and latestRevision to agree', () => {
    const errors = validateObject('Route', route([{ percent: 50 }, { revisionName: 'a', latestRevision: true, percent: 50 }]));
    expect(fields(errors)).toEqual(['spec.traffic[0]', 'spec.traffic[1].latestRevision']);
  });
  it('forbids configurationName in a Service', () => {
    expect(fields(validateObject('KnativeService', service([{ configurationName: 'x', percent: 100 }])))).toEqual(['spec.traffic[0].configurationName']);
  });
  it('requires the revision name to start with the service name', () => {
    const s = service(undefined);
    s.spec.template = { metadata: { name: 'other-1' } };
    expect(fields(validateObject('KnativeService', s))).toEqual(['spec.template.metadata.name']);
  });
});

describe('DomainMapping and Secret validation', () => {
  const mapping = (name: string, ref: unknown): DomainMapping => ({ apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name, namespace: 'default' }, spec: { ref } } as DomainMapping);
  it('accepts a domain name with a complete ref', () => {
    expect(validateObject('DomainMapping', mapping('hello.example.org', { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'hello' }))).toEqual([]);
  });
  it('requires the name to be a domain and the ref complete, in the same namespace', () => {
    const errors = validateObject('DomainMapping', mapping('hello', { name: 'hello', namespace: 'other' }));
    expect(fields(errors)).toEqual(['metadata.name', 'spec.ref.kind', 'spec.ref.apiVersion', 'spec.ref.namespace']);
  });
  it('requires tls.crt and tls.key in a TLS Secret', () => {
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'cert', namespace: 'default' }, data: { 'tls.crt': 'QUJD' } };
    expect(fields(validateObject('Secret', secret))).toEqual(['data[tls.key]']);
    expect(validateObject('Secret', { ...secret, stringData: { 'tls.key': 'PEM' } })).toEqual([]);
  });
});

describe('config-network and config-domain', () => {
  it('gives Knative defaults', () => {
    const { value } = parseNetworkConfig({});
    expect(value.domainTemplate.source).toBe('{{.Name}}.{{.Namespace}}.{{.Domain}}');
    expect(value.tagTemplate.source).toBe('{{.Tag}}-{{.Name}}');
    expect(value.autocreateClusterDomainClaims).toBe(false);
    expect(parseDomainConfig({}).value.domains).toEqual([{ domain: 'example.com', selector: {} }]);
  });
  it('reads selectors and reports bad keys', () => {
    expect(parseDomainConfig({ 'prod.com': '', 'dev.com': 'selector:\n  env: dev\n', _example: 'x' }).value.domains)
      .toEqual([{ domain: 'prod.com', selector: {} }, { domain: 'dev.com', selector: { env: 'dev' } }]);
    const { problems } = parseNetworkConfig({ 'domain-template': '{{.Name}}/{{.Namespace}}', 'autocreate-cluster-domain-claims': 'yes', 'tag-template': '{{if .Tag}}x{{end}}' });
    expect(problems.map((p) => p.field)).toEqual(['data.domain-template', 'data.tag-template', 'data.autocreate-cluster-domain-claims']);
  });
});
