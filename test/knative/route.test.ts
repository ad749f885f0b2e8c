import { describe, expect, it } from 'vitest';
import { defaultKnativeConfig, parseDomainConfig, parseNetworkConfig, type KnativeConfig } from '../../src/model/config.js';
import type { KnativeService, Route } from '../../src/model/serving.js';
import { translateKnative, type KnativeInputs } from '../../src/translate/knative/index.js';

function inputs(partial: Partial<KnativeInputs>): KnativeInputs {
  return { config: defaultKnativeConfig(), services: [], routes: [], domainMappings: [], claims: [], ingresses: [], coreServices: [], ...partial };
}
function service(name: string, spec: KnativeService['spec'] = {}, labels?: Record<string, string>): KnativeService {
  return { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec };
}
const revisionHeaders = (revision: string) => ({ 'Knative-Serving-Revision': revision, 'Knative-Serving-Namespace': 'default' });

describe('Knative Service → Route → KIngress', () => {
  it('gives the getting-started Service the KIngress Knative Serving makes', () => {
    const result = translateKnative(inputs({ services: [service('hello', { template: { metadata: { name: 'hello-world' } } })] }));
    expect(result.routes[0]!.spec.traffic).toEqual([{ latestRevision: true, percent: 100, configurationName: 'hello' }]);
    expect(result.ingresses).toHaveLength(1);
    const { ingress, origin } = result.ingresses[0]!;
    expect(origin).toEqual({ kind: 'Service', namespace: 'default', name: 'hello' });
    expect(ingress).toEqual({
      apiVersion: 'networking.internal.knative.dev/v1alpha1',
      kind: 'Ingress',
      metadata: {
        name: 'hello', namespace: 'default',
        labels: { 'serving.knative.dev/service': 'hello', 'serving.knative.dev/route': 'hello', 'serving.knative.dev/routeNamespace': 'default' },
        annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' },
      },
      spec: {
        rules: [
          { hosts: ['hello.default', 'hello.default.svc', 'hello.default.svc.cluster.local'], visibility: 'ClusterLocal',
            http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-world', servicePort: 80, percent: 100, appendHeaders: revisionHeaders('hello-world') }] }] } },
          { hosts: ['hello.default.example.com'], visibility: 'ExternalIP',
            http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-world', servicePort: 80, percent: 100, appendHeaders: revisionHeaders('hello-world') }] }] } },
        ],
        httpOption: 'Enabled',
      },
    });
    const status = result.statuses[0]!;
    expect(status.url).toBe('http://hello.default.example.com');
    expect(status.address).toBe('http://hello.default.svc.cluster.local');
    expect(status.conditions).toEqual([{ type: 'AllTrafficAssigned', status: 'True' }]);
  });

  it('names the latest revision <service>-00001 when the template names none, and uses port 81 for h2c', () => {
    const grpc = service('grpc', { template: { spec: { containers: [{ ports: [{ name: 'h2c', containerPort: 8080 }] }] } } });
    const { ingresses } = translateKnative(inputs({ services: [grpc] }));
    const split = ingresses[0]!.ingress.spec.rules![0]!.http!.paths[0]!.splits[0]!;
    expect([split.serviceName, split.servicePort]).toEqual(['grpc-00001', 81]);
  });

  it('splits traffic, drops 0% targets, and gives each tag its own hosts at 100%', () => {
    const svc = service('hello', {
      template: { metadata: { name: 'hello-v3' } },
      traffic: [
        { revisionName: 'hello-v1', percent: 70, tag: 'blue' },
        { latestRevision: true, percent: 30, tag: 'latest' },
        { revisionName: 'hello-v0', percent: 0 },
      ],
    });
    const { ingresses } = translateKnative(inputs({ services: [svc] }));
    const rules = ingresses[0]!.ingress.spec.rules!;
    expect(rules.map((r) => [r.visibility, r.hosts])).toEqual([
      ['ClusterLocal', ['hello.default', 'hello.default.svc', 'hello.default.svc.cluster.local']],
      ['ExternalIP', ['hello.default.example.com']],
      ['ClusterLocal', ['blue-hello.default', 'blue-hello.default.svc', 'blue-hello.default.svc.cluster.local']],
      ['ExternalIP', ['blue-hello.default.example.com']],
      ['ClusterLocal', ['latest-hello.default', 'latest-hello.default.svc', 'latest-hello.default.svc.cluster.local']],
      ['ExternalIP', ['latest-hello.default.example.com']],
    ]);
    expect(rules[1]!.http!.paths[0]!.splits.map((s) => [s.serviceName, s.percent])).toEqual([['hello-v1', 70], ['hello-v3', 30]]);
    expect(rules[3]!.http!.paths[0]!.splits.map((s) => [s.serviceName, s.percent])).toEqual([['hello-v1', 100]]);
    expect(rules[5]!.http!.paths[0]!.splits.map((s) => [s.serviceName, s.percent])).toEqual([['hello-v3', 100]]);
  });

  it('adds Knative-Serving-Tag header routes when tag-header-based-routing is enabled', () => {
    const config: KnativeConfig = { ...defaultKnativeConfig(), features: { tagHeaderBasedRouting: true } };
    const svc = service('hello', { template: { metadata: { name: 'hello-v2' } }, traffic: [{ revisionName: 'hello-v1', percent: 100, tag: 'old' }, { latestRevision: true, percent: 0, tag: 'new' }] });
    const rules = translateKnative(inputs({ config, services: [svc] })).ingresses[0]!.ingress.spec.rules!;
    const defaultPaths = rules[1]!.http!.paths;
    expect(defaultPaths.map((p) => [p.headers, p.splits.map((s) => s.serviceName), p.appendHeaders])).toEqual([
      [{ 'Knative-Serving-Tag': { exact: 'new' } }, ['hello-v2'], undefined],
      [{ 'Knative-Serving-Tag': { exact: 'old' } }, ['hello-v1'], undefined],
      [undefined, ['hello-v1'], { 'Knative-Serving-Default-Route': 'true' }],
    ]);
    expect(rules[3]!.hosts).toEqual(['new-hello.default.example.com']);
    expect(rules[3]!.http!.paths[0]!.appendHeaders).toEqual({ 'Knative-Serving-Tag': 'new' });
  });

  it('makes only cluster-local rules for a cluster-local Route, by label or by config-domain', () => {
    const labelled = service('private', {}, { 'networking.knative.dev/visibility': 'cluster-local' });
    const byDomain = service('internal', {}, { app: 'internal' });
    const config: KnativeConfig = { ...defaultKnativeConfig(), domain: parseDomainConfig({ 'svc.cluster.local': 'selector:\n  app: internal\n', 'example.org': '' }).value };
    const { ingresses, statuses } = translateKnative(inputs({ config, services: [labelled, byDomain] }));
    for (const { ingress } of ingresses) expect(ingress.spec.rules!.map((r) => r.visibility)).toEqual(['ClusterLocal']);
    expect(statuses.map((s) => s.url)).toEqual(['http://private.default.svc.cluster.local', 'http://internal.default.svc.cluster.local']);
  });

  it('uses config-domain selectors (most specific wins) and the domain and tag templates', () => {
    const config: KnativeConfig = {
      ...defaultKnativeConfig(),
      network: parseNetworkConfig({ 'domain-template': '{{.Name}}-{{.Namespace}}.{{.Domain}}', 'tag-template': '{{.Name}}-{{.Tag}}' }).value,
      domain: parseDomainConfig({ 'example.org': '', 'prod.example.org': 'selector:\n  env: prod\n', 'eu.prod.example.org': 'selector:\n  env: prod\n  region: eu\n' }).value,
    };
    const svc = service('shop', { traffic: [{ latestRevision: true, percent: 100, tag: 'canary' }] }, { env: 'prod', region: 'eu' });
    const rules = translateKnative(inputs({ config, services: [svc] })).ingresses[0]!.ingress.spec.rules!;
    expect(rules.filter((r) => r.visibility === 'ExternalIP').map((r) => r.hosts)).toEqual([['shop-default.eu.prod.example.org'], ['shop-canary-default.eu.prod.example.org']]);
  });

  it('resolves a Route\'s configurationName to the Knative Service of that name, and reports a missing one', () => {
    const route: Route = { apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'r', namespace: 'default' }, spec: { traffic: [{ configurationName: 'hello', percent: 100 }] } };
    const missing: Route = { ...route, metadata: { name: 'm', namespace: 'default' }, spec: { traffic: [{ configurationName: 'nope', percent: 100 }] } };
    const result = translateKnative(inputs({ routes: [route, missing], services: [service('hello', { template: { metadata: { name: 'hello-7' } } })] }));
    const fromRoute = result.ingresses.find((i) => i.origin.kind === 'Route')!;
    expect(fromRoute.ingress.spec.rules![0]!.http!.paths[0]!.splits[0]!.serviceName).toBe('hello-7');
    expect(result.ingresses.map((i) => i.ingress.metadata.name).sort()).toEqual(['hello', 'r']);
    const status = result.statuses.find((s) => s.object.name === 'm')!;
    expect(status.conditions[0]).toMatchObject({ type: 'AllTrafficAssigned', status: 'False', reason: 'ConfigurationMissing' });
  });

  it('honours the http-protocol annotation and the ingress class of config-network', () => {
    const config: KnativeConfig = { ...defaultKnativeConfig(), network: parseNetworkConfig({ 'ingress-class': 'other.ingress', 'http-protocol': 'Redirected' }).value };
    const plain = service('a');
    const annotated = { ...service('b'), metadata: { name: 'b', namespace: 'default', annotations: { 'networking.knative.dev/http-protocol': 'Enabled' } } };
    const [a, b] = translateKnative(inputs({ config, services: [plain, annotated] })).ingresses.map((i) => i.ingress);
    expect([a!.spec.httpOption, b!.spec.httpOption]).toEqual(['Redirected', 'Enabled']);
    expect(a!.metadata.annotations!['networking.knative.dev/ingress.class']).toBe('other.ingress');
  });

  it('passes given KIngresses through, unless a Route makes one of the same name', () => {
    const given = { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress' as const, metadata: { name: 'hello', namespace: 'default' }, spec: { rules: [] } };
    const other = { ...given, metadata: { name: 'other', namespace: 'default' } };
    const result = translateKnative(inputs({ services: [service('hello')], ingresses: [given, other] }));
    expect(result.ingresses.map((i) => `${i.origin.kind} ${i.ingress.metadata.name}`)).toEqual(['Service hello', 'Ingress other']);
    expect(result.statuses.find((s) => s.object.kind === 'Ingress')!.conditions[0]!.reason).toBe('NotOwned');
  });
});
