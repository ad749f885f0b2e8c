import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import { KubeClient } from '../src/kube/kube-client.js';
import { freeLoopbackPort } from '../test/kube/harness/cluster.js';
import { startKnativeCluster, type KnativeCluster } from '../test/cluster/knative-cluster.js';
import { machineInfo, processCpuSeconds, processMemoryMb, round } from './proc.js';
import { seededRandom, type Random } from './random.js';
import { percentile } from './stats.js';

const USAGE = `Usage: node dist/bench/side-by-side.js [--sizes 1000] [--changes 100] [--sample 100] [--seed 1] [--only ferry|kourier] [--limit-minutes 30]
Ferry and net-kourier side by side in the one-machine Knative cluster (test/cluster, run as root; net-kourier built by
scripts/tools/knative.sh from its Go module): the same API server, the same generated KIngresses (each with its own
class annotation), the same echo backend, the same Envoy binary. Per size, on a fresh cluster: N Services (with
EndpointSlices from kube-controller-manager) for one echo Pod; then, one control plane after the other (the order
alternates with the size): N KIngresses of its class created through the API, the time until every sampled host
answers through its gateway and until every KIngress is Ready, single changes from the API write to the gateway
serving them (p50/p99) with the control plane's CPU per change, its and its gateway's RSS, a restart of the control
plane and its gateway until every sampled host answers again, and 10% of the KIngresses deleted until a change is
served again. Then its KIngresses are deleted. JSON goes to bench/results/. A system that does not serve every sampled
host within --limit-minutes of the first create (or of its restart) is reported as such, with its memory at that
moment, and its remaining steps are skipped. FERRY_CLUSTERS=on-demand in the environment runs Ferry with its gateways
loading revision clusters on demand (\`ferry serve --clusters\`).
`;

const NAMESPACE = 'bench';
/** Ferry reads its flags from FERRY_* variables too: FERRY_CLUSTERS=on-demand runs its gateways with on-demand clusters. */
const FERRY_CLUSTERS = process.env.FERRY_CLUSTERS ?? 'all';
const INGRESSES = `/apis/networking.internal.knative.dev/v1alpha1/namespaces/${NAMESPACE}/ingresses`;
const CONCURRENCY = 48;
const CLASSES = { ferry: 'ferry.ingress.networking.knative.dev', kourier: 'kourier.ingress.networking.knative.dev' } as const;
type System = keyof typeof CLASSES;

interface SystemResult {
  system: System;
  createsMs: number;
  /** Undefined: not within the limit (`limitMinutes`); the steps after it were skipped. */
  firstCreateToAllServedMs: number | undefined;
  firstCreateToAllReadyMs: number | undefined;
  changes: { count: number; p50Ms: number; p99Ms: number; maxMs: number; cpuMsPerChange: number } | undefined;
  controlPlaneRssMb: number;
  gatewayRssMb: number;
  restartToAllServedMs: number | undefined;
  deleteTenPercentToChangeServedMs: number | undefined;
  /** The same from when the last delete returned (the "after deleting 10%"): without the API server's deletes. */
  afterDeletesToChangeServedMs?: number | undefined;
  /** Bytes the gateways received from the control plane over xDS per single change (Envoy's xDS cluster counters). */
  xdsBytesPerChange: number | undefined;
  /** Mixed changes (header shifts, new KIngresses, deletes) under a bounded load on unchanged hosts. */
  underLoad: { changes: number; requests: number; failed: number } | undefined;
  limitMinutes: number;
  errors: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    sizes: { type: 'string', default: '1000' }, changes: { type: 'string', default: '100' }, sample: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' }, only: { type: 'string' }, 'limit-minutes': { type: 'string', default: '30' }, help: { type: 'boolean', default: false },
  } });
  if (values.help) return void process.stdout.write(USAGE);
  const sizes = values.sizes.split(',').map(Number);
  const systems: System[] = values.only ? [values.only as System] : ['kourier', 'ferry'];
  const results: Array<{ size: number; results: SystemResult[] }> = [];
  for (const [index, size] of sizes.entries()) {
    const order = index % 2 === 0 ? systems : [...systems].reverse();
    results.push({ size, results: await runSize(size, order, Number(values.changes), Number(values.sample), seededRandom(Number(values.seed) + size), Number(values['limit-minutes'])) });
    printTable(results.at(-1)!);
  }
  const dir = join(repositoryRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `side-by-side-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: machineInfo(), load: loadavg(), ferryClusters: FERRY_CLUSTERS, results }, null, 2));
  console.error(`results: ${file}`);
}

function log(line: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function runSize(size: number, order: System[], changes: number, sampleSize: number, random: Random, limitMinutes: number): Promise<SystemResult[]> {
  log(`size ${size}: starting the cluster (Knative Serving, Ferry, net-kourier)`);
  const cluster = await startKnativeCluster({ netKourier: true, progress: (line) => log(`  ${line}`) });
  try {
    const client = KubeClient.load(cluster.kube.kubeconfig);
    await cluster.kube.apply(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NAMESPACE}}\n`);
    await cluster.kube.apply(JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo', namespace: NAMESPACE },
      spec: { replicas: 1, selector: { matchLabels: { app: 'echo' } }, template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{ name: 'echo', image: 'ferry.local/test/echo', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 } }] } } },
    }));
    const waited = await cluster.kubectl(['wait', '--for=condition=Available', '--timeout=120s', '-n', NAMESPACE, 'deployment/echo']);
    if (waited.code !== 0) throw new Error(`the echo backend did not start: ${waited.stderr}`);
    log(`size ${size}: ${size} Services (kube-controller-manager writes their EndpointSlices)`);
    await inBatches(size, (i) => client.create(`/api/v1/namespaces/${NAMESPACE}/services`, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: `app-${i}`, namespace: NAMESPACE },
      spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    }));
    await until(`EndpointSlices of ${size} Services`, async () => ((await client.get<{ items: unknown[] }>(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, { limit: 0 })).items.length >= size), 600_000);

    const gateways = await gatewayEndpoints(cluster);
    const sample = Array.from({ length: Math.min(sampleSize, size) }, (_, k) => Math.floor((k * size) / Math.min(sampleSize, size)));
    const results: SystemResult[] = [];
    for (const system of order) {
      log(`size ${size}: ${system}`);
      results.push(await runSystem(cluster, client, system, size, sample, changes, random, gateways[system], limitMinutes));
    }
    return results;
  } finally {
    await cluster.stop();
  }
}

interface GatewayEndpoint {
  port: number;
  /** Bytes received over xDS so far, summed over the system's gateways. */
  xdsRxBytes(): Promise<number>;
  /** The gateway Envoy's processes and the control plane's process, for RSS and CPU. */
  gatewayPids(): number[];
  controlPlanePid(): number | undefined;
  restart(): Promise<void>;
}

/** Each system's external gateway on the host's loopback (a relay into its namespace), and its processes. */
async function gatewayEndpoints(cluster: KnativeCluster): Promise<Record<System, GatewayEndpoint>> {
  // Both gateways are reached alike: a relay in the client namespace to the gateway Service's ClusterIP (kube-proxy
  // takes it to the gateway; the kourier Pod's address changes when it restarts), and one on the host to it.
  const relayTo = async (system: System, namespace: string, service: string): Promise<number> => {
    const port = await freeLoopbackPort();
    const socket = join(cluster.dir, `bench-${system}.sock`);
    const { spec } = JSON.parse((await cluster.kubectl(['get', 'service', service, '-n', namespace, '-o', 'json'])).stdout) as { spec: { clusterIP: string } };
    await cluster.network.relay({ in: cluster.namespaces.client, listen: socket, connect: `${spec.clusterIP}:80`, name: `bench relay ${system} (client namespace)` });
    await cluster.network.relay({ listen: `127.0.0.1:${port}`, connect: socket, name: `bench relay ${system} (host)` });
    return port;
  };
  const ferryPort = await relayTo('ferry', 'ferry-system', 'ferry');
  const kourierPort = await relayTo('kourier', 'kourier-system', 'kourier');
  const podKey = async (namespace: string, selector: string): Promise<string> => {
    const pods = JSON.parse((await cluster.kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string } }> };
    const live = pods.items.find((pod) => !pod.metadata.deletionTimestamp);
    if (!live) throw new Error(`no running Pod ${namespace} ${selector}`);
    return `${namespace}/${live.metadata.name}`;
  };
  let kourierGateway = await podKey('kourier-system', 'app=3scale-kourier-gateway');
  let kourierController = await podKey('knative-serving', 'app=net-kourier-controller');
  const restartPod = async (namespace: string, selector: string, before: string): Promise<string> => {
    await cluster.kubectl(['delete', 'pod', '-n', namespace, before.split('/')[1]!, '--wait=false']);
    return until(`a new ${selector} Pod`, async () => {
      const key = await podKey(namespace, selector).catch(() => before);
      return key !== before && cluster.node.podNetns(key) ? key : undefined;
    }, 120_000);
  };
  return {
    ferry: {
      port: ferryPort,
      xdsRxBytes: async () => {
        const bodies = await Promise.all([cluster.externalGateway, cluster.localGateway].map((g) => g.admin('/stats?filter=^cluster\\.ferry_xds\\.upstream_cx_rx_bytes_total$')));
        return bodies.reduce((sum, { body }) => sum + Number(/: (\d+)/.exec(body)?.[1] ?? NaN), 0);
      },
      gatewayPids: () => namespacePids(cluster.namespaces.externalGateway),
      controlPlanePid: () => cluster.ferryPid(),
      restart: () => cluster.restartFerry(),
    },
    kourier: {
      port: kourierPort,
      xdsRxBytes: async () => {
        const out = execFileSync('ip', ['netns', 'exec', cluster.node.podNetns(kourierGateway)!, 'curl', '-s', 'http://127.0.0.1:9901/stats?filter=^cluster\\.xds_cluster\\.upstream_cx_rx_bytes_total$'], { encoding: 'utf8' });
        return Number(/: (\d+)/.exec(out)?.[1] ?? NaN);
      },
      gatewayPids: () => namespacePids(cluster.node.podNetns(kourierGateway)),
      controlPlanePid: () => namespacePids(cluster.node.podNetns(kourierController))[0],
      restart: async () => {
        [kourierController, kourierGateway] = await Promise.all([
          restartPod('knative-serving', 'app=net-kourier-controller', kourierController),
          restartPod('kourier-system', 'app=3scale-kourier-gateway', kourierGateway),
        ]);
      },
    },
  };
}

function namespacePids(namespace: string | undefined): number[] {
  if (!namespace) return [];
  try {
    return execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function runSystem(cluster: KnativeCluster, client: KubeClient, system: System, size: number, sample: number[], changes: number,
  random: Random, gateway: GatewayEndpoint, limitMinutes: number): Promise<SystemResult> {
  const errors: string[] = [];
  const limitMs = limitMinutes * 60_000;
  // A system that does not get there within the limit: what it holds then, and its KIngresses deleted for the next one.
  const notWithinLimit = async (step: string, partial: Partial<SystemResult>): Promise<SystemResult> => {
    errors.push(`${step}: not within the limit of ${limitMinutes} min`);
    log(`  ${system}: ${step} not within ${limitMinutes} min; its remaining steps are skipped`);
    const result: SystemResult = {
      system, createsMs: NaN, firstCreateToAllServedMs: undefined, firstCreateToAllReadyMs: undefined, changes: undefined,
      controlPlaneRssMb: rssOf([gateway.controlPlanePid()]), gatewayRssMb: rssOf(gateway.gatewayPids()), restartToAllServedMs: undefined,
      deleteTenPercentToChangeServedMs: undefined, xdsBytesPerChange: undefined, underLoad: undefined, limitMinutes, errors, ...partial,
    };
    await deleteAll(client, system, errors);
    agent.destroy();
    return result;
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const host = (i: number) => `app-${i}.${system}.bench.example.com`;
  const get = (i: number) => httpGet(gateway.port, host(i), agent);
  const served = (indices: number[], check: (i: number, body: Record<string, unknown>) => boolean = () => true) => async () => {
    const answers = await Promise.all(indices.map(async (i) => {
      const res = await get(i).catch(() => undefined);
      return res?.status === 200 && check(i, res.body);
    }));
    return answers.every(Boolean);
  };

  const start = Date.now();
  await inBatches(size, (i) => client.create(INGRESSES, kingress(system, i, host(i))));
  const createsMs = Date.now() - start;
  log(`  ${size} KIngresses created in ${createsMs} ms`);
  if (!await until(`${system}: all sampled hosts served`, served(sample), limitMs).then(() => true, () => false)) {
    return notWithinLimit('first create → all sampled hosts served', { createsMs });
  }
  const firstCreateToAllServedMs = Date.now() - start;
  log(`  all sampled hosts served after ${firstCreateToAllServedMs} ms`);
  const firstCreateToAllReadyMs = await until(`${system}: all KIngresses Ready`, async () => (await readyCount(client, system)) >= size ? Date.now() - start : undefined, 600_000)
    .catch((error: Error) => { errors.push(error.message); return undefined; });
  log(`  all Ready after ${firstCreateToAllReadyMs} ms`);

  // Single changes: a header added by the route, from the API write until the backend sees it through the gateway.
  const latencies: number[] = [];
  const cpuBefore = cpuOf(gateway.controlPlanePid());
  const bytesBefore = await gateway.xdsRxBytes().catch(() => NaN);
  for (let c = 1; c <= changes; c++) {
    const i = sample[Math.floor(random.next() * sample.length)]!;
    const value = `${system}-${c}`;
    const t0 = Date.now();
    await client.mergePatch(`${INGRESSES}/app-${i}`, { spec: kingress(system, i, host(i), value).spec });
    try {
      await until(`${system}: change ${c}`, served([i], (_, body) => (body.headers as Record<string, string> | undefined)?.['x-bench-change'] === value), 60_000, 5);
      latencies.push(Date.now() - t0);
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  const cpuMsPerChange = round(((cpuOf(gateway.controlPlanePid()) - cpuBefore) * 1_000) / Math.max(1, changes));
  const xdsBytesPerChange = Math.round(((await gateway.xdsRxBytes().catch(() => NaN)) - bytesBefore) / Math.max(1, changes));
  const sorted = [...latencies].sort((a, b) => a - b);
  const controlPlaneRssMb = rssOf([gateway.controlPlanePid()]);
  const gatewayRssMb = rssOf(gateway.gatewayPids());
  log(`  changes p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms; RSS ${controlPlaneRssMb} MB, gateway ${gatewayRssMb} MB`);

  const underLoad = await mixedChangesUnderLoad(client, system, size, sample, get, random);
  log(`  ${underLoad.changes} mixed changes under load: ${underLoad.failed} of ${underLoad.requests} requests failed`);

  // Restart of the control plane and its gateway with everything in the API server.
  const restartStart = Date.now();
  await gateway.restart();
  if (!await until(`${system}: all sampled hosts served after the restart`, served(sample), limitMs).then(() => true, () => false)) {
    return notWithinLimit('restart of control plane + gateway → all served', {
      createsMs, firstCreateToAllServedMs, firstCreateToAllReadyMs, xdsBytesPerChange, underLoad,
      changes: { count: latencies.length, p50Ms: percentile(sorted, 50) ?? NaN, p99Ms: percentile(sorted, 99) ?? NaN, maxMs: sorted.at(-1) ?? NaN, cpuMsPerChange },
    });
  }
  const restartToAllServedMs = Date.now() - restartStart;
  log(`  restart: all sampled hosts served again after ${restartToAllServedMs} ms`);

  // 10% deleted, then one change: until it is served.
  const deleteStart = Date.now();
  const deleted = Array.from({ length: Math.floor(size / 10) }, (_, k) => k * 10 + 1).filter((i) => !sample.includes(i));
  await inBatches(deleted.length, (k) => client.delete(`${INGRESSES}/app-${deleted[k]}`));
  const deletesDone = Date.now();
  const probe = sample[0]!;
  await client.mergePatch(`${INGRESSES}/app-${probe}`, { spec: kingress(system, probe, host(probe), `${system}-after-delete`).spec });
  await until(`${system}: the change after the deletes`, served([probe], (_, body) => (body.headers as Record<string, string> | undefined)?.['x-bench-change'] === `${system}-after-delete`), 600_000, 5);
  const deleteTenPercentToChangeServedMs = Date.now() - deleteStart;
  const afterDeletesToChangeServedMs = Date.now() - deletesDone;
  log(`  ${deleted.length} deleted: the next change served after ${deleteTenPercentToChangeServedMs} ms (${afterDeletesToChangeServedMs} ms after the last delete returned)`);

  await deleteAll(client, system, errors);
  agent.destroy();
  return {
    system, createsMs, firstCreateToAllServedMs, firstCreateToAllReadyMs,
    changes: { count: latencies.length, p50Ms: percentile(sorted, 50) ?? NaN, p99Ms: percentile(sorted, 99) ?? NaN, maxMs: sorted.at(-1) ?? NaN, cpuMsPerChange },
    controlPlaneRssMb, gatewayRssMb, restartToAllServedMs, deleteTenPercentToChangeServedMs, afterDeletesToChangeServedMs, xdsBytesPerChange, underLoad, limitMinutes, errors,
  };
}

/**
 * A system's KIngresses go before the other system's turn: a collection delete, then what is left one by one (at 10k
 * the API server's collection delete may not finish in its request timeout). A failure is recorded, not thrown: the
 * system's figures are kept.
 */
async function deleteAll(client: KubeClient, system: System, errors: string[]): Promise<void> {
  await client.delete(INGRESSES, undefined).catch((error: Error) => errors.push(`delete all: ${error.message}`));
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const left = await client.get<{ items: Array<{ metadata: { name: string } }> }>(INGRESSES, { limit: 500 }).catch(() => undefined);
    if (left?.items.length === 0) return;
    if (left) await inBatches(left.items.length, (k) => client.delete(`${INGRESSES}/${left.items[k]!.metadata.name}`).catch(() => undefined));
    else await sleep(1_000);
  }
  errors.push(`${system}: KIngresses left after 10 minutes of deleting`);
}

/**
 * 200 mixed changes, one every 50 ms, none waited for: a header shift on a KIngress outside the sample, a new
 * KIngress, the delete of one added here. Meanwhile 4 loops send requests to the sampled hosts (never changed here)
 * through the gateway; any answer but 200 from the echo backend, or a failed connection, counts as failed.
 */
async function mixedChangesUnderLoad(client: KubeClient, system: System, size: number, sample: number[],
  get: (i: number) => Promise<{ status: number; body: Record<string, unknown> }>, random: Random): Promise<{ changes: number; requests: number; failed: number }> {
  let running = true;
  let requests = 0;
  let failed = 0;
  const loops = Array.from({ length: 4 }, async () => {
    while (running && requests < 200_000) {
      const i = sample[Math.floor(random.next() * sample.length)]!;
      requests++;
      const res = await get(i).catch(() => undefined);
      if (res?.status !== 200 || res.body.backend !== 'echo') failed++;
    }
  });
  const sampled = new Set(sample);
  const added: number[] = [];
  let next = size;
  const host = (i: number) => `app-${i}.${system}.bench.example.com`;
  const changes = 200;
  for (let c = 0; c < changes; c++) {
    const kind = c % 3;
    try {
      if (kind === 0) {
        let i = Math.floor(random.next() * size);
        while (sampled.has(i) || i % 10 === 1) i = (i + 1) % size;
        await client.mergePatch(`${INGRESSES}/app-${i}`, { spec: kingress(system, i, host(i), `${system}-load-${c}`).spec });
      } else if (kind === 1) {
        // A new host on an existing Service (app-0's).
        const i = next++;
        await client.create(INGRESSES, { ...kingress(system, i, host(i)), spec: { rules: [{ hosts: [host(i)], visibility: 'ExternalIP', http: { paths: [{ splits: [{ serviceName: 'app-0', serviceNamespace: NAMESPACE, servicePort: 80, percent: 100 }] }] } }] } });
        added.push(i);
      } else if (added.length > 0) {
        await client.delete(`${INGRESSES}/app-${added.shift()}`);
      }
    } catch {
      // a change the API refused is not the gateway's failure
    }
    await sleep(50);
  }
  await sleep(2_000);
  running = false;
  await Promise.all(loops);
  return { changes, requests, failed };
}

function kingress(system: System, i: number, host: string, change?: string): Record<string, unknown> {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress',
    metadata: { name: `app-${i}`, namespace: NAMESPACE, annotations: { 'networking.knative.dev/ingress.class': CLASSES[system] } },
    spec: {
      rules: [{
        hosts: [host], visibility: 'ExternalIP',
        http: { paths: [{ splits: [{ serviceName: `app-${i}`, serviceNamespace: NAMESPACE, servicePort: 80, percent: 100 }], ...(change ? { appendHeaders: { 'x-bench-change': change } } : {}) }] },
      }],
    },
  };
}

async function readyCount(client: KubeClient, system: System): Promise<number> {
  let count = 0;
  let cont: string | undefined;
  do {
    const page = await client.get<{ items: Array<{ metadata: { generation?: number; annotations?: Record<string, string> }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }>; metadata: { continue?: string } }>(INGRESSES, { limit: 500, continue: cont });
    for (const item of page.items) {
      if (item.metadata.annotations?.['networking.knative.dev/ingress.class'] !== CLASSES[system]) continue;
      if (item.status?.observedGeneration === item.metadata.generation && item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) count++;
    }
    cont = page.metadata.continue || undefined;
  } while (cont);
  return count;
}

function cpuOf(pid: number | undefined): number {
  try {
    return pid ? processCpuSeconds(pid) : NaN;
  } catch {
    return NaN;
  }
}

function rssOf(pids: Array<number | undefined>): number {
  return round(pids.filter((pid): pid is number => pid !== undefined).reduce((sum, pid) => {
    try {
      return sum + processMemoryMb(pid).rssMb;
    } catch {
      return sum;
    }
  }, 0));
}

function httpGet(port: number, host: string, agent: Agent): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // not the echo backend (a 404 or 503 of the gateway)
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function inBatches(count: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let lastReport = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          await task(i);
          break;
        } catch (error) {
          if (attempt >= 5 || (error as { statusCode?: number }).statusCode === 409) break;
          await sleep(200 * attempt);
        }
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        log(`    ${next}/${count}`);
      }
    }
  }));
}

/** Polls until `probe` gives a value that is not undefined or false, and returns that value. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value as Exclude<T, false>;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

function printTable({ size, results }: { size: number; results: SystemResult[] }): void {
  const ferry = results.find((r) => r.system === 'ferry');
  const kourier = results.find((r) => r.system === 'kourier');
  const rows: Array<[string, (r: SystemResult) => number | undefined]> = [
    ['first create → all sampled hosts served (ms)', (r) => r.firstCreateToAllServedMs],
    ['first create → all KIngresses Ready (ms)', (r) => r.firstCreateToAllReadyMs],
    ['change p50 (ms)', (r) => r.changes?.p50Ms],
    ['change p99 (ms)', (r) => r.changes?.p99Ms],
    ['control-plane CPU per change (ms)', (r) => r.changes?.cpuMsPerChange],
    ['restart of control plane + gateway → all served (ms)', (r) => r.restartToAllServedMs],
    ['10% deleted → next change served (ms)', (r) => r.deleteTenPercentToChangeServedMs],
    ['  from the last delete returned (ms)', (r) => r.afterDeletesToChangeServedMs],
    ['xDS bytes received by the gateways per change', (r) => r.xdsBytesPerChange],
    ['failed requests on unchanged hosts during 200 mixed changes', (r) => r.underLoad?.failed],
    ['requests sent meanwhile', (r) => r.underLoad?.requests],
    ['control-plane RSS (MB)', (r) => r.controlPlaneRssMb],
    ['gateway Envoy RSS (MB)', (r) => r.gatewayRssMb],
  ];
  console.log(`\n| N=${size} | Ferry (--clusters ${FERRY_CLUSTERS}) | net-kourier | Ferry / kourier |\n|---|---:|---:|---:|`);
  for (const [name, of] of rows) {
    const [f, k] = [ferry ? of(ferry) : undefined, kourier ? of(kourier) : undefined];
    // A step a system did not reach within the limit: "> limit" for that step (the ratio is then at most Ferry's time
    // over the limit), "-" for the steps skipped after it.
    const overLimit = (r: SystemResult | undefined, value: number | undefined) => value === undefined && r !== undefined && r.errors.some((e) => e.startsWith(name.split(' (')[0]!) && e.includes('not within the limit'));
    const cell = (r: SystemResult | undefined, value: number | undefined) => value ?? (overLimit(r, value) ? `> ${r!.limitMinutes} min` : '-');
    const ratio = f !== undefined && k ? `${round(f / k, 2)}` : f !== undefined && overLimit(kourier, k) ? `< ${round(f / (kourier!.limitMinutes * 60_000), 3)}` : '-';
    console.log(`| ${name} | ${cell(ferry, f)} | ${cell(kourier, k)} | ${ratio} |`);
  }
  for (const r of results) if (r.errors.length > 0) console.log(`\n${r.system} errors: ${r.errors.slice(0, 5).join('; ')}`);
}

await main();
