import { describe, expect, it } from 'vitest';
import { defaultKnativeConfig } from '../../src/model/config.js';
import type { KnativeService } from '../../src/model/serving.js';
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
});
