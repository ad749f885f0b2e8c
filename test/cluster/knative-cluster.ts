import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parseAllDocuments, stringify } from 'yaml';
import { repositoryRoot } from '../../src/envoy/bootstrap.js';
import { resolveEnvoyBinary } from '../../src/envoy/managed-envoy.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { FERRY_INGRESS_CLASS } from '../../src/model/ingress.js';
import { silentLogger } from '../../src/log.js';
import { freeLoopbackPort, startKubeCluster, type KubeCluster, type KubectlResult } from '../kube/harness/cluster.js';
import { startGateway, tempSocketPath, type Gateway } from '../kube/harness/gateway.js';
import { harnessTempDir, ManagedProcess } from '../kube/harness/netns.js';
import { createClusterNetwork, HUB_ADDRESS, type ClusterNetwork } from './network.js';
import { NodeStandIn, writeKubeconfig, type Program } from './node.js';

/*
 * Knative Serving on one machine, with Ferry as its ingress: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler (k8s.io/kubernetes), kube-proxy in the network's hub, Knative Serving's release configuration applied with kubectl as an operator
 * would (its controller, webhook, autoscaler and activator then run as Pods of their Deployments), one Node played
 * by the node stand-in (node.ts), Ferry in kube mode and two gateway Envoys (external and cluster-local) in network
 * namespaces of their own. Nothing a real component writes is written here: the harness writes what an installer
 * writes (Knative's YAML, Ferry's gateway Services) and what a kubelet writes (node.ts).
 */

const ROOT = repositoryRoot();
const CLUSTER_TOOLS_ENV = join(ROOT, '.cache/cluster-tools.env');
export const INGRESS_CLASS = FERRY_INGRESS_CLASS;
export const EXTERNAL_GATEWAY_ADDRESS = '10.215.0.10';
export const LOCAL_GATEWAY_ADDRESS = '10.215.0.11';
const CLIENT_ADDRESS = '10.215.0.20';
const NODE_NAME = 'ferry-node';

interface ClusterTools {
  KUBE_CONTROLLER_MANAGER: string;
  KUBE_SCHEDULER: string;
  KUBE_PROXY: string;
  KNATIVE_SERVING_VERSION: string;
  KNATIVE_SERVING_BIN: string;
  KN: string;
  KNATIVE_CONFORMANCE_BIN: string;
  KNATIVE_SERVING_CONFIG: string;
  KNATIVE_NETWORKING_CONFIG: string;
  KNATIVE_CACHING_CONFIG: string;
  NET_KOURIER_VERSION?: string;
  NET_KOURIER_BIN?: string;
  NET_KOURIER_CONFIG?: string;
}

function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The binaries and configuration scripts/tools/knative.sh (and kube.sh) built or found. */
export function clusterTools(): ClusterTools {
  const missing = (what: string): Error => new Error(`Knative cluster: ${what}; run \`make test\` (or bash scripts/tools/knative.sh), which builds Knative Serving, kn, kube-controller-manager and kube-scheduler`);
  if (!existsSync(CLUSTER_TOOLS_ENV)) throw missing(`${CLUSTER_TOOLS_ENV} is missing`);
  const values = { ...readEnvFile(join(ROOT, '.cache/kube-tools.env')), ...readEnvFile(CLUSTER_TOOLS_ENV) };
  for (const key of ['KUBE_CONTROLLER_MANAGER', 'KUBE_SCHEDULER', 'KUBE_PROXY', 'KNATIVE_SERVING_BIN', 'KN', 'KNATIVE_CONFORMANCE_BIN', 'KNATIVE_SERVING_CONFIG', 'KNATIVE_NETWORKING_CONFIG', 'KNATIVE_CACHING_CONFIG']) {
    if (!values[key] || !existsSync(values[key])) throw missing(`${key} (${values[key] ?? 'not set'}) does not exist`);
  }
  return values as unknown as ClusterTools;
}

export interface KnativeClusterOptions {
  logger?: Logger;
  /** Progress lines (what is being started), e.g. console.error for the demo. */
  progress?: (line: string) => void;
  /** Extra data for config-network (e.g. autocreate-cluster-domain-claims). */
  configNetwork?: Record<string, string>;
  /** Extra data for config-autoscaler (e.g. a short stable-window and scale-to-zero-grace-period). */
  configAutoscaler?: Record<string, string>;
  /**
   * Also install net-kourier (its release configuration: controller and gateway as Pods, the gateway on the same
   * Envoy binary as Ferry's), beside Ferry, for the side-by-side benchmark. Knative's default class stays Ferry's.
   */
  netKourier?: boolean;
}

export interface KnativeCluster {
  readonly kube: KubeCluster;
  readonly network: ClusterNetwork;
  readonly node: NodeStandIn;
  readonly dir: string;
  readonly externalGateway: Gateway;
  readonly localGateway: Gateway;
  /** The network namespaces of the two gateways and of the client (curl, the conformance suite). */
  readonly namespaces: { externalGateway: string; localGateway: string; client: string };
  /** The Ferry process (kube mode, on the host). */
  ferryPid(): number | undefined;
  /** Stops Ferry and its two gateways, then starts them again (the gateways come back empty). */
  restartFerry(): Promise<void>;
  /** kn with the admin kubeconfig. */
  kn(args: readonly string[]): Promise<KubectlResult>;
  kubectl(args: readonly string[], stdin?: string): Promise<KubectlResult>;
  /** curl from a client namespace joined to the cluster network (resolving cluster names as pods do). */
  curl(args: readonly string[]): Promise<KubectlResult>;
  /**
   * Runs a program in that client namespace with KUBECONFIG set to an admin kubeconfig that works from there (the
   * API server through the hub's relay): Knative's conformance suite, say.
   */
  inCluster(command: string, args: readonly string[], timeoutMs: number): Promise<KubectlResult>;
  readonly tools: ClusterTools;
  /** The tails of every component's log, for a failing test. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export async function startKnativeCluster(options: KnativeClusterOptions = {}): Promise<KnativeCluster> {
  const tools = clusterTools();
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? (() => {});
  const dir = harnessTempDir('ferry-cluster');
  const processes: ManagedProcess[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  try {
    progress('network namespaces (hub bridge 10.215.0.1/16)');
    const network = await createClusterNetwork();
    stops.push(() => network.remove());
    // kube-apiserver reaches Pods (Knative's webhook) through its egress selector: an HTTP CONNECT proxy in the hub.
    const egressSocket = join(dir, 'egress.sock');
    await network.relay({ in: network.hub, listen: egressSocket, httpConnect: true, name: 'egress proxy' });
    const egressConfig = join(dir, 'egress-selector.yaml');
    writeFileSync(egressConfig, stringify({
      apiVersion: 'apiserver.k8s.io/v1beta1', kind: 'EgressSelectorConfiguration',
      egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: egressSocket } } } }],
    }));

    progress('etcd and kube-apiserver');
    const kube = await startKubeCluster({
      serviceAccountAdmission: true,
      apiServerArgs: ['--enable-aggregator-routing=true', '--egress-selector-config-file', egressConfig, '--allow-privileged=true'],
    });
    stops.push(() => kube.stop());
    const port = new URL(kube.server).port;
    // Pods reach the API server at 10.215.0.1:6443: a relay in the hub, to a unix socket, to a relay on the host.
    const apiSocket = join(dir, 'apiserver.sock');
    await network.relay({ listen: apiSocket, connect: `127.0.0.1:${port}`, name: 'apiserver relay (host)' });
    await network.relay({ in: network.hub, listen: `${HUB_ADDRESS}:6443`, connect: apiSocket, name: 'apiserver relay (hub)' });

    const component = (name: string, command: string, args: string[]): ManagedProcess => {
      const proc = new ManagedProcess(command, args, { name, logFile: join(dir, `${name}.log`) });
      processes.push(proc);
      stops.push(() => proc.stop(5_000));
      return proc;
    };
    progress('kube-controller-manager and kube-scheduler');
    component('kube-controller-manager', tools.KUBE_CONTROLLER_MANAGER, ['--kubeconfig', kube.kubeconfig, '--leader-elect=false',
      '--use-service-account-credentials=false', '--service-account-private-key-file', join(kube.dir, 'sa.key'), '--root-ca-file', kube.caFile,
      '--controllers=*', '--bind-address=127.0.0.1', '--secure-port=0', '--cluster-name=ferry', '--v=1']);
    component('kube-scheduler', tools.KUBE_SCHEDULER, ['--kubeconfig', kube.kubeconfig, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0', '--v=1']);

    const client = KubeClient.load(kube.kubeconfig);
    const programs = programTable(tools);
    // Gateways and the client are not Pods; their /etc/hosts is kept by the node stand-in too.
    const resolverNamespaces: string[] = [];
    const node = new NodeStandIn({
      client, logger, network, nodeName: NODE_NAME, nodeAddress: HUB_ADDRESS, programFor: programs, dir,
      apiServer: { server: `https://${HUB_ADDRESS}:6443`, caFile: kube.caFile, tlsServerName: '127.0.0.1' },
      extraResolverNamespaces: () => resolverNamespaces,
    });
    progress(`node stand-in (Node ${NODE_NAME}) and kube-proxy`);
    await node.start();
    stops.push(() => node.stop());
    // The node's kube-proxy, in the hub where ClusterIP traffic is routed; masquerading all of it, so that a reply
    // from a pod on the same bridge comes back through the hub's conntrack.
    const proxyKubeconfig = writeKubeconfig(join(dir, 'kubeconfig-kube-proxy'), { server: `https://${HUB_ADDRESS}:6443`, caFile: kube.caFile, tlsServerName: '127.0.0.1', token: kube.adminToken, namespace: 'kube-system' });
    component('kube-proxy', 'ip', ['netns', 'exec', network.hub, tools.KUBE_PROXY, '--kubeconfig', proxyKubeconfig, '--hostname-override', NODE_NAME,
      '--proxy-mode', 'iptables', '--masquerade-all', '--cluster-cidr', '10.215.0.0/16', '--conntrack-max-per-core', '0',
      '--conntrack-tcp-timeout-established', '0', '--conntrack-tcp-timeout-close-wait', '0', '--metrics-bind-address', '127.0.0.1:10249',
      '--healthz-bind-address', '127.0.0.1:10256', '--v=1']);

    progress(`Knative Serving ${tools.KNATIVE_SERVING_VERSION} (kubectl apply of its release configuration)`);
    await installKnativeServing(kube, tools, { 'config-network': options.configNetwork ?? {}, 'config-autoscaler': options.configAutoscaler ?? {} }, progress);

    if (options.netKourier) {
      progress(`net-kourier ${tools.NET_KOURIER_VERSION ?? ''} (kubectl apply of its release configuration)`);
      await installNetKourier(kube, tools);
    }
    progress('Ferry (kube mode) and its two gateway Envoys');
    const externalNs = await network.attach('gw-external', EXTERNAL_GATEWAY_ADDRESS);
    const localNs = await network.attach('gw-local', LOCAL_GATEWAY_ADDRESS);
    const clientNs = await network.attach('client', CLIENT_ADDRESS);
    resolverNamespaces.push(externalNs, localNs, clientNs);
    await installGatewayServices(kube);
    const ferryMain = join(ROOT, 'dist/src/cli/main.js');
    if (!existsSync(ferryMain)) throw new Error(`Knative cluster: ${ferryMain} is missing; run \`make test\` (or npx tsc), which builds Ferry`);
    const adminPort = await freeLoopbackPort();
    let ferry!: ManagedProcess;
    let externalGateway!: Gateway;
    let localGateway!: Gateway;
    // Ferry and its gateways as one unit, which the side-by-side benchmark restarts (kube mode's cold start).
    const startFerry = async (): Promise<void> => {
      const xdsSocket = tempSocketPath();
      ferry = new ManagedProcess(process.execPath, [ferryMain, 'serve', '--source', 'kube', '--kubeconfig', kube.kubeconfig,
        '--system-namespace', 'ferry-system', '--pod-name', 'ferry-0', '--envoy', 'none', '--xds-address', `unix:${xdsSocket}`,
        '--admin-address', `127.0.0.1:${adminPort}`, '--external-http-port', '80', '--local-http-port', '80',
        '--external-https-port', '443', '--local-https-port', '443', '--log-level', 'info'], { name: 'ferry', logFile: join(dir, 'ferry.log') });
      const xdsDeadline = Date.now() + 60_000;
      while (!existsSync(xdsSocket)) {
        if (!ferry.alive || Date.now() > xdsDeadline) throw new Error(`Ferry did not open ${xdsSocket}: ${ferry.logTail(30)}`);
        await sleep(100);
      }
      externalGateway = await startGateway({ net: { gw: externalNs }, xdsSocket, role: 'external', nodeId: 'ferry-gateway-external' });
      localGateway = await startGateway({ net: { gw: localNs }, xdsSocket, role: 'local', nodeId: 'ferry-gateway-local' });
    };
    const stopFerry = async (): Promise<void> => {
      await Promise.all([externalGateway?.stop(), localGateway?.stop()]);
      await ferry?.stop(5_000);
    };
    await startFerry();
    stops.push(stopFerry);
    await Promise.all([externalGateway.ready(), localGateway.ready()]);

    const inClusterKubeconfig = writeKubeconfig(join(dir, 'kubeconfig-in-cluster'), { server: `https://${HUB_ADDRESS}:6443`, caFile: kube.caFile, tlsServerName: '127.0.0.1', token: kube.adminToken, namespace: 'default' });
    const runTool = (command: string, args: readonly string[], stdin?: string, timeoutMs = 60_000, env: Record<string, string> = {}): Promise<KubectlResult> => new Promise((resolve) => {
      const child = execFile(command, [...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs, env: { ...process.env, HOME: dir, ...env } }, (error, stdout, stderr) => {
        resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
      });
      // A tool that exits without reading its input (curl) must not fail the caller with EPIPE.
      child.stdin?.on('error', () => {});
      child.stdin?.end(stdin ?? '');
    });
    progress('ready');
    return {
      kube, network, node, dir, tools,
      get externalGateway() { return externalGateway; },
      get localGateway() { return localGateway; },
      ferryPid: () => ferry.child.pid,
      restartFerry: async () => {
        await stopFerry();
        await startFerry();
      },
      namespaces: { externalGateway: externalNs, localGateway: localNs, client: clientNs },
      inCluster: (command, args, timeoutMs) => runTool('ip', ['netns', 'exec', clientNs, command, ...args], undefined, timeoutMs, { KUBECONFIG: inClusterKubeconfig }),
      kn: (args) => runTool(tools.KN, ['--kubeconfig', kube.kubeconfig, ...args]),
      kubectl: (args, stdin) => kube.kubectl(args, stdin),
      curl: (args) => runTool('ip', ['netns', 'exec', clientNs, 'curl', '-sS', '--max-time', '30', ...args], undefined, 40_000),
      logTails: (lines = 40) => [
        ...[...processes, ferry].map((proc) => `--- ${proc.options.name} ---\n${proc.logTail(lines)}`),
        ...readdirSync(join(dir, 'logs')).map((file) => `--- ${file} ---\n${readFileSync(join(dir, 'logs', file), 'utf8').split('\n').slice(-lines).join('\n')}`),
        `--- Envoy external ---\n${externalGateway.logTail(lines)}`, `--- Envoy local ---\n${localGateway.logTail(lines)}`,
      ].join('\n'),
      stop: stopAll,
    };
  } catch (error) {
    const tails = processes.map((proc) => `--- ${proc.options.name} ---\n${proc.logTail(30)}`).join('\n');
    await stopAll();
    throw new Error(`the Knative cluster did not start: ${(error as Error).message}\n${tails}`);
  }
}

export const CONFORMANCE_IMAGE_REPOSITORY = 'ferry.local/knative-networking-test';

/** Image → program: Knative's commands from the Go build, the hello-world sample as a Node server. */
function programTable(tools: ClusterTools): (image: string) => Program | undefined {
  const knative = /^ferry\.local\/knative-serving\/([a-z-]+)(?::|@|$)/;
  // Knative's conformance suite names its images {{.Repository}}/{{.Name}}:{{.Tag}} (--dockerrepo, --tag).
  const conformance = new RegExp(`^${CONFORMANCE_IMAGE_REPOSITORY.replace(/\./g, '\\.')}/([a-z-]+)(?::|@|$)`);
  return (image) => {
    const command = knative.exec(image)?.[1];
    if (command) return { command: join(tools.KNATIVE_SERVING_BIN, command) };
    const testImage = conformance.exec(image)?.[1];
    if (testImage) return { command: join(tools.KNATIVE_CONFORMANCE_BIN, testImage) };
    const kourier = /^ferry\.local\/net-kourier\/kourier(?::|@|$)/.test(image) && tools.NET_KOURIER_BIN;
    if (kourier) return { command: join(kourier, 'kourier') };
    if (/(^|\/)envoyproxy\/envoy(:|@|$)/.test(image)) return { command: resolveEnvoyBinary() };
    // An echo server (JSON of the request's method, path and headers) on 8080, for benchmarks.
    if (/^ferry\.local\/test\/echo(:|@|$)/.test(image)) return { command: process.execPath, args: [join(ROOT, 'test/kube/harness/backend-server.mjs'), '--port', '8080', '--name', 'echo', '--quiet'] };
    if (/(^|\/)helloworld-go(:|@|$)/.test(image)) return { command: process.execPath, args: [join(ROOT, 'test/cluster/images/helloworld.mjs')] };
    return undefined;
  };
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlDocs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as Doc | null).filter((doc): doc is Doc => Boolean(doc?.kind));
}

function yamlFiles(folder: string): string[] {
  return readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(folder, f));
}

/**
 * Knative Serving's release configuration (config/core of its module, the CRDs of knative.dev/networking and
 * knative.dev/caching), as `ko` would resolve it: each ko:// image named after its command. Three ConfigMaps changed
 * as an operator of this cluster changes them: Ferry's ingress class, the example.com domain, and no registry lookups
 * for image digests (there is no registry here).
 */
async function installKnativeServing(kube: KubeCluster, tools: ClusterTools, config: Record<string, Record<string, string>>, progress: (line: string) => void): Promise<void> {
  const core = tools.KNATIVE_SERVING_CONFIG;
  const docs = [
    ...['ingress.yaml', 'serverlessservice.yaml', 'certificate.yaml', 'domain-claim.yaml', 'config-network.yaml'].flatMap((f) => yamlDocs(join(tools.KNATIVE_NETWORKING_CONFIG, f))),
    ...yamlDocs(join(tools.KNATIVE_CACHING_CONFIG, 'image.yaml')),
    ...yamlFiles(core).flatMap(yamlDocs),
    ...['200-roles', '300-resources', 'configmaps'].flatMap((sub) => yamlFiles(join(core, sub)).flatMap(yamlDocs)),
    ...['activator.yaml', 'autoscaler.yaml', 'controller.yaml', 'webhook.yaml'].flatMap((f) => yamlDocs(join(core, 'deployments', f))),
    ...yamlDocs(join(core, 'webhooks', 'secret.yaml')),
  ];
  const version = tools.KNATIVE_SERVING_VERSION;
  const resolved = JSON.parse(JSON.stringify(docs).replace(/ko:\/\/knative\.dev\/serving\/cmd\/([a-z-]+)/g, `ferry.local/knative-serving/$1:${version}`)) as Doc[];
  const configMap = (name: string): Doc => {
    const found = resolved.find((doc) => doc.kind === 'ConfigMap' && doc.metadata?.name === name);
    if (!found) throw new Error(`Knative's configuration has no ConfigMap ${name}`);
    found.data ??= {};
    return found;
  };
  Object.assign(configMap('config-network').data, { 'ingress-class': INGRESS_CLASS });
  for (const [name, data] of Object.entries(config)) Object.assign(configMap(name).data, data);
  Object.assign(configMap('config-domain').data, { 'example.com': '' });
  Object.assign(configMap('config-deployment').data, { 'registries-skipping-tag-resolving': 'kind.local,ko.local,dev.local,ferry.local,index.docker.io,docker.io' });
  // One activator is enough here (its HPA is not installed: there is no metrics server).
  const unique = new Map<string, Doc>();
  for (const doc of resolved) unique.set(`${doc.kind}/${doc.metadata?.namespace ?? ''}/${doc.metadata?.name}`, doc);
  const all = [...unique.values()];
  const crds = all.filter((doc) => doc.kind === 'CustomResourceDefinition');
  await applyDocs(kube, crds);
  const established = await kube.kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', ...crds.map((crd) => `crd/${crd.metadata.name}`)]);
  if (established.code !== 0) throw new Error(`Knative CRDs not Established: ${established.stderr}`);
  const ordered = [...all.filter((doc) => doc.kind === 'Namespace'), ...all.filter((doc) => doc.kind !== 'Namespace' && doc.kind !== 'CustomResourceDefinition')];
  await applyDocs(kube, ordered);
  progress('waiting for Knative\'s webhook, controller, autoscaler and activator Pods');
  const available = await kube.kubectl(['wait', '--for', 'condition=Available', '--timeout', '180s', '-n', 'knative-serving', 'deployment/webhook', 'deployment/controller', 'deployment/autoscaler', 'deployment/activator']);
  if (available.code !== 0) throw new Error(`Knative's Deployments not Available: ${available.stderr}${(await kube.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout}`);
  // The webhook configurations last: their failurePolicy is Fail, so the webhook must answer before anything they cover is written.
  await applyDocs(kube, ['configmap-validation.yaml', 'defaulting.yaml', 'resource-validation.yaml'].flatMap((f) => yamlDocs(join(core, 'webhooks', f))));
}

/** net-kourier's release configuration (config/ of its module), its ko:// image named after its command. */
async function installNetKourier(kube: KubeCluster, tools: ClusterTools): Promise<void> {
  const folder = tools.NET_KOURIER_CONFIG;
  if (!folder || !tools.NET_KOURIER_BIN || !existsSync(join(folder, '300-gateway.yaml'))) {
    throw new Error('Knative cluster: net-kourier is not built (NET_KOURIER_* of .cache/cluster-tools.env); run bash scripts/tools/knative.sh');
  }
  const docs = yamlFiles(folder).flatMap(yamlDocs).filter((doc) => doc.kind !== 'HorizontalPodAutoscaler');
  const resolved = JSON.parse(JSON.stringify(docs).replace(/ko:\/\/knative\.dev\/net-kourier\/cmd\/kourier/g, `ferry.local/net-kourier/kourier:${tools.NET_KOURIER_VERSION}`)) as Doc[];
  await applyDocs(kube, [...resolved.filter((doc) => doc.kind === 'Namespace'), ...resolved.filter((doc) => doc.kind !== 'Namespace')]);
  const available = await kube.kubectl(['wait', '--for', 'condition=Available', '--timeout', '180s', '-n', 'knative-serving', 'deployment/net-kourier-controller']);
  const gateway = await kube.kubectl(['wait', '--for', 'condition=Available', '--timeout', '180s', '-n', 'kourier-system', 'deployment/3scale-kourier-gateway']);
  if (available.code !== 0 || gateway.code !== 0) throw new Error(`net-kourier's Deployments not Available: ${available.stderr}${gateway.stderr}${(await kube.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout}`);
}

async function applyDocs(kube: KubeCluster, docs: readonly Doc[]): Promise<void> {
  const result = await kube.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], docs.map((doc) => JSON.stringify(doc)).join('\n---\n'));
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr.trim()}`);
}

/**
 * Ferry's gateway Services, as deploy/kubernetes/ferry.yaml names them, pointing at the two gateway namespaces: the
 * gateways run beside the cluster, not as its Pods, so their EndpointSlices are written here (by their installer).
 * The external one is of type LoadBalancer with the external gateway's address as its load balancer's, as a
 * load-balancer provider would set it: `kubectl get svc -n ferry-system ferry` shows the address to curl, and
 * Knative's conformance suite dials it.
 */
async function installGatewayServices(kube: KubeCluster): Promise<void> {
  const docs: Doc[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ferry-system' } }];
  const ports = [{ name: 'http', port: 80 }, { name: 'https', port: 443 }];
  for (const [name, address, type] of [['ferry', EXTERNAL_GATEWAY_ADDRESS, 'LoadBalancer'], ['ferry-internal', LOCAL_GATEWAY_ADDRESS, 'ClusterIP']] as const) {
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ferry-system' }, spec: { type, ports: ports.map((p) => ({ ...p, targetPort: p.port })) } });
    docs.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-gateway`, namespace: 'ferry-system', labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'ferry-cluster-harness' } },
      addressType: 'IPv4', ports: ports.map((p) => ({ ...p, protocol: 'TCP' })), endpoints: [{ addresses: [address], conditions: { ready: true } }],
    });
  }
  await applyDocs(kube, docs);
  const patched = await kube.kubectl(['patch', 'service', 'ferry', '-n', 'ferry-system', '--subresource', 'status', '--type', 'merge',
    '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: EXTERNAL_GATEWAY_ADDRESS }] } } })]);
  if (patched.code !== 0) throw new Error(`setting the ferry Service's load balancer address failed: ${patched.stderr}`);
}
