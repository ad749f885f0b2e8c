import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import { KubeClient } from '../src/kube/kube-client.js';
import type { IngressStatus } from '../src/model/ingress.js';
import { createNetnsPair, startGateway, startKubeCluster, startPodBackend, tempSocketPath, type Gateway, type KubeCluster, type NetnsPair } from '../test/kube/harness/index.js';
import { startGatewayForwarder, type GatewayForwarder } from '../test/kube/harness/forwarder.js';
import { freePort } from './ports.js';
import { machineInfo, processCpuSeconds, processMemoryMb, round } from './proc.js';
import { seededRandom, type Random } from './random.js';

const USAGE = `Usage: node dist/bench/kube.js [--sizes 1000,5000,10000] [--changes 120] [--sample 200] [--seed 1]
Ferry in kube mode against a real kube-apiserver + etcd (built by scripts/tools/kube.sh), its gateway Envoy and one
backend in network namespaces (run as root). Per size, on a fresh cluster: N Services and EndpointSlices (untimed:
the revisions exist), then N KIngresses created through the API; times to every sampled host served and to every
KIngress Ready; single changes from the API write to Envoy serving them; Ferry's memory; a restart of Ferry and
its gateway with everything in the API server (kube mode's cold start). JSON goes to bench/results/.
`;

const NAMESPACE = 'bench';
const INGRESSES = `/apis/networking.internal.knative.dev/v1alpha1/namespaces/${NAMESPACE}/ingresses`;
const CREATE_CONCURRENCY = 48;

interface SizeResult {
  size: number;
  /** N Services + N EndpointSlices, before the clock starts. */
  backendsCreateMs: number;
  /** From the first KIngress create to the last create's answer. */
  ingressesCreateMs: number;
  createsPerSecond: number;
  /** From the first create until every sampled host answers through Envoy. */
  firstCreateToAllServedMs: number;
  /** From the last create's answer until every sampled host answers: Ferry's lag behind the API server. */
  lastCreateToAllServedMs: number;
  firstCreateToAllReadyMs: number;
  changes: { count: number; p50Ms: number; p99Ms: number; maxMs: number; ferryCpuMsPerChange: number };
  ferry: { rssMb: number; peakRssMb: number };
  envoyRssMb: number | undefined;
  /** Ferry and its gateway restarted with everything in the API server: until every sampled host is served. */
  restartToAllServedMs: number;
  restartFerryRssMb: number;
  errors: string[];
}

class FerryChild {
  readonly log: string[] = [];
  readonly child: ChildProcess;
  constructor(kubeconfig: string, readonly xdsSocket: string, adminPort: number) {
    this.child = spawn(process.execPath, [join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'), 'serve', '--source', 'kube', '--kubeconfig', kubeconfig,
      '--envoy', 'none', '--xds-address', `unix:${xdsSocket}`, '--admin-address', `127.0.0.1:${adminPort}`, '--listen-address', '0.0.0.0',
      '--system-namespace', 'ferry-system', '--pod-name', 'ferry-bench', '--status-writes-per-second', '500'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'info' } });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.log.push(line);
      if (this.log.length > 2000) this.log.shift();
    });
  }

  async serving(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log.some((line) => line.includes('serving xDS'))) {
      if (this.child.exitCode !== null) throw new Error(`Ferry exited: ${this.log.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error('Ferry did not start serving');
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function host(i: number): string {
  return `app-${i}.${NAMESPACE}.example.com`;
}

function ingressObject(i: number, header?: string): Record<string, unknown> {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress',
    metadata: { name: `app-${i}`, namespace: NAMESPACE, annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' } },
    spec: {
      rules: [{
        hosts: [host(i)], visibility: 'ExternalIP',
        http: { paths: [{ splits: [{ serviceName: `app-${i}`, serviceNamespace: NAMESPACE, servicePort: 80, percent: 100 }], ...(header ? { appendHeaders: { 'x-bench-change': header } } : {}) }] },
      }],
    },
  };
}

async function allServed(forwarder: GatewayForwarder, sample: readonly number[]): Promise<void> {
  const pending = new Set(sample);
  while (pending.size > 0) {
    await Promise.all([...pending].slice(0, 32).map(async (i) => {
      const response = await forwarder.get(host(i), '/', 3_000).catch(() => undefined);
      if (response?.status === 200) pending.delete(i);
    }));
    if (pending.size > 0) await sleep(20);
  }
}

async function allReady(api: KubeClient, size: number): Promise<void> {
  for (;;) {
    let ready = 0;
    let next: string | undefined;
    do {
      const page = await api.get<{ items: Array<{ metadata: { generation: number }; status?: IngressStatus }>; metadata: { continue?: string } }>(INGRESSES, { limit: 2000, continue: next });
      for (const item of page.items) {
        if (item.status?.observedGeneration === item.metadata.generation && item.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
      }
      next = page.metadata.continue || undefined;
    } while (next);
    if (ready >= size) return;
    await sleep(250);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measureChanges(api: KubeClient, forwarder: GatewayForwarder, size: number, count: number, random: Random, ferryPid: number): Promise<SizeResult['changes']> {
  const samples: number[] = [];
  const cpuBefore = processCpuSeconds(ferryPid);
  for (let seq = 0; seq < count; seq++) {
    const i = random.int(size);
    const value = `change-${seq}`;
    const started = performance.now();
    await api.mergePatch(`${INGRESSES}/app-${i}`, { spec: (ingressObject(i, value) as { spec: unknown }).spec });
    for (;;) {
      const response = await forwarder.get(host(i)).catch(() => undefined);
      if (response?.status === 200 && (JSON.parse(response.body) as { headers: Record<string, string> }).headers['x-bench-change'] === value) break;
      if (performance.now() - started > 10_000) throw new Error(`change ${seq} on app-${i} not served after 10 s`);
    }
    samples.push(performance.now() - started);
  }
  const cpuMs = (processCpuSeconds(ferryPid) - cpuBefore) * 1000;
  const sorted = [...samples].sort((a, b) => a - b);
  return { count, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1) ?? NaN), ferryCpuMsPerChange: round(cpuMs / count, 2) };
}

function envoyRssMb(gateway: Gateway): Promise<number | undefined> {
  return gateway.admin('/memory').then((r) => round((JSON.parse(r.body) as { total_physical_bytes: string }).total_physical_bytes as unknown as number / 2 ** 20), () => undefined);
}

async function measureSize(size: number, options: { changes: number; sample: number; seed: number }): Promise<SizeResult> {
  const errors: string[] = [];
  const random = seededRandom(options.seed);
  const sample = Array.from({ length: Math.min(options.sample, size) }, () => random.int(size));
  let cluster: KubeCluster | undefined;
  let net: NetnsPair | undefined;
  const stops: Array<() => Promise<void>> = [];
  try {
    cluster = await startKubeCluster();
    const api = KubeClient.load(cluster.kubeconfig);
    net = await createNetnsPair();
    const backend = await startPodBackend(net, { name: 'app', port: 8080, quiet: true });
    stops.push(() => backend.stop());
    await cluster.apply(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NAMESPACE}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ferry-system}\n`);

    const indexes = Array.from({ length: size }, (_, i) => i);
    let started = performance.now();
    await inParallel(indexes, CREATE_CONCURRENCY, async (i) => {
      await api.create(`/api/v1/namespaces/${NAMESPACE}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: `app-${i}`, namespace: NAMESPACE }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
      await api.create(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `app-${i}-1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': `app-${i}` } },
        addressType: 'IPv4', endpoints: [{ addresses: [net!.podAddress], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    });
    const backendsCreateMs = round(performance.now() - started, 0);
    console.error(`  ${size}: ${size} Services and EndpointSlices created in ${backendsCreateMs} ms`);

    let xdsSocket = tempSocketPath();
    let ferry = new FerryChild(cluster.kubeconfig, xdsSocket, await freePort());
    stops.push(() => ferry.stop());
    await ferry.serving();
    let gateway = await startGateway({ net, xdsSocket, nodeId: 'bench-gateway' });
    stops.push(() => gateway.stop());
    let forwarder = await startGatewayForwarder(net, 8080);
    stops.push(() => forwarder.stop());

    started = performance.now();
    await inParallel(indexes, CREATE_CONCURRENCY, (i) => api.create(INGRESSES, ingressObject(i)).then(() => undefined));
    const ingressesCreateMs = round(performance.now() - started, 0);
    const served = allServed(forwarder, sample).then(() => performance.now() - started);
    const ready = allReady(api, size).then(() => performance.now() - started);
    const firstCreateToAllServedMs = round(await served, 0);
    const firstCreateToAllReadyMs = round(await ready, 0);
    console.error(`  ${size}: KIngresses created in ${ingressesCreateMs} ms; all sampled hosts served ${firstCreateToAllServedMs} ms, all Ready ${firstCreateToAllReadyMs} ms after the first create`);

    const changes = await measureChanges(api, forwarder, size, options.changes, random, ferry.child.pid!);
    console.error(`  ${size}: change p50 ${changes.p50Ms} ms, p99 ${changes.p99Ms} ms`);
    const memory = processMemoryMb(ferry.child.pid!);
    const envoyRss = await envoyRssMb(gateway);

    // Kube mode's cold start: Ferry and its gateway from nothing, everything already in the API server.
    await forwarder.stop();
    await gateway.stop();
    await ferry.stop();
    xdsSocket = tempSocketPath();
    started = performance.now();
    ferry = new FerryChild(cluster.kubeconfig, xdsSocket, await freePort());
    gateway = await startGateway({ net, xdsSocket, nodeId: 'bench-gateway-2' });
    forwarder = await startGatewayForwarder(net, 8080);
    await allServed(forwarder, sample);
    const restartToAllServedMs = round(performance.now() - started, 0);
    const restartFerryRssMb = processMemoryMb(ferry.child.pid!).rssMb;
    console.error(`  ${size}: restart to all served ${restartToAllServedMs} ms`);
    return {
      size, backendsCreateMs, ingressesCreateMs, createsPerSecond: round(size / (ingressesCreateMs / 1000), 0),
      firstCreateToAllServedMs, lastCreateToAllServedMs: round(Math.max(0, firstCreateToAllServedMs - ingressesCreateMs), 0), firstCreateToAllReadyMs,
      changes, ferry: memory, envoyRssMb: envoyRss, restartToAllServedMs, restartFerryRssMb, errors,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await net?.remove();
    await cluster?.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    sizes: { type: 'string', default: '1000' }, changes: { type: 'string', default: '120' }, sample: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' }, help: { type: 'boolean' },
  } });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    console.error(`kube bench: ${size} KIngresses`);
    results.push(await measureSize(size, { changes: Number(values.changes), sample: Number(values.sample), seed: Number(values.seed) }));
  }
  const dir = join(repositoryRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `kube-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: machineInfo(), results }, null, 2));
  for (const r of results) {
    console.log(`N=${r.size}: create ${r.ingressesCreateMs} ms (${r.createsPerSecond}/s), first create -> all served ${r.firstCreateToAllServedMs} ms (last create -> all served ${r.lastCreateToAllServedMs} ms), all Ready ${r.firstCreateToAllReadyMs} ms; `
      + `change p50/p99 ${r.changes.p50Ms}/${r.changes.p99Ms} ms, Ferry CPU/change ${r.changes.ferryCpuMsPerChange} ms; Ferry RSS ${r.ferry.rssMb} MB (peak ${r.ferry.peakRssMb}), Envoy ${r.envoyRssMb} MB; `
      + `restart -> all served ${r.restartToAllServedMs} ms (Ferry RSS ${r.restartFerryRssMb} MB)`);
  }
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
