import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repositoryRoot } from '../../../src/envoy/bootstrap.js';
import { harnessTempDir, ManagedProcess } from './netns.js';

/*
 * A real Kubernetes control plane for the kube tests: etcd and kube-apiserver as local processes on random loopback
 * ports, with Knative's networking CRDs installed (and Serving's, on request). No controller-manager and no scheduler: nothing garbage-collects,
 * finalises namespaces or creates default ServiceAccounts; tests create what they need and play the kubelet themselves.
 * One per test file (beforeAll): starting it costs about 3 s of the two cores.
 */

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubeCluster {
  /** Admin kubeconfig (token of a system:masters user). */
  readonly kubeconfig: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly adminToken: string;
  /** The apiserver's self-signed serving certificate (and its CA), as the kubeconfigs' certificate-authority. */
  readonly caFile: string;
  /** The temp directory holding data, certificates and logs (removed by stop()). */
  readonly dir: string;
  /** kubectl with the admin kubeconfig; a later `--kubeconfig` in args wins (e.g. one of kubeconfigFor()). */
  kubectl(args: readonly string[], stdin?: string): Promise<KubectlResult>;
  /** kubectl apply -f - ; throws with kubectl's message on failure. */
  apply(yaml: string): Promise<void>;
  /** Stops kube-apiserver only (etcd keeps the objects); `kill` sends SIGKILL instead of a graceful SIGTERM. */
  stopApiServer(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port with the same etcd, certificates and keys; resolves when /readyz is ok. */
  startApiServer(): Promise<void>;
  /**
   * Advances etcd's revision (a key outside the apiserver's /registry) and compacts everything before it, so that
   * watches and lists at any earlier resourceVersion get 410 Gone (an apiserver restarted meanwhile serves them from etcd).
   */
  compactEtcd(): Promise<number>;
  /** A ServiceAccount token from the TokenRequest API (the namespace and ServiceAccount are created if missing). */
  tokenFor(namespace: string, serviceAccount: string): Promise<string>;
  /** A kubeconfig file for this cluster with the given bearer token; returns its path. */
  kubeconfigFor(token: string): string;
  /** The tails of the etcd and kube-apiserver logs. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

// From package.json upwards, not from this file: the bench runs the compiled copy in dist/.
const ROOT = repositoryRoot();
const TOOLS_ENV = join(ROOT, '.cache/kube-tools.env');

interface KubeTools {
  KUBE_APISERVER: string;
  KUBECTL: string;
  ETCD: string;
  KNATIVE_NETWORKING_CRDS: string;
  /** knative.dev/serving's config/core/300-resources; checked only by the tests that install them. */
  KNATIVE_SERVING_CRDS?: string;
}

export interface KubeClusterOptions {
  /**
   * Also install Knative Serving's CRDs (serving.knative.dev Services, Routes, Configurations, Revisions,
   * DomainMappings; autoscaling's too): for Ferry's --knative-translation. Their webhooks and controllers do not run.
   */
  knativeServingCrds?: boolean;
  /** More kube-apiserver flags, after the harness's own (a later flag wins); test/cluster's egress selector, say. */
  apiServerArgs?: readonly string[];
  /**
   * Keep kube-apiserver's ServiceAccount admission plugin (off by default: these tests run no controller-manager to
   * create the `default` ServiceAccounts that Pods need).
   */
  serviceAccountAdmission?: boolean;
}

/** The binaries and CRD folder scripts/tools/kube.sh found or built. */
export function kubeTools(): KubeTools {
  const missing = (what: string): Error => new Error(`kube tests: ${what}; run \`make test\`, which builds kube-apiserver, kubectl and etcd (scripts/tools/kube.sh)`);
  if (!existsSync(TOOLS_ENV)) throw missing(`${TOOLS_ENV} is missing`);
  const values = Object.fromEntries(readFileSync(TOOLS_ENV, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  for (const key of ['KUBE_APISERVER', 'KUBECTL', 'ETCD', 'KNATIVE_NETWORKING_CRDS'] as const) {
    if (!values[key] || !existsSync(values[key])) throw missing(`${key} of ${TOOLS_ENV} (${values[key] ?? 'not set'}) does not exist`);
  }
  return values as unknown as KubeTools;
}

const running = new Set<KubeCluster>();

export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const tools = kubeTools();
  const servingCrds = tools.KNATIVE_SERVING_CRDS;
  if (options.knativeServingCrds && (!servingCrds || !existsSync(servingCrds))) {
    throw new Error(`kube tests: KNATIVE_SERVING_CRDS of ${TOOLS_ENV} (${servingCrds ?? 'not set'}) does not exist; run \`make test\` (scripts/tools/kube.sh downloads knative.dev/serving)`);
  }
  const dir = harnessTempDir('ferry-kube');
  const t0 = Date.now();
  // A random admin token: an apiserver of another test run that happens to answer on our port rejects it.
  const adminToken = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},ferry-test-admin,ferry-test-admin,"system:masters"\n`);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const caFile = join(dir, 'certs', 'apiserver.crt');
  mkdirSync(join(dir, 'certs'));

  let etcd: ManagedProcess | undefined;
  let apiserver: ManagedProcess | undefined;
  let etcdUrl = '';
  let port = 0;
  const logTail = (lines = 60): string => [['etcd', join(dir, 'etcd.log')], ['kube-apiserver', join(dir, 'kube-apiserver.log')]]
    .map(([name, file]) => `--- ${name} (last ${lines} lines of ${file}) ---\n${existsSync(file!) ? readFileSync(file!, 'utf8').split('\n').slice(-lines - 1).join('\n') : '(no log)'}`).join('\n');

  const startEtcd = async (): Promise<void> => {
    // Ports are picked free and then bound by etcd: another process may take one meanwhile, so retry on a failed bind.
    for (let attempt = 1; ; attempt++) {
      const [client, peer] = [await freeLoopbackPort(), await freeLoopbackPort()];
      etcdUrl = `http://127.0.0.1:${client}`;
      const peerUrl = `http://127.0.0.1:${peer}`;
      let serving = false;
      etcd = new ManagedProcess(tools.ETCD, ['--name', 'ferry-test', '--data-dir', join(dir, 'etcd'),
        '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `ferry-test=${peerUrl}`,
        '--unsafe-no-fsync'], {
        name: 'etcd', logFile: join(dir, 'etcd.log'),
        // Our own etcd saying so, not a health check: a foreign etcd on the same port would answer one too.
        onLine: (line) => { if (line.includes('serving client traffic') && line.includes(`"127.0.0.1:${client}"`)) serving = true; },
      });
      if (await until(async () => serving && await etcdHealthy(etcdUrl), () => !etcd!.alive, 20_000)) return;
      await etcd.stop(1_000);
      if (attempt === 3) throw new Error(`etcd did not start (3 attempts); ${logTail()}`);
    }
  };

  const apiserverArgs = (): string[] => ['--etcd-servers', etcdUrl, '--bind-address', '127.0.0.1', '--secure-port', String(port),
    // No endpoint reconciler: it would publish this host's address as the `kubernetes` Service's endpoint.
    '--advertise-address', '127.0.0.1', '--endpoint-reconciler-type', 'none',
    '--cert-dir', join(dir, 'certs'), '--token-auth-file', join(dir, 'tokens.csv'), '--authorization-mode', 'RBAC',
    '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
    '--service-account-key-file', join(dir, 'sa.key'), '--service-account-signing-key-file', join(dir, 'sa.key'),
    '--service-cluster-ip-range', '10.96.0.0/16',
    // Pods without a `default` ServiceAccount (no controller-manager creates one) stay creatable.
    ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins', 'ServiceAccount']), '--profiling=false', ...(options.apiServerArgs ?? [])];

  const launchApiServer = async (): Promise<boolean> => {
    apiserver = new ManagedProcess(tools.KUBE_APISERVER, apiserverArgs(), { name: 'kube-apiserver', logFile: join(dir, 'kube-apiserver.log') });
    const server = `https://127.0.0.1:${port}`;
    return until(async () => (await apiGet(server, adminToken, '/readyz')).status === 200 && apiserver!.alive, () => !apiserver!.alive, 60_000);
  };

  const kubeconfigFor = (token: string, file = join(dir, `kubeconfig-${randomBytes(4).toString('hex')}`)): string => {
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'ferry-test',
      clusters: [{ name: 'ferry-test', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority': caFile } }],
      users: [{ name: 'user', user: { token } }],
      contexts: [{ name: 'ferry-test', context: { cluster: 'ferry-test', user: 'user', namespace: 'default' } }],
    }, null, 2));
    return file;
  };
  const kubeconfig = join(dir, 'kubeconfig');
  const kubectl = (args: readonly string[], stdin?: string): Promise<KubectlResult> => new Promise((resolvePromise) => {
    // A discovery cache of our own: a cache of an earlier cluster on the same port would hide the CRDs.
    const child = execFile(tools.KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), ...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
        resolvePromise({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
      });
    child.stdin?.on('error', () => {}); // kubectl may exit before reading its input
    child.stdin?.end(stdin ?? '');
  });
  const apply = async (yaml: string): Promise<void> => {
    const result = await kubectl(['apply', '-f', '-'], yaml);
    if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr.trim()}`);
  };

  const stopAll = async (): Promise<void> => {
    await apiserver?.stop(5_000);
    await etcd?.stop(5_000);
  };
  try {
    await startEtcd();
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      if (await launchApiServer()) break;
      await apiserver?.stop(1_000);
      if (attempt === 3) throw new Error('kube-apiserver did not become ready (3 attempts)');
    }
    const started = Date.now();
    kubeconfigFor(adminToken, kubeconfig);
    await installCrds(tools.KNATIVE_NETWORKING_CRDS, kubectl, 'crd/ingresses.networking.internal.knative.dev', 'networking');
    if (options.knativeServingCrds) await installCrds(servingCrds!, kubectl, 'crd/services.serving.knative.dev', 'serving');
    if (process.env.FERRY_TEST_LOGS) console.error(`kube cluster ready in ${started - t0} ms (+${Date.now() - started} ms for the CRDs)`);
  } catch (error) {
    const tail = logTail();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kube test cluster did not start: ${(error as Error).message}\n${tail}`);
  }

  const cluster: KubeCluster = {
    kubeconfig, server: `https://127.0.0.1:${port}`, adminToken, caFile, dir, kubectl, apply, logTail,
    kubeconfigFor: (token) => kubeconfigFor(token),
    stopApiServer: async (options = {}) => {
      await apiserver?.stop(10_000, options.kill ? 'SIGKILL' : 'SIGTERM');
    },
    startApiServer: async () => {
      if (apiserver?.alive) throw new Error('startApiServer: kube-apiserver is already running');
      if (!await launchApiServer()) {
        await apiserver?.stop(1_000);
        throw new Error(`kube-apiserver did not come back on port ${port}\n${logTail()}`);
      }
    },
    compactEtcd: async () => {
      const put = await etcdPost(etcdUrl, '/v3/kv/put', { key: base64('/ferry-test/compaction-marker'), value: base64(String(Date.now())) });
      const revision = Number((put as { header: { revision: string } }).header.revision);
      await etcdPost(etcdUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
      return revision;
    },
    tokenFor: async (namespace, serviceAccount) => {
      await apply(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":${JSON.stringify(namespace)}}}\n---\n`
        + `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":${JSON.stringify(serviceAccount)},"namespace":${JSON.stringify(namespace)}}}`);
      const result = await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration', '24h']);
      if (result.code !== 0) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} failed: ${result.stderr.trim()}`);
      return result.stdout.trim();
    },
    stop: async () => {
      running.delete(cluster);
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  return cluster;
}

/** Prints the etcd/kube-apiserver log tails of the running clusters when a test of this file fails. */
export function printKubeLogsOnFailure(lines = 60, ...more: Array<() => string>): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      console.error([...[...running].map((cluster) => cluster.logTail(lines)), ...more.map((tail) => tail())].join('\n'));
    });
  });
}

/** Applies every CustomResourceDefinition file of the folder and waits until they are Established. */
async function installCrds(folder: string, kubectl: KubeCluster['kubectl'], required: string, what: string): Promise<void> {
  const names: string[] = [];
  const files: string[] = [];
  for (const file of readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = parseAllDocuments(readFileSync(join(folder, file), 'utf8')).map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null);
    const crds = docs.filter((doc) => doc?.kind === 'CustomResourceDefinition');
    if (crds.length === 0) continue;
    files.push('-f', join(folder, file));
    names.push(...crds.map((crd) => `crd/${crd!.metadata!.name}`));
  }
  if (!names.includes(required)) throw new Error(`no ${required} in ${folder}`);
  const applied = await kubectl(['apply', ...files]);
  if (applied.code !== 0) throw new Error(`applying the Knative ${what} CRDs failed: ${applied.stderr}`);
  const established = await kubectl(['wait', '--for', 'condition=Established', '--timeout', '30s', ...names]);
  if (established.code !== 0) throw new Error(`Knative ${what} CRDs not Established: ${established.stderr}`);
}

/** Polls `ok` until true (→ true), `failed` (→ false) or the time is up (→ false). */
async function until(ok: () => Promise<boolean>, failed: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok().catch(() => false)) return true;
    if (failed() || Date.now() > deadline) return false;
    await sleep(50);
  }
}

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** etcd's JSON gateway to its v3 gRPC API (no etcdctl needed). */
async function etcdPost(url: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function etcdHealthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
  return res.ok && ((await res.json()) as { health?: string }).health === 'true';
}

/** A GET to the apiserver, not verifying its certificate (only the harness's own readiness checks use it). */
export function apiGet(server: string, token: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpsRequest(`${server}${path}`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
