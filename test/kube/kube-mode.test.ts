import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/kube-client.js';
import type { IngressStatus } from '../../src/model/ingress.js';
import { Ferry } from '../../src/serve/ferry.js';
import { selfSignedCertificate, tlsSecretManifest, type TestCertificate } from '../e2e/harness/certs.js';
import { waitFor } from '../e2e/harness/wait.js';
import {
  createNetnsPair, startKubeCluster, startPodBackend, type Gateway, type KubeCluster, type NetnsPair, type PodBackend, startKubeFerry,
} from './harness/index.js';

/*
 * Ferry in kube mode against a real kube-apiserver and etcd: KIngresses, Services, EndpointSlices and Secrets are
 * written through the API, Ferry (in this process) reads them with its informers and writes KIngress status, and a
 * real Envoy in a network namespace serves real backends in another one.
 */

const INGRESSES = '/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses';
const ACTIVATOR_ADDRESS = '10.213.0.3';

let cluster: KubeCluster;
let net: NetnsPair;
let gateway: Gateway;
let ferry: Ferry;
let api: KubeClient;
let v1: PodBackend;
let v2: PodBackend;
let activator: PodBackend;
let workDir: string;
/** The other class's KIngress as it was before Ferry started. */
let theirsBefore: unknown;

function service(name: string, namespace = 'default'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
`;
}

function slice(service: string, address: string, port: number, namespace = 'default', name = `${service}-1`): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: ${namespace}, labels: {kubernetes.io/service-name: ${service}}}
addressType: IPv4
endpoints: [{addresses: [${address}], conditions: {ready: true}}]
ports: [{name: http, port: ${port}, protocol: TCP}]
`;
}

function kingress(name: string, hosts: string[], splits: Array<[string, number]>, extra: { ingressClass?: string; tls?: string; visibility?: string; header?: string } = {}): string {
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ${extra.ingressClass ?? 'ferry.ingress.networking.knative.dev'}}
spec:
${extra.tls ? `  tls: [{hosts: [${hosts[0]}], secretName: ${extra.tls}, secretNamespace: default}]\n` : ''}  rules:
  - hosts: [${hosts.join(', ')}]
    visibility: ${extra.visibility ?? 'ExternalIP'}
    http:
      paths:
      - splits: [${splits.map(([svc, percent]) => `{serviceName: ${svc}, serviceNamespace: default, servicePort: 80, percent: ${percent}}`).join(', ')}]
${extra.header ? `        appendHeaders: {x-test: ${extra.header}}\n` : ''}`;
}

async function backendOf(host: string, options: { port?: number; https?: boolean; caFile?: string } = {}): Promise<string> {
  const response = await gateway.request({ host, port: options.port ?? 8080, https: options.https, caFile: options.caFile, timeoutSeconds: 3 });
  if (response.status !== 200) return `HTTP ${response.status}`;
  return (JSON.parse(response.body) as { backend: string }).backend;
}

async function servedBy(host: string, backend: string, options: { port?: number; https?: boolean; caFile?: string } = {}): Promise<void> {
  await waitFor(async () => (await backendOf(host, options)) === backend, 20_000, `${host} served by ${backend}`);
}

async function statusOf(name: string): Promise<IngressStatus | undefined> {
  return (await api.get<{ status?: IngressStatus }>(`${INGRESSES}/${name}`)).status;
}

async function readyGeneration(name: string): Promise<number> {
  return waitFor(async () => {
    const object = await api.get<{ metadata: { generation: number }; status?: IngressStatus }>(`${INGRESSES}/${name}`);
    const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && object.status?.observedGeneration === object.metadata.generation ? object.metadata.generation : 0;
  }, 20_000, `KIngress ${name} Ready at its generation`);
}

function caFile(certificate: TestCertificate): string {
  const path = join(workDir, `ca-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(path, certificate.cert);
  return path;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'ferry-kube-mode-'));
  cluster = await startKubeCluster();
  api = KubeClient.load(cluster.kubeconfig);
  net = await createNetnsPair();
  await net.addPodAddress(ACTIVATOR_ADDRESS);
  [v1, v2, activator] = await Promise.all([
    startPodBackend(net, { name: 'v1', port: 8080 }),
    startPodBackend(net, { name: 'v2', port: 8081 }),
    startPodBackend(net, { name: 'activator', address: ACTIVATOR_ADDRESS, port: 8012 }),
  ]);
  await cluster.apply(['apiVersion: v1\nkind: Namespace\nmetadata: {name: knative-serving}\n', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ferry-system}\n',
    service('activator-service', 'knative-serving'), slice('activator-service', ACTIVATOR_ADDRESS, 8012, 'knative-serving'),
    service('hello-v1'), slice('hello-v1', net.podAddress, 8080), service('hello-v2'), slice('hello-v2', net.podAddress, 8081),
    kingress('hello', ['hello.default.example.com'], [['hello-v1', 100]]),
    kingress('theirs', ['theirs.default.example.com'], [['hello-v1', 100]], { ingressClass: 'kourier.ingress.networking.knative.dev' }),
  ].join('---\n'));
  theirsBefore = await api.get(`${INGRESSES}/theirs`);
  ({ ferry, gateway } = await startKubeFerry(cluster, net));
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await ferry?.stop();
  await Promise.all([v1, v2, activator].map((backend) => backend?.stop()));
  await net?.remove();
  await cluster?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('Ferry in kube mode, against a real kube-apiserver', () => {
  it('marks a KIngress of its class Ready, as Knative expects, and serves its host through Envoy', async () => {
    await servedBy('hello.default.example.com', 'v1');
    expect(await readyGeneration('hello')).toBe(1);
    const status = await statusOf('hello');
    expect(status?.conditions?.map((c) => [c.type, c.status]).sort()).toEqual([['LoadBalancerReady', 'True'], ['NetworkConfigured', 'True'], ['Ready', 'True']]);
    expect(status?.publicLoadBalancer).toEqual({ ingress: [{ domainInternal: 'ferry.ferry-system.svc.cluster.local' }] });
    expect(status?.privateLoadBalancer).toEqual({ ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] });
    // The host of another class's KIngress is not Ferry's to serve.
    expect(await backendOf('theirs.default.example.com')).toBe('HTTP 404');
  });

  it('brings an update, a new host and a delete to Envoy, each with a new observedGeneration', async () => {
    await cluster.apply(kingress('hello', ['hello.default.example.com'], [['hello-v2', 100]]));
    await servedBy('hello.default.example.com', 'v2');
    expect(await readyGeneration('hello')).toBe(2);

    await cluster.apply(kingress('second', ['second.default.example.com', 'other.example.org'], [['hello-v1', 100]]));
    await servedBy('other.example.org', 'v1');
    await readyGeneration('second');

    await api.delete(`${INGRESSES}/second`);
    await waitFor(async () => (await backendOf('other.example.org')) === 'HTTP 404', 20_000, 'deleted host gone');
    expect(await backendOf('hello.default.example.com')).toBe('v2');
  });

  it('follows an EndpointSlice flip to the activator and back, and keeps only the EndpointSlices its KIngresses name', async () => {
    await cluster.apply(slice('hello-v2', ACTIVATOR_ADDRESS, 8012));
    await servedBy('hello.default.example.com', 'activator');
    await cluster.apply(slice('hello-v2', net.podAddress, 8081));
    await servedBy('hello.default.example.com', 'v2');
    // hello-v1 is named by no KIngress any more (hello moved to v2, second is gone); kube-system's Service never was.
    await waitFor(() => ferry.store.get('Service', 'default/hello-v1') === undefined, 10_000, 'hello-v1 dropped');
    expect(ferry.store.get('Service', 'default/kubernetes')).toBeUndefined();
    expect(ferry.store.get('Service', 'default/hello-v2')).toBeDefined();
    expect(ferry.store.get('Service', 'knative-serving/activator-service')).toBeDefined();
  });

  it('serves a TLS host from its Secret and follows a certificate rotation', async () => {
    const first = selfSignedCertificate('secure.default.example.com');
    await cluster.apply([tlsSecretManifest('default', 'secure-cert', first), kingress('secure', ['secure.default.example.com'], [['hello-v2', 100]], { tls: 'secure-cert' })].join('---\n'));
    await servedBy('secure.default.example.com', 'v2', { port: 8443, https: true, caFile: caFile(first) });
    const second = selfSignedCertificate('secure.default.example.com');
    await cluster.apply(tlsSecretManifest('default', 'secure-cert', second));
    await servedBy('secure.default.example.com', 'v2', { port: 8443, https: true, caFile: caFile(second) });
    await expect(backendOf('secure.default.example.com', { port: 8443, https: true, caFile: caFile(first) })).rejects.toThrow();
  });

  it('reports an invalid KIngress on its status, naming the field, and keeps serving its last valid version', async () => {
    const invalid = kingress('hello', ['hello.default.example.com'], [['hello-v2', 60], ['hello-v1', 30]]);
    await cluster.apply(invalid);
    const condition = await waitFor(async () => (await statusOf('hello'))?.conditions?.find((c) => c.type === 'NetworkConfigured' && c.status === 'False'), 20_000, 'NetworkConfigured False');
    expect(condition.reason).toBe('ValidationFailed');
    expect(condition.message).toContain('Ingress default/hello: spec.rules[0].http.paths[0].splits');
    expect(await backendOf('hello.default.example.com')).toBe('v2');
    await cluster.apply(kingress('hello', ['hello.default.example.com'], [['hello-v2', 100]], { header: 'fixed' }));
    await readyGeneration('hello');
  });

  it('applies a config-ferry change to the gateway at run time, refuses a bad value naming its key and keeps the last good one', async () => {
    const configFerry = (data: Record<string, string>) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-ferry, namespace: ferry-system}\ndata: ${JSON.stringify(data)}\n`;
    const serverHeader = async () => (await gateway.request({ host: 'hello.default.example.com', port: 8080, timeoutSeconds: 3 })).headers.server;
    await cluster.apply(configFerry({ 'server-header': 'ferry-kube' }));
    await waitFor(async () => (await serverHeader()) === 'ferry-kube', 20_000, 'Server header from config-ferry');

    await cluster.apply(configFerry({ 'server-header': 'second', 'max-connections': '-3' }));
    const problem = await waitFor(() => ferry.source.problems().find((p) => p.object.includes('config-ferry')), 20_000, 'config-ferry problem');
    expect(problem.field).toContain('max-connections');
    expect(await serverHeader()).toBe('ferry-kube');
    expect(await backendOf('hello.default.example.com')).not.toMatch(/^HTTP/);

    await cluster.apply(configFerry({ 'server-header': 'second' }));
    await waitFor(async () => (await serverHeader()) === 'second', 20_000, 'Server header after the fix');
    await waitFor(() => !ferry.source.problems().some((p) => p.object.includes('config-ferry')), 10_000, 'config-ferry problem cleared');
    await api.delete('/api/v1/namespaces/ferry-system/configmaps/config-ferry');
    await waitFor(async () => (await serverHeader()) === 'envoy', 20_000, 'default Server header once config-ferry is gone');
  });

  it('loses no update across an API server restart whose watches come back expired (410 Gone)', async () => {
    const relists = async (): Promise<number> => (await ferry.metrics.kubeRelists.get()).values.reduce((sum, v) => sum + v.value, 0);
    const before = await relists();
    // Made just before the API server goes down: Ferry may or may not have seen it.
    await cluster.apply(kingress('hello', ['hello.default.example.com'], [['hello-v1', 100]]));
    await cluster.stopApiServer();
    // The gateway keeps serving while the API server is away.
    expect(['v1', 'v2']).toContain(await backendOf('hello.default.example.com'));
    // etcd moves on and compacts: the watches' resourceVersions are gone when the API server is back.
    await cluster.compactEtcd();
    await cluster.startApiServer();
    await cluster.apply(kingress('after', ['after.default.example.com'], [['hello-v2', 100]]));
    await servedBy('after.default.example.com', 'v2');
    await servedBy('hello.default.example.com', 'v1');
    await readyGeneration('after');
    expect(await relists()).toBeGreaterThan(before);
  });

  it('never touches a KIngress of another class: no status, no finalizer, the same resourceVersion', async () => {
    const theirs = await api.get<{ status?: unknown }>(`${INGRESSES}/theirs`);
    expect(theirs.status).toBeUndefined();
    // Byte for byte as before Ferry started (its resourceVersion included: not one write).
    expect(JSON.stringify(theirs)).toBe(JSON.stringify(theirsBefore));
    expect(ferry.store.get('KIngress', 'default/theirs')).toBeUndefined();
  });
});
