import { describe, expect, it } from 'vitest';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { scopedRouteResources } from '../../src/translate/envoy/scoped-routes.js';
import { translateIngress } from '../../src/translate/envoy/index.js';
import { loadFixture } from './fixture-context.js';

/** A KIngress as Knative makes it from a Route: an external rule and a ClusterLocal rule; the options vary it. */
function fixture(options: { httpOption?: 'Redirected'; localService?: string; external?: boolean; localHeaders?: boolean } = {}) {
  const split = (service: string, headers = false) => `
        - ${headers ? 'appendHeaders: {x-local: "1"}\n          ' : ''}splits:
          - {serviceNamespace: default, serviceName: ${service}, servicePort: 80, percent: 100}`;
  const service = (name: string) => `
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}`;
  const local = options.localService ?? 'hello-00001';
  const yaml = `
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: hello, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ${options.httpOption ? `httpOption: ${options.httpOption}` : ''}
  rules:
  ${options.external === false ? '' : `- hosts: [hello.default.example.com]
    visibility: ExternalIP
    http:
      paths:${split('hello-00001')}`}
  - hosts: [hello.default, hello.default.svc.cluster.local]
    visibility: ClusterLocal
    http:
      paths:${split(local, options.localHeaders)}
${service('hello-00001')}${local === 'hello-00001' ? '' : service(local)}`;
  const { ingresses, ctx } = loadFixture(yaml, { routeTables: 'scoped' });
  return translateIngress(ingresses[0]!, ctx);
}

function described(translation: ReturnType<typeof fixture>, role: 'external' | 'local') {
  const built = scopedRouteResources(role, translation)!;
  const table = RouteConfiguration.decode(built.routeConfiguration.bytes);
  return {
    table: table.name,
    virtualHosts: table.virtualHosts.map((virtualHost) => virtualHost.domains.filter((domain) => !domain.endsWith(':*')).length),
    domains: table.virtualHosts.flatMap((virtualHost) => virtualHost.domains.filter((domain) => !domain.endsWith(':*'))),
    scopes: built.scopes.map((scope) => ScopedRouteConfiguration.decode(scope.bytes)).map((scope) => `${scope.key!.fragments.map((f) => f.stringKey).join('+')} -> ${scope.routeConfigurationName}`),
    hash: built.routeConfiguration.hash,
  };
}

describe('scoped route tables: one table for both roles when they route alike', () => {
  it('a KIngress as Knative makes it: both roles name one table; each role has scopes for its own hosts only', () => {
    const translation = fixture();
    const external = described(translation, 'external');
    const local = described(translation, 'local');
    expect(external.table).toBe('both/default/hello');
    expect(local).toMatchObject({ table: 'both/default/hello', hash: external.hash });
    expect(external.domains).toEqual(['hello.default.example.com', 'hello.default', 'hello.default.svc.cluster.local']);
    // The two rules route alike: one virtual host serves the hosts of both (the scopes keep the roles apart).
    expect(external.virtualHosts).toEqual([3]);
    expect(external.scopes).toEqual(['hello.default.example.com+external -> both/default/hello']);
    expect(local.scopes).toEqual([
      'hello.default.example.com+local -> both/default/hello',
      'hello.default+local -> both/default/hello',
      'hello.default.svc.cluster.local+local -> both/default/hello',
    ]);
  });

  it('rules that route differently keep a virtual host each in the shared table', () => {
    const translation = fixture({ localHeaders: true });
    expect(described(translation, 'external')).toMatchObject({ table: 'both/default/hello', virtualHosts: [1, 2] });
  });

  it('httpOption Redirected: the external role redirects plain HTTP and the local role does not, so each has its table', () => {
    const translation = fixture({ httpOption: 'Redirected' });
    expect(described(translation, 'external')).toMatchObject({ table: 'external/default/hello', domains: ['hello.default.example.com'] });
    expect(described(translation, 'local')).toMatchObject({ table: 'local/default/hello', domains: ['hello.default.example.com', 'hello.default', 'hello.default.svc.cluster.local'] });
  });

  it('a cluster-local rule routing to a Service the external role does not use keeps the tables apart', () => {
    const translation = fixture({ localService: 'hello-internal' });
    expect(described(translation, 'external')).toMatchObject({ table: 'external/default/hello', domains: ['hello.default.example.com'] });
    expect(described(translation, 'local').table).toBe('local/default/hello');
  });

  it('a cluster-local KIngress has a local table only', () => {
    const translation = fixture({ external: false });
    expect(scopedRouteResources('external', translation)).toBeUndefined();
    expect(described(translation, 'local')).toMatchObject({ table: 'local/default/hello', domains: ['hello.default', 'hello.default.svc.cluster.local'] });
  });
});
