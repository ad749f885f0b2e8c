import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import { promByLabel } from './stats.js';

const USAGE = `Usage: node dist/bench/kube.js [--sizes 1000,5000,10000] [--changes 120] [--sample 200] [--seed 1]
       [--restarts 1] [--ferry-node-options='--cpu-prof ...'] [--heap-snapshots]
Ferry in kube mode against a real kube-apiserver + etcd (built by scripts/tools/kube.sh), its gateway Envoy and one
backend in network namespaces (run as root). Per size, on a fresh cluster: N Services and EndpointSlices (untimed:
the revisions exist), then N KIngresses created through the API; times to every sampled host served and to every
KIngress Ready; single changes from the API write to Envoy serving them; Ferry's memory; a restart of Ferry and
its gateway with everything in the API server (kube mode's cold start; --restarts times, the median reported).
JSON goes to bench/results/.
Ferry's memory is read at each step (RSS from /proc; V8's heap, its spaces and external memory from /metrics);
--heap-snapshots also writes a heap snapshot of Ferry at each step (node's --heapsnapshot-signal, into
bench/results/heap-*/; slow at 10k). --ferry-node-options passes node flags to Ferry (e.g. --cpu-prof).
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
  /** Ferry's memory (and status writes so far) after the creates, after the changes, right after the restart served all, and 5 s later. */
  memory: Record<string, FerryReading>;
  /**
   * Each restart (--restarts): until all sampled hosts are served, Ferry's CPU by then, the 1-minute load average, and
   * milliseconds from the restart to each step of Ferry's start (its log lines). restartToAllServedMs is their median.
   */
  restarts: Array<{ allServedMs: number; ferryCpuMs: number; load: number; timeline: Record<string, number | undefined> }>;
  errors: string[];
}

interface FerryReading {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** V8's heap spaces' sizes (what the space holds, live or not) in MB. */
  spacesMb: Record<string, number>;
  /** KIngress status writes so far. */
  statusWrites: number;
}

interface FerryChildOptions {
  nodeOptions: string[];
  /** Where heap snapshots go (node's --heapsnapshot-signal), if wanted. */
  heapSnapshots?: string;
}

class FerryChild {
  readonly log: string[] = [];
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  constructor(kubeconfig: string, readonly xdsSocket: string, readonly adminPort: number, private readonly options: FerryChildOptions) {
    const snapshots = options.heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshots}`] : [];
    this.child = spawn(process.execPath, [...options.nodeOptions, ...snapshots, join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'), 'serve', '--source', 'kube', '--kubeconfig', kubeconfig,
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

  /** Milliseconds from this process's start to the first log line with this message. */
  at(message: string): number | undefined {
    for (const line of this.log) {
      if (!line.includes(message)) continue;
      const time = (JSON.parse(line) as { time?: number }).time;
      return time === undefined ? undefined : time - this.startedAt;
    }
    return undefined;
  }

  async memory(): Promise<FerryReading> {
    const text = await this.admin('/metrics');
    const mb = (name: string): number => round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20);
    const spaces = Object.fromEntries(Object.entries(promByLabel(text, 'nodejs_heap_space_size_total_bytes', 'space')).map(([space, bytes]) => [space, round(bytes / 2 ** 20)]));
    return { rssMb: processMemoryMb(this.child.pid!).rssMb, heapUsedMb: mb('nodejs_heap_size_used_bytes'), heapTotalMb: mb('nodejs_heap_size_total_bytes'), externalMb: mb('nodejs_external_memory_bytes'), spacesMb: spaces,
      statusWrites: Object.values(promByLabel(text, 'ferry_kube_status_writes_total', 'result')).reduce((a, b) => a + b, 0) };
  }

  /** A heap snapshot (if asked for): node writes it synchronously, after a full collection. */
  async heapSnapshot(): Promise<void> {
    if (!this.options.heapSnapshots) return;
    const before = readdirSync(this.options.heapSnapshots).length;
    this.child.kill('SIGUSR2');
    while (readdirSync(this.options.heapSnapshots).length === before) await sleep(100);
    // Written when the answer to a request comes back (the process is busy until then).
    await this.admin('/healthz');
  }

  /** An admin endpoint's body; tried again when a kept-alive connection was closed under the request. */
  private async admin(path: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(`http://127.0.0.1:${this.adminPort}${path}`).then((r) => r.text());
      } catch (error) {
        if (attempt >= 3) throw error;
      }
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

async function allServed(forwarder: GatewayForwarder, sample: readonly number[], ferry: FerryChild): Promise<void> {
  const pending = new Set(sample);
  while (pending.size > 0) {
    if (ferry.child.exitCode !== null) throw new Error(`Ferry exited (${ferry.child.exitCode}): ${ferry.log.slice(-20).join('\n')}`);
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

interface SizeOptions {
  changes: number;
  restarts: number;
  sample: number;
  seed: number;
  ferry: FerryChildOptions;
}

async function measureSize(size: number, options: SizeOptions): Promise<SizeResult> {
  const errors: string[] = [];
  const random = seededRandom(options.seed);
  const sample = Array.from({ length: Math.min(options.sample, size) }, () => random.int(size));
  let cluster: KubeCluster | undefined;
  let net: NetnsPair | undefined;
  const stops: Array<() => Promise<void>> = [];
  try {
    cluster = await startKubeCluster();
    const api = KubeClient.load(cluster.kubeconfig, { connections: CREATE_CONCURRENCY });
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
    let ferry = new FerryChild(cluster.kubeconfig, xdsSocket, await freePort(), options.ferry);
    const memory: Record<string, FerryReading> = {};
    const step = async (name: string): Promise<void> => {
      await ferry.heapSnapshot();
      memory[name] = await ferry.memory();
      console.error(`  ${size}: Ferry memory ${name}: ${JSON.stringify(memory[name])}`);
    };
    stops.push(() => ferry.stop());
    await ferry.serving();
    let gateway = await startGateway({ net, xdsSocket, nodeId: 'bench-gateway' });
    stops.push(() => gateway.stop());
    let forwarder = await startGatewayForwarder(net, 8080);
    stops.push(() => forwarder.stop());

    started = performance.now();
    await inParallel(indexes, CREATE_CONCURRENCY, (i) => api.create(INGRESSES, ingressObject(i)).then(() => undefined));
    const ingressesCreateMs = round(performance.now() - started, 0);
    const served = allServed(forwarder, sample, ferry).then(() => performance.now() - started);
    const ready = allReady(api, size).then(() => performance.now() - started);
    const firstCreateToAllServedMs = round(await served, 0);
    const firstCreateToAllReadyMs = round(await ready, 0);
    console.error(`  ${size}: KIngresses created in ${ingressesCreateMs} ms; all sampled hosts served ${firstCreateToAllServedMs} ms, all Ready ${firstCreateToAllReadyMs} ms after the first create`);
    await step('afterCreates');

    const changes = await measureChanges(api, forwarder, size, options.changes, random, ferry.child.pid!);
    console.error(`  ${size}: change p50 ${changes.p50Ms} ms, p99 ${changes.p99Ms} ms`);
    const ferryMemory = processMemoryMb(ferry.child.pid!);
    await step('afterChanges');
    const envoyRss = await envoyRssMb(gateway);

    // Kube mode's cold start: Ferry and its gateway from nothing, everything already in the API server.
    const restarts: SizeResult['restarts'] = [];
    let restartFerryRssMb = NaN;
    for (let restart = 1; restart <= options.restarts; restart++) {
      await forwarder.stop();
      await gateway.stop();
      await ferry.stop();
      xdsSocket = tempSocketPath();
      started = performance.now();
      const restartedAt = Date.now();
      ferry = new FerryChild(cluster.kubeconfig, xdsSocket, await freePort(), options.ferry);
      gateway = await startGateway({ net, xdsSocket, nodeId: `bench-gateway-restart-${restart}` });
      forwarder = await startGatewayForwarder(net, 8080);
      await allServed(forwarder, sample, ferry);
      const allServedMs = round(performance.now() - started, 0);
      const ferryCpuMs = round(processCpuSeconds(ferry.child.pid!) * 1000, 0);
      restartFerryRssMb = processMemoryMb(ferry.child.pid!).rssMb;
      const sinceStart = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : round(ms + ferry.startedAt - restartedAt, 0));
      const timeline = {
        listing: sinceStart(ferry.at('listing from the API server')), informersSynced: sinceStart(ferry.at('informers synced')),
        servingXds: sinceStart(ferry.at('serving xDS')), gatewaysInSync: sinceStart(ferry.at('gateways in sync')), allServed: allServedMs,
      };
      restarts.push({ allServedMs, ferryCpuMs, load: loadavg()[0]!, timeline });
      console.error(`  ${size}: restart ${restart}: all served ${allServedMs} ms, Ferry CPU ${ferryCpuMs} ms, load ${loadavg()[0]!.toFixed(1)} ${JSON.stringify(timeline)}`);
    }
    await step('afterRestart');
    await sleep(5_000);
    await step('afterRestartSettled');
    const restartToAllServedMs = restarts.map((r) => r.allServedMs).sort((a, b) => a - b)[Math.floor((restarts.length - 1) / 2)]!;
    return {
      size, backendsCreateMs, ingressesCreateMs, createsPerSecond: round(size / (ingressesCreateMs / 1000), 0),
      firstCreateToAllServedMs, lastCreateToAllServedMs: round(Math.max(0, firstCreateToAllServedMs - ingressesCreateMs), 0), firstCreateToAllReadyMs,
      changes, ferry: ferryMemory, envoyRssMb: envoyRss, restartToAllServedMs, restartFerryRssMb, memory, restarts, errors,
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
    seed: { type: 'string', default: '1' }, restarts: { type: 'string', default: '1' }, 'ferry-node-options': { type: 'string', default: '' }, 'heap-snapshots': { type: 'boolean' }, help: { type: 'boolean' },
  } });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const results: SizeResult[] = [];
  const dir = join(repositoryRoot(), 'bench', 'results');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const heapSnapshots = values['heap-snapshots'] ? join(dir, `heap-${stamp}`) : undefined;
  mkdirSync(heapSnapshots ?? dir, { recursive: true });
  const ferry: FerryChildOptions = { nodeOptions: values['ferry-node-options'].split(' ').filter(Boolean), heapSnapshots };
  for (const size of sizes) {
    console.error(`kube bench: ${size} KIngresses`);
    results.push(await measureSize(size, { changes: Number(values.changes), restarts: Number(values.restarts), sample: Number(values.sample), seed: Number(values.seed), ferry }));
  }
  const file = join(dir, `kube-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ machine: machineInfo(), ferryNodeOptions: ferry.nodeOptions, results }, null, 2));
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
