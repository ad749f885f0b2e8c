import { describe, expect, it } from 'vitest';
import { defaultKnativeConfig, parseNetworkConfig } from '../../src/model/config.js';
import type { KnativeService } from '../../src/model/serving.js';
import { translateKnative, type KnativeInputs } from '../../src/translate/knative/index.js';

const inputs = (network: Record<string, string>, services: KnativeService[]): KnativeInputs => ({
  config: { ...defaultKnativeConfig(), network: parseNetworkConfig(network).value }, services, routes: [], domainMappings: [], claims: [], ingresses: [], coreServices: [],
});
const service = (name: string, spec: KnativeService['spec'] = {}): KnativeService => ({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });

describe('config-network in Knative\'s Route translation', () => {
  it('system-internal-tls: every split goes to the revision\'s TLS port 443, whatever its protocol (Knative\'s makeBaseIngressPath)', () => {
    const grpc = service('grpc', { template: { spec: { containers: [{ ports: [{ name: 'h2c', containerPort: 8080 }] }] } } });
    for (const [network, http, h2c] of [[{}, 80, 81], [{ 'system-internal-tls': 'Enabled' }, 443, 443], [{ 'internal-encryption': 'true' }, 443, 443]] as const) {
      const { ingresses } = translateKnative(inputs(network, [service('hello'), grpc]));
      const ports = Object.fromEntries(ingresses.map(({ ingress }) => [ingress.metadata.name, [...new Set(ingress.spec.rules!.flatMap((rule) => rule.http!.paths.flatMap((path) => path.splits.map((split) => split.servicePort))))]]));
      expect(ports, JSON.stringify(network)).toEqual({ hello: [http], grpc: [h2c] });
    }
  });

  it('default-external-scheme: the external URLs (tags too) take it, the cluster-local address stays http', () => {
    const svc = service('hello', { traffic: [{ latestRevision: true, percent: 100, tag: 'blue' }] });
    const [status] = translateKnative(inputs({ 'default-external-scheme': 'https' }, [svc])).statuses;
    expect(status!.url).toBe('https://hello.default.example.com');
    expect(status!.address).toBe('http://hello.default.svc.cluster.local');
    expect(status!.traffic?.find((t) => t.tag === 'blue')?.url).toBe('https://blue-hello.default.example.com');
  });
});
