import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeClient } from '../../src/kube/kube-client.js';
import { Ferry } from '../../src/serve/ferry.js';
import {
  createNetnsPair, gatewayLogTails, printKubeLogsOnFailure, startKubeCluster, startPodBackend, waitFor, type Gateway, type KubeCluster, type NetnsPair, type PodBackend, startKubeFerry,
} from './harness/index.js';

/*
 * `--knative-translation` against a real kube-apiserver with Knative Serving's CRDs (from knative.dev/serving, see
 * scripts/tools/kube.sh) and no Knative controller: Knative Services, DomainMappings, ClusterDomainClaims and the
 * config ConfigMaps are applied with kubectl, Ferry translates them in memory as files mode does (a Service's
 * latest revision is `<name>-00001` or its template's name, whose core Service and EndpointSlice the test writes as
 * the revision controller would), and a real Envoy in a network namespace serves the pod backends.
 */

let cluster: KubeCluster;
let net: NetnsPair;
let gateway: Gateway;
let ferry: Ferry;
let api: KubeClient;
let v1: PodBackend;
let v2: PodBackend;

/** A revision's public Service (port 80, as the Route's KIngress names it) and its EndpointSlice at a pod backend. */
function revision(name: string, backend: PodBackend): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: ${backend.port}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
endpoints: [{addresses: [${backend.address}], conditions: {ready: true}}]
ports: [{name: http, port: ${backend.port}, protocol: TCP}]
`;
}

function knativeService(template?: string, traffic?: string): string {
  return `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello, namespace: default}
spec:
  template:
${template ? `    metadata: {name: ${template}}\n` : ''}    spec: {containers: [{image: ghcr.io/knative/helloworld-go:latest, ports: [{containerPort: 8080}]}]}
${traffic ? `  traffic: ${traffic}\n` : ''}`;
}

function configMap(name: string, data: Record<string, string>): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: knative-serving}\ndata: ${JSON.stringify(data)}\n`;
}

function domainMapping(domain: string): string {
  return `apiVersion: serving.knative.dev/v1beta1
kind: DomainMapping
metadata: {name: ${domain}, namespace: default}
spec: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: hello}}
`;
}

interface Answer { status: number; backend?: string; headers: Record<string, string> }

async function answer(host: string, port = 8080): Promise<Answer> {
  const response = await gateway.request({ host, port, timeoutSeconds: 3 });
  if (response.status !== 200) return { status: response.status, headers: {} };
  const body = JSON.parse(response.body) as { backend: string; headers: Record<string, string> };
  return { status: 200, backend: body.backend, headers: body.headers };
}

async function servedBy(host: string, backend: string, port = 8080): Promise<Answer> {
  return waitFor(async () => {
    const got = await answer(host, port);
    return got.backend === backend ? got : undefined;
  }, 20_000, `${host}:${port} served by ${backend}`);
}

/** The conditions translation gives a DomainMapping, once Ferry has seen it. */
async function mappingConditions(domain: string): Promise<Array<[string, string]>> {
  const status = await waitFor(() => ferry.reconciler.current().statuses.find((s) => s.object.kind === 'DomainMapping' && s.object.name === domain), 20_000, `DomainMapping ${domain} translated`);
  return status.conditions.map((c) => [c.type, c.status]);
}

async function items(path: string): Promise<Array<{ metadata: { name: string; managedFields?: Array<{ manager: string; subresource?: string }> }; status?: unknown }>> {
  return (await api.get<{ items: Array<{ metadata: { name: string }; status?: unknown }> }>(path)).items;
}

printKubeLogsOnFailure(60, () => gatewayLogTails(60));

/** Every request but a read that Ferry sends to the API server (this test's `api` only reads; kubectl is another process). */
const writes: string[] = [];

beforeAll(async () => {
  const client = KubeClient.prototype as unknown as { call(method: string, path: string, ...rest: unknown[]): Promise<unknown> };
  const call = client.call;
  vi.spyOn(client, 'call').mockImplementation(function (this: unknown, method, path, ...rest) {
    if (method !== 'GET') writes.push(`${method} ${path}`);
    return call.call(this, method, path, ...rest);
  });
  cluster = await startKubeCluster({ knativeServingCrds: true });
  api = KubeClient.load(cluster.kubeconfig);
  net = await createNetnsPair();
  [v1, v2] = await Promise.all([startPodBackend(net, { name: 'v1', port: 8080 }), startPodBackend(net, { name: 'v2', port: 8081 })]);
  await cluster.apply(['apiVersion: v1\nkind: Namespace\nmetadata: {name: knative-serving}\n', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ferry-system}\n',
    revision('hello-00001', v1)].join('---\n'));
  // A DomainMapping's KIngress goes to its Route's placeholder ExternalName Service, i.e. to the local gateway: the
  // one gateway serves both roles, so it dials its own local listener (as files mode with a managed Envoy does).
  // No activator runs here.
  ({ ferry, gateway } = await startKubeFerry(cluster, net, { knativeTranslation: true, translateConfig: { activator: undefined, localGateway: { host: '127.0.0.1', port: 8081 } } }));
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await ferry?.stop();
  await Promise.all([v1, v2].map((backend) => backend?.stop()));
  await net?.remove();
  await cluster?.stop();
  vi.restoreAllMocks();
});

describe('Ferry --knative-translation against a real kube-apiserver with Knative Serving\'s CRDs', () => {
  it('serves a Knative Service applied with kubectl at its external host, and its cluster-local hosts on the local port only', async () => {
    await cluster.apply(knativeService());
    const external = await servedBy('hello.default.example.com', 'v1');
    expect(external.headers['knative-serving-revision']).toBe('hello-00001');
    expect(external.headers['knative-serving-namespace']).toBe('default');
    for (const host of ['hello.default.svc.cluster.local', 'hello.default.svc', 'hello.default']) expect((await servedBy(host, 'v1', 8081)).backend).toBe('v1');
    expect((await answer('hello.default.svc.cluster.local')).status).toBe(404);
  });

  it('brings a traffic split between two revisions to Envoy, 100/0 and then 0/100', async () => {
    await cluster.apply(revision('hello-00002', v2));
    await cluster.apply(knativeService('hello-00002', '[{revisionName: hello-00001, percent: 100}, {latestRevision: true, percent: 0, tag: latest}]'));
    // The tag's host shows that this version reached Envoy; the main host must still go to the first revision only.
    await servedBy('latest-hello.default.example.com', 'v2');
    for (let i = 0; i < 10; i++) expect((await answer('hello.default.example.com')).backend).toBe('v1');

    await cluster.apply(knativeService('hello-00002', '[{revisionName: hello-00001, percent: 0}, {latestRevision: true, percent: 100, tag: latest}]'));
    const latest = await servedBy('hello.default.example.com', 'v2');
    expect(latest.headers['knative-serving-revision']).toBe('hello-00002');
    for (let i = 0; i < 10; i++) expect((await answer('hello.default.example.com')).backend).toBe('v2');
  });

  it('moves the hosts when config-domain changes the domain', async () => {
    await cluster.apply(configMap('config-domain', { 'example.org': '' }));
    await servedBy('hello.default.example.org', 'v2');
    expect((await answer('latest-hello.default.example.org')).backend).toBe('v2');
    expect((await answer('hello.default.example.com')).status).toBe(404);
    expect((await answer('latest-hello.default.example.com')).status).toBe(404);
    // The cluster-local hosts do not follow config-domain.
    expect((await answer('hello.default.svc.cluster.local', 8081)).backend).toBe('v2');
  });

  it('serves a DomainMapping only once its domain is claimed: by a ClusterDomainClaim, or by autocreate-cluster-domain-claims', async () => {
    await cluster.apply(domainMapping('claimed.example.net'));
    expect(await mappingConditions('claimed.example.net')).toEqual([['DomainClaimed', 'False'], ['Ready', 'False']]);
    expect((await answer('claimed.example.net')).status).toBe(404);
    await cluster.apply('apiVersion: networking.internal.knative.dev/v1alpha1\nkind: ClusterDomainClaim\nmetadata: {name: claimed.example.net}\nspec: {namespace: default}\n');
    // Through the local gateway: the host rewritten to the Service's cluster-local one, the original one sent along.
    const mapped = await servedBy('claimed.example.net', 'v2');
    expect(mapped.headers.host).toBe('hello.default.svc.cluster.local');
    expect(mapped.headers['k-original-host']).toBe('claimed.example.net');
    expect(mapped.headers['knative-serving-revision']).toBe('hello-00002');

    await cluster.apply(domainMapping('auto.example.net'));
    expect(await mappingConditions('auto.example.net')).toEqual([['DomainClaimed', 'False'], ['Ready', 'False']]);
    expect((await answer('auto.example.net')).status).toBe(404);
    await cluster.apply(configMap('config-network', { 'autocreate-cluster-domain-claims': 'true' }));
    expect((await servedBy('auto.example.net', 'v2')).headers['k-original-host']).toBe('auto.example.net');
    expect(await mappingConditions('auto.example.net')).toEqual([['DomainClaimed', 'True'], ['ReferenceResolved', 'True']]);
  });

  it('writes nothing to the API server: no status on Knative\'s objects, no KIngress, Route, placeholder Service or ClusterDomainClaim', async () => {
    // Ferry serves the translated KIngresses (and holds the status Lease) ...
    expect([...ferry.reconciler.current().ingresses.keys()].sort()).toEqual(['default/auto.example.net', 'default/claimed.example.net', 'default/hello']);
    await waitFor(() => ferry.kubeStatus!.elector.isLeader(), 10_000, 'the status Lease held');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // ... but only kubectl ever wrote Knative's objects, and none has a status.
    const knative = [
      ...await items('/apis/serving.knative.dev/v1/services'),
      ...await items('/apis/serving.knative.dev/v1beta1/domainmappings'),
      ...await items('/apis/networking.internal.knative.dev/v1alpha1/clusterdomainclaims'),
    ];
    expect(knative.map((o) => o.metadata.name).sort()).toEqual(['auto.example.net', 'claimed.example.net', 'claimed.example.net', 'hello']);
    for (const object of knative) {
      expect(object.status, object.metadata.name).toBeUndefined();
      expect(object.metadata.managedFields?.map((f) => [f.manager, f.subresource ?? '']), object.metadata.name).toEqual([['kubectl-client-side-apply', '']]);
    }
    expect(await items('/apis/networking.internal.knative.dev/v1alpha1/ingresses')).toEqual([]);
    expect(await items('/apis/serving.knative.dev/v1/routes')).toEqual([]);
    // Ferry's own writes: its Lease, and KIngress status PATCHes. (The status writer also PATCHes the status of the
    // in-memory KIngresses, which the API server answers 404: tolerated here, not required.)
    expect(writes.some((w) => w.startsWith('PUT /apis/coordination.k8s.io/v1/namespaces/ferry-system/leases/'))).toBe(true);
    expect(writes.filter((w) => !w.includes('/namespaces/ferry-system/leases') && !/^PATCH \/apis\/networking\.internal\.knative\.dev\/v1alpha1\/namespaces\/[^/]+\/ingresses\/[^/]+\/status$/.test(w))).toEqual([]);
    expect((await items('/api/v1/namespaces/default/services')).map((s) => s.metadata.name).sort()).toEqual(['hello-00001', 'hello-00002', 'kubernetes']);
  });
});
