import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import type { VirtualHost } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import { Secret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import { describe, expect, it } from 'vitest';
import { buildGatewayResources } from '../../src/translate/envoy/gateway-resources.js';
import { translateIngress } from '../../src/translate/envoy/ingress-translation.js';
import { resourceToJson } from '../../src/translate/envoy/to-json.js';
import { probeHash } from '../../src/translate/probe-hash.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { encodeResource } from '../../src/xds/resource.js';
import { loadFixture } from './fixture-context.js';

const INPUT = `
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: hello, namespace: default, generation: 3, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  rules:
  - hosts: [hello.default.svc.cluster.local]
    visibility: ClusterLocal
    http: {paths: [{splits: [{serviceNamespace: default, serviceName: hello-00001, servicePort: 80}]}]}
  - hosts: [hello.example.com]
    visibility: ExternalIP
    http:
      paths:
      - path: /a
        splits:
        - {serviceNamespace: default, serviceName: hello-00001, servicePort: http, percent: 0}
        - {serviceNamespace: default, serviceName: missing, servicePort: 80, percent: 100}
      - path: /zero
        splits:
        - {serviceNamespace: default, serviceName: hello-00001, servicePort: 80, percent: 0}
        - {serviceNamespace: default, serviceName: hello-00001, servicePort: 80, percent: 0}
---
apiVersion: v1
kind: Service
metadata: {name: hello-00001, namespace: default, resourceVersion: "7"}
spec: {ports: [{name: http, port: 80, targetPort: 8012}]}
`;

function routeTable(yaml: string, role: 'external' | 'local') {
  const { ingresses, ctx } = loadFixture(yaml, { routeTables: 'single' });
  const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
  const resources = buildGatewayResources(role, translations, ctx);
  return { translations, resources, table: RouteConfiguration.decode(resources.routes[0]!.bytes), ctx, ingresses };
}

const domains = (hosts: VirtualHost[]) => hosts.flatMap((host) => host.domains);

describe('translateIngress / buildGatewayResources', () => {
  it('assembles a route table from encoded virtual hosts that equals encoding the whole message', () => {
    const { resources } = routeTable(INPUT, 'local');
    const decoded = RouteConfiguration.decode(resources.routes[0]!.bytes);
    expect(decoded.name).toBe('local-http');
    expect(decoded.virtualHosts).toHaveLength(2);
    expect(Buffer.from(RouteConfiguration.encode(decoded).finish())).toEqual(Buffer.from(resources.routes[0]!.bytes));
  });

  it('never puts a ClusterLocal host on the external gateway', () => {
    expect(domains(routeTable(INPUT, 'external').table.virtualHosts)).toEqual(['hello.example.com', 'hello.example.com:*']);
    expect(domains(routeTable(INPUT, 'local').table.virtualHosts)).toContain('hello.default.svc.cluster.local');
  });

  it("sets the KIngress's own K-Network-Hash on probe routes", () => {
    const { table, ingresses } = routeTable(INPUT, 'external');
    const probe = table.virtualHosts[0]!.routes.find((route) => route.name.endsWith(':probe'))!;
    expect(probe.match?.headers).toEqual([expect.objectContaining({ name: 'K-Network-Hash', stringMatch: expect.objectContaining({ exact: 'override' }) })]);
    expect(probe.requestHeadersToAdd.map((h) => [h.header?.key, h.header?.value])).toContainEqual(['K-Network-Hash', probeHash(ingresses[0]!)]);
  });

  it('leaves 0% splits out, answers 503 when every split is 0%, and names missing Services in warnings', () => {
    const { table, translations } = routeTable(INPUT, 'external');
    const routes = table.virtualHosts[0]!.routes.filter((route) => !route.name.endsWith(':probe'));
    const byPrefix = new Map(routes.map((route) => [route.match?.prefix, route]));
    expect(byPrefix.get('/zero')?.directResponse?.status).toBe(503);
    expect(byPrefix.get('/a')?.route?.weightedClusters?.clusters.map((c) => [c.name, c.weight])).toEqual([['default/missing:80', 100]]);
    expect(translations[0]!.warnings).toEqual(['default/hello:spec.rules[1].http.paths[0].splits[1]: Service default/missing not found; its requests get 503 until it exists']);
  });
});

describe('resourceToJson', () => {
  it('redacts private keys unless asked', () => {
    const secret = Secret.fromPartial({ name: 'ns/cert', tlsCertificate: { certificateChain: { inlineBytes: Buffer.from('crt') }, privateKey: { inlineBytes: Buffer.from('key') } } });
    const resource = encodeResource(TypeUrl.Secret, 'ns/cert', Secret, secret);
    expect(JSON.stringify(resourceToJson(resource))).not.toContain(Buffer.from('key').toString('base64'));
    expect(resourceToJson(resource)).toMatchObject({ tlsCertificate: { privateKey: { inlineString: '[redacted]' } } });
    expect(resourceToJson(resource, { revealPrivateKeys: true })).toMatchObject({ tlsCertificate: { privateKey: { inlineBytes: Buffer.from('key').toString('base64') } } });
  });
});
