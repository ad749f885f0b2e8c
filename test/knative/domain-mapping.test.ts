import { describe, expect, it } from 'vitest';
import { defaultKnativeConfig, parseNetworkConfig, type KnativeConfig } from '../../src/model/config.js';
import type { ClusterDomainClaim, DomainMapping, KnativeService } from '../../src/model/serving.js';
import { translateKnative, type KnativeInputs } from '../../src/translate/knative/index.js';

const hello: KnativeService = { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'hello', namespace: 'default' }, spec: {} };
function mapping(domain: string, namespace = 'default', extra: Partial<DomainMapping['spec']> = {}, creationTimestamp?: string): DomainMapping {
  return {
    apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping',
    metadata: { name: domain, namespace, uid: `uid-${namespace}`, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'hello' }, ...extra },
  };
}
const claim = (domain: string, namespace: string): ClusterDomainClaim => ({ apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'ClusterDomainClaim', metadata: { name: domain }, spec: { namespace } });
function inputs(partial: Partial<KnativeInputs>): KnativeInputs {
  return { config: defaultKnativeConfig(), services: [hello], routes: [], domainMappings: [], claims: [], ingresses: [], coreServices: [], ...partial };
}
const autocreate: KnativeConfig = { ...defaultKnativeConfig(), network: parseNetworkConfig({ 'autocreate-cluster-domain-claims': 'true' }).value };

describe('DomainMapping → KIngress', () => {
  it('makes the KIngress of Knative\'s domainmapping MakeIngress when the domain is claimed', () => {
    const result = translateKnative(inputs({ domainMappings: [mapping('hello.example.org')], claims: [claim('hello.example.org', 'default')] }));
    const made = result.ingresses.find((i) => i.origin.kind === 'DomainMapping')!;
    expect(made.ingress).toEqual({
      apiVersion: 'networking.internal.knative.dev/v1alpha1',
      kind: 'Ingress',
      metadata: {
        name: 'hello.example.org', namespace: 'default',
        labels: { 'serving.knative.dev/domainMappingUID': 'uid-default', 'serving.knative.dev/domainMappingNamespace': 'default' },
        annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' },
      },
      spec: {
        rules: [{
          hosts: ['hello.example.org'],
          visibility: 'ExternalIP',
          http: { paths: [{
            rewriteHost: 'hello.default.svc.cluster.local',
            splits: [{ serviceNamespace: 'default', serviceName: 'hello', servicePort: 80, percent: 100, appendHeaders: { 'K-Original-Host': 'hello.example.org' } }],
          }] },
        }],
        httpOption: 'Enabled',
      },
    });
    const status = result.statuses.find((s) => s.object.kind === 'DomainMapping')!;
    expect(status.conditions).toEqual([{ type: 'DomainClaimed', status: 'True' }, { type: 'ReferenceResolved', status: 'True' }]);
    expect(status.url).toBe('http://hello.example.org');
  });

  it('adds TLS for spec.tls', () => {
    const result = translateKnative(inputs({ domainMappings: [mapping('hello.example.org', 'default', { tls: { secretName: 'cert' } })], claims: [claim('hello.example.org', 'default')] }));
    expect(result.ingresses.find((i) => i.origin.kind === 'DomainMapping')!.ingress.spec.tls).toEqual([{ hosts: ['hello.example.org'], secretName: 'cert', secretNamespace: 'default' }]);
  });

  it('makes nothing without a claim, or with a claim for another namespace', () => {
    const result = translateKnative(inputs({ domainMappings: [mapping('a.example.org'), mapping('b.example.org')], claims: [claim('b.example.org', 'other')] }));
    expect(result.ingresses.filter((i) => i.origin.kind === 'DomainMapping')).toEqual([]);
    const conditions = result.statuses.filter((s) => s.object.kind === 'DomainMapping').map((s) => s.conditions[0]);
    expect(conditions.map((c) => [c!.type, c!.status, c!.reason])).toEqual([['DomainClaimed', 'False', 'DomainAlreadyClaimed'], ['DomainClaimed', 'False', 'DomainAlreadyClaimed']]);
    expect(conditions[0]!.message).toMatch(/no ClusterDomainClaim found for domain "a\.example\.org"/);
    expect(conditions[1]!.message).toMatch(/claimed by namespace "other"/);
  });

  it('implies a claim for the oldest DomainMapping of a domain with autocreate-cluster-domain-claims', () => {
    const older = mapping('hello.example.org', 'team-a', {}, '2024-01-01T00:00:00Z');
    const newer = mapping('hello.example.org', 'team-b', {}, '2024-06-01T00:00:00Z');
    const services = [{ ...hello, metadata: { name: 'hello', namespace: 'team-a' } }, { ...hello, metadata: { name: 'hello', namespace: 'team-b' } }];
    const result = translateKnative(inputs({ config: autocreate, services, domainMappings: [newer, older] }));
    expect(result.ingresses.filter((i) => i.origin.kind === 'DomainMapping').map((i) => i.ingress.metadata.namespace)).toEqual(['team-a']);
    expect(result.statuses.find((s) => s.object.namespace === 'team-b' && s.object.kind === 'DomainMapping')!.conditions[0]!.reason).toBe('DomainAlreadyClaimed');
  });

  it('is not Ready when its ref does not exist, and accepts a core Service ref', () => {
    const missing = { ...mapping('x.example.org'), spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'nope' } } };
    const core = { ...mapping('y.example.org'), spec: { ref: { apiVersion: 'v1', kind: 'Service', name: 'plain' } } };
    const plain = { apiVersion: 'v1', kind: 'Service' as const, metadata: { name: 'plain', namespace: 'default' }, spec: {} };
    const result = translateKnative(inputs({ config: autocreate, domainMappings: [missing, core], coreServices: [plain] }));
    expect(result.statuses.find((s) => s.object.name === 'x.example.org')!.conditions[1]).toMatchObject({ type: 'ReferenceResolved', status: 'False', reason: 'ResolveFailed' });
    const made = result.ingresses.find((i) => i.origin.name === 'y.example.org')!.ingress;
    expect(made.spec.rules![0]!.http!.paths[0]!.rewriteHost).toBe('plain.default.svc.cluster.local');
  });

  it('gives each Route its ExternalName placeholder Service to the local gateway, the backend of DomainMappings', () => {
    const plain = { apiVersion: 'v1', kind: 'Service' as const, metadata: { name: 'taken', namespace: 'default' }, spec: {} };
    const taken: KnativeService = { ...hello, metadata: { name: 'taken', namespace: 'default' } };
    const result = translateKnative(inputs({ services: [hello, taken], coreServices: [plain] }), { localGatewayHost: 'ferry-local.ferry-system.svc.cluster.local' });
    expect(result.placeholderServices).toEqual([{
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'hello', namespace: 'default', labels: { 'serving.knative.dev/route': 'hello' } },
      spec: { type: 'ExternalName', externalName: 'ferry-local.ferry-system.svc.cluster.local', ports: [{ name: 'http2', port: 80, targetPort: 80 }] },
    }]);
  });
});
