import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { FerryMetrics } from '../../src/metrics.js';
import { XdsCache } from '../../src/xds/cache.js';
import { NackStore } from '../../src/xds/nacks.js';
import { encodeResource } from '../../src/xds/resource.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { XdsServer } from '../../src/xds/server.js';
import { testEdsCluster, testListener, testRouteConfiguration } from '../e2e/harness/resources.js';
import {
  apiGet, createNetnsPair, gatewayLogTails, printKubeLogsOnFailure, startGateway, startKubeCluster, startPodBackend, stopAllGateways,
  stopAllPodBackends, tempSocketPath, waitFor, type KubeCluster, type NetnsPair,
} from './harness/index.js';

/** Proves the kube harness itself: each piece a kube test relies on, against the real thing. */

const KINGRESS = `
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: hello
  namespace: smoke
  annotations: { networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev }
spec:
  rules:
    - hosts: [hello.smoke.example.com]
      visibility: ExternalIP
      http:
        paths:
          - splits:
              - serviceName: hello
                serviceNamespace: smoke
                servicePort: 80
                percent: 100
`;

function endpointSlice(name: string, address: string): string {
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: 'smoke', labels: { 'kubernetes.io/service-name': 'hello' } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
  });
}

describe('kube test harness', () => {
  let cluster: KubeCluster;
  let net: NetnsPair;
  printKubeLogsOnFailure(80, () => gatewayLogTails());

  beforeAll(async () => {
    [cluster, net] = await Promise.all([startKubeCluster(), createNetnsPair()]);
    await cluster.apply('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"smoke"}}');
  });
  afterAll(async () => {
    await stopAllGateways();
    await stopAllPodBackends();
    await net?.remove();
    await cluster?.stop();
  });

  it('runs kube-apiserver v1.34.4, reachable with the kubeconfig through @kubernetes/client-node (CA verified)', async () => {
    const version = JSON.parse((await apiGet(cluster.server, cluster.adminToken, '/version')).body) as { gitVersion: string };
    expect(version.gitVersion).toBe('v1.34.4');
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfig);
    expect((await config.makeApiClient(VersionApi).getCode()).gitVersion).toBe('v1.34.4');
  });

  it('serves the KIngress CRD: an Ingress is stored and read back', async () => {
    await cluster.apply(KINGRESS);
    const got = await cluster.kubectl(['get', 'ingresses.networking.internal.knative.dev', 'hello', '-n', 'smoke', '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    const ingress = JSON.parse(got.stdout) as { spec: { rules: Array<{ hosts: string[] }> } };
    expect(ingress.spec.rules[0]!.hosts).toEqual(['hello.smoke.example.com']);
    const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    expect(crds.stdout).toContain('serverlessservices.networking.internal.knative.dev');
    expect(crds.stdout).toContain('certificates.networking.internal.knative.dev');
  });

  it('accepts EndpointSlices with the pod namespace address and rejects loopback ones', async () => {
    await cluster.apply(endpointSlice('hello-pod', net.podAddress));
    const rejected = await cluster.kubectl(['apply', '-f', '-'], endpointSlice('hello-loopback', '127.0.0.1'));
    expect(rejected.code).not.toBe(0);
    expect(rejected.stderr).toMatch(/loopback/);
  });

  it('gives ServiceAccount tokens that RBAC governs', async () => {
    const kubeconfig = cluster.kubeconfigFor(await cluster.tokenFor('smoke', 'reader'));
    const denied = await cluster.kubectl(['--kubeconfig', kubeconfig, 'get', 'ingresses.networking.internal.knative.dev', '-n', 'smoke']);
    expect(denied.stderr).toContain('system:serviceaccount:smoke:reader');
    await cluster.apply(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: kingress-reader, namespace: smoke }
rules: [{ apiGroups: [networking.internal.knative.dev], resources: [ingresses], verbs: [get, list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: smoke }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: kingress-reader }
subjects: [{ kind: ServiceAccount, name: reader, namespace: smoke }]
`);
    await waitFor(async () => (await cluster.kubectl(['--kubeconfig', kubeconfig, 'get', 'ingresses.networking.internal.knative.dev', '-n', 'smoke', '-o', 'name'])).stdout.includes('hello'), 10_000, 'RBAC grant');
  });

  it('runs backends in the pod namespace, reachable from the gw namespace (also on added addresses)', async () => {
    const backend = await startPodBackend(net, { name: 'pod-a' });
    await net.addPodAddress('10.213.0.3');
    const activator = await startPodBackend(net, { name: 'activator', address: '10.213.0.3', port: 8012 });
    const fromGw = async (address: string, port: number): Promise<{ backend: string; path: string }> =>
      JSON.parse(await net.exec(net.gw, ['curl', '-sS', '--max-time', '5', `http://${address}:${port}/hi`])) as { backend: string; path: string };
    expect(await fromGw('10.213.0.2', backend.port)).toMatchObject({ backend: 'pod-a', path: '/hi' });
    expect(await fromGw('10.213.0.3', 8012)).toMatchObject({ backend: 'activator', path: '/hi' });
    expect(backend.requests).toBe(1);
    await activator.stop();
  });

  it('runs a gateway Envoy in the gw namespace that takes xDS from Ferry over a unix socket and routes to a pod', async () => {
    const backend = await startPodBackend(net, { name: 'pod-b', port: 8080 });
    const metrics = new FerryMetrics({ processMetrics: false });
    const cache = new XdsCache({ metrics });
    cache.setAll('external', {
      [TypeUrl.Cluster]: [testEdsCluster('hello')],
      [TypeUrl.Endpoint]: [encodeResource(TypeUrl.Endpoint, 'hello', ClusterLoadAssignment, ClusterLoadAssignment.fromPartial({
        clusterName: 'hello',
        endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: net.podAddress, portValue: backend.port } } } }] }],
      }))],
      [TypeUrl.Listener]: [testListener('http', 8080, 'http-routes')],
      [TypeUrl.Route]: [testRouteConfiguration('http-routes', [{ host: 'hello.smoke.example.com', cluster: 'hello' }])],
    });
    const xds = new XdsServer({ cache, nackStore: new NackStore(), metrics, logger: silentLogger });
    const socket = tempSocketPath();
    try {
      expect(await xds.listen(`unix:${socket}`)).toBe(0);
      const gateway = await startGateway({ net, xdsSocket: socket, role: 'external' });
      await waitFor(() => gateway.xdsConnected(), 15_000, 'ADS stream over the unix socket');
      await gateway.ready();
      expect(xds.streams()[0]?.nodeId).toBe(gateway.nodeId);
      const answer = await waitFor(async () => {
        const res = await gateway.request({ host: 'hello.smoke.example.com', port: 8080, path: '/x', headers: { 'x-test': 'yes' } });
        return res.status === 200 ? res : undefined;
      }, 15_000, 'a routed request');
      expect(JSON.parse(answer.body)).toMatchObject({ backend: 'pod-b', path: '/x', headers: { 'x-test': 'yes', host: 'hello.smoke.example.com' } });
      expect(answer.headers['content-type']).toBe('application/json');
      expect((await gateway.request({ host: 'unknown.example.com', port: 8080 })).status).toBe(404);
      await gateway.stop();
    } finally {
      await xds.close();
      rmSync(dirname(socket), { recursive: true, force: true });
    }
  });

  it('keeps the objects when kube-apiserver is killed and started again; compactEtcd expires older resourceVersions', async () => {
    const listAt = (rv: string): Promise<{ status: number; body: string }> =>
      apiGet(cluster.server, cluster.adminToken, `/apis/discovery.k8s.io/v1/namespaces/smoke/endpointslices?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    const rv = (JSON.parse((await apiGet(cluster.server, cluster.adminToken, '/apis/discovery.k8s.io/v1/namespaces/smoke/endpointslices')).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    expect((await listAt(rv)).status).toBe(200);
    await cluster.stopApiServer({ kill: true });
    expect(await cluster.compactEtcd()).toBeGreaterThan(Number(rv));
    await expect(apiGet(cluster.server, cluster.adminToken, '/readyz')).rejects.toThrow();
    await cluster.startApiServer();
    const got = await cluster.kubectl(['get', 'ingresses.networking.internal.knative.dev,endpointslices', '-n', 'smoke', '-o', 'name']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain('ingress.networking.internal.knative.dev/hello');
    expect(got.stdout).toContain('endpointslice.discovery.k8s.io/hello-pod');
    expect((await listAt(rv)).status).toBe(410);
  });
});
