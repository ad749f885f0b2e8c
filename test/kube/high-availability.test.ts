import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/kube-client.js';
import type { IngressStatus } from '../../src/model/ingress.js';
import {
  createNetnsPair, startGateway, startKubeCluster, startPodBackend, tempSocketPath, waitFor,
  type Gateway, type KubeCluster, type NetnsPair, type PodBackend,
} from './harness/index.js';

/*
 * Two `ferry serve --source kube` processes, as the two replicas of deploy/kubernetes/ferry.yaml: both serve xDS from
 * their own informers (each to its own gateway here), one holds the Lease and writes KIngress status. The leader is
 * killed with SIGKILL (no chance to hand the Lease back): the other takes over within the Lease's duration.
 */

const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const LEASE_SECONDS = 3;
const INGRESSES = '/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses';
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/ferry-system/leases/ferry-status-writer';

interface Replica {
  name: string;
  process: ChildProcess;
  gateway: Gateway;
  /** The external HTTP port of this replica's gateway (the two gateways share the gw namespace). */
  port: number;
  log: string[];
}

let cluster: KubeCluster;
let api: KubeClient;
let net: NetnsPair;
let backend: PodBackend;
const replicas: Replica[] = [];

function kingress(name: string): string {
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: ${name}, namespace: default, annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}}
spec:
  rules:
  - hosts: [${name}.default.example.com]
    visibility: ExternalIP
    http: {paths: [{splits: [{serviceName: hello, serviceNamespace: default, servicePort: 80, percent: 100}]}]}
`;
}

async function startReplica(name: string, portBase: number): Promise<Replica> {
  const socket = tempSocketPath();
  const log: string[] = [];
  const child = spawn(process.execPath, [CLI, 'serve', '--source', 'kube', '--kubeconfig', cluster.kubeconfig, '--envoy', 'none', '--pod-name', name,
    '--lease-duration', String(LEASE_SECONDS), '--xds-address', `unix:${socket}`, '--admin-address', '127.0.0.1:0', '--listen-address', '0.0.0.0',
    '--external-http-port', String(portBase), '--external-https-port', String(portBase + 1), '--local-http-port', String(portBase + 2), '--local-https-port', String(portBase + 3)],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'info' } });
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  await waitFor(() => log.some((line) => line.includes('serving xDS')) || child.exitCode !== null, 60_000, `replica ${name} serving`);
  if (child.exitCode !== null) throw new Error(`replica ${name} exited: ${log.slice(-20).join('\n')}`);
  const gateway = await startGateway({ net, xdsSocket: socket, nodeId: `gateway-of-${name}` });
  return { name, process: child, gateway, port: portBase, log };
}

async function served(replica: Replica, host: string): Promise<boolean> {
  const response = await replica.gateway.request({ host, port: replica.port, timeoutSeconds: 3 });
  return response.status === 200;
}

async function holder(): Promise<string> {
  return (await api.get<{ spec: { holderIdentity?: string } }>(LEASE)).spec.holderIdentity ?? '';
}

async function ready(name: string): Promise<boolean> {
  const status = (await api.get<{ status?: IngressStatus }>(`${INGRESSES}/${name}`)).status;
  return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  api = KubeClient.load(cluster.kubeconfig);
  net = await createNetnsPair();
  backend = await startPodBackend(net, { name: 'hello', port: 8080 });
  await cluster.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ferry-system}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: hello-1, namespace: default, labels: {kubernetes.io/service-name: hello}}
addressType: IPv4
endpoints: [{addresses: [${net.podAddress}], conditions: {ready: true}}]
ports: [{name: http, port: 8080, protocol: TCP}]
---
${kingress('first')}`);
  replicas.push(await startReplica('ferry-a', 8080), await startReplica('ferry-b', 9080));
}, 240_000);

afterAll(async () => {
  for (const replica of replicas) {
    await replica.gateway.stop();
    replica.process.kill('SIGKILL');
  }
  await backend?.stop();
  await net?.remove();
  await cluster?.stop();
});

describe('two Ferry replicas', () => {
  it('both serve xDS from their own informers, while one of them holds the Lease and writes status', async () => {
    for (const replica of replicas) await waitFor(() => served(replica, 'first.default.example.com'), 20_000, `${replica.name}'s gateway serves`);
    await waitFor(() => ready('first'), 20_000, 'first Ready');
    const leader = await holder();
    expect(replicas.map((r) => r.name)).toContain(leader);
    const follower = replicas.find((r) => r.name !== leader)!;
    expect(follower.log.some((line) => line.includes('took the status-writer Lease'))).toBe(false);
    expect(replicas.find((r) => r.name === leader)!.log.some((line) => line.includes('took the status-writer Lease'))).toBe(true);
  });

  it('moves the writing to the other replica within the Lease\'s duration when the leader is killed', async () => {
    const leaderName = await holder();
    const leader = replicas.find((r) => r.name === leaderName)!;
    const follower = replicas.find((r) => r.name !== leaderName)!;
    leader.process.kill('SIGKILL');
    const killedAt = Date.now();
    await cluster.apply(kingress('after'));
    await waitFor(async () => (await holder()) === follower.name, (LEASE_SECONDS + 3) * 1000, 'the follower holds the Lease');
    const tookOverMs = Date.now() - killedAt;
    // The follower waits one Lease duration without renewal, then takes it at its next try (a retry period later).
    expect(tookOverMs).toBeLessThan(LEASE_SECONDS * 1000 + 1500);
    await waitFor(() => served(follower, 'after.default.example.com'), 20_000, 'after served by the surviving replica');
    await waitFor(() => ready('after'), 10_000, 'after Ready, written by the new leader');
    expect(follower.log.some((line) => line.includes('took the status-writer Lease'))).toBe(true);
  });
});
