import { describe, expect, it } from 'vitest';
import { defaultKnativeConfig, parseNetworkConfig } from '../../src/model/config.js';
import type { DomainMapping, KnativeService } from '../../src/model/serving.js';
import { KnativeMemo, translateKnative, type KnativeInputs } from '../../src/translate/knative/index.js';

const service = (name: string, revision: string): KnativeService => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { template: { metadata: { name: revision }, spec: { containers: [{ image: 'example.com/app' }] } } },
});

describe('Knative translation with a memo', () => {
  it('hands back the same KIngress objects for unchanged Services and a new one, equal to a fresh translation, for a changed one', () => {
    const config = defaultKnativeConfig();
    const a = service('a', 'a-00001');
    const b = service('b', 'b-00001');
    const inputs = (services: KnativeService[]): KnativeInputs => ({ config, services, routes: [], domainMappings: [], claims: [], ingresses: [], coreServices: [] });
    const memo = new KnativeMemo();
    const first = translateKnative(inputs([a, b]), { memo, localGatewayHost: 'local.example' });

    const b2 = service('b', 'b-00002');
    const second = translateKnative(inputs([a, b2]), { memo, localGatewayHost: 'local.example' });
    const byName = (result: typeof first) => new Map(result.ingresses.map((t) => [t.ingress.metadata.name, t.ingress]));
    expect(byName(second).get('a')).toBe(byName(first).get('a'));
    expect(byName(second).get('b')).not.toBe(byName(first).get('b'));
    expect(second).toEqual(translateKnative(inputs([a, b2]), { localGatewayHost: 'local.example' }));
    expect(JSON.stringify(byName(second).get('b'))).toContain('b-00002');

    // A different config object is a different input: nothing is reused.
    const third = translateKnative({ ...inputs([a, b2]), config: defaultKnativeConfig() }, { memo, localGatewayHost: 'local.example' });
    expect(byName(third).get('a')).not.toBe(byName(second).get('a'));
    expect(byName(third).get('a')).toEqual(byName(second).get('a'));
  });

  it('hands back the same KIngress for an unchanged DomainMapping, a new one when its target changes', () => {
    const config = { ...defaultKnativeConfig(), network: parseNetworkConfig({ 'autocreate-cluster-domain-claims': 'true' }).value };
    const hello = service('hello', 'hello-00001');
    const other = service('other', 'other-00001');
    const mapping = (target: string): DomainMapping => ({
      apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: 'shop.example.org', namespace: 'default', uid: 'u1' },
      spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: target } },
    });
    const inputs = (mappings: DomainMapping[]): KnativeInputs => ({ config, services: [hello, other], routes: [], domainMappings: mappings, claims: [], ingresses: [], coreServices: [] });
    const ingressOf = (result: ReturnType<typeof translateKnative>) => result.ingresses.find((t) => t.ingress.metadata.name === 'shop.example.org')?.ingress;
    const memo = new KnativeMemo();
    const toHello = mapping('hello');
    const first = ingressOf(translateKnative(inputs([toHello]), { memo, localGatewayHost: 'local.example' }));
    expect(first).toBeDefined();
    expect(ingressOf(translateKnative(inputs([toHello]), { memo, localGatewayHost: 'local.example' }))).toBe(first);
    const toOther = ingressOf(translateKnative(inputs([mapping('other')]), { memo, localGatewayHost: 'local.example' }));
    expect(toOther).not.toBe(first);
    expect(toOther).toEqual(ingressOf(translateKnative(inputs([mapping('other')]), { localGatewayHost: 'local.example' })));
  });
});
