import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { FERRY_INGRESS_CLASS, INGRESS_API_VERSION, INGRESS_CLASS_ANNOTATION, type HTTPIngressPath, type IngressRule, type KIngress } from '../src/model/ingress.js';
import { SERVICE_NAME_LABEL, TLS_SECRET_TYPE, type EndpointSlice, type Secret, type Service } from '../src/model/kube.js';
import { generateSelfSignedCerts, type TlsCert } from './certs.js';
import { seededRandom, type Random } from './random.js';

/** Where the generated EndpointSlices point: real HTTP servers on 127.0.0.1 started by the runner. */
export interface BackendPorts {
  revisions: number[];
  activator: number;
}

export interface GenerateOptions {
  count: number;
  seed: number;
  ports: BackendPorts;
  /** A few certificates reused by every TLS Secret (generating one per Secret would only slow the bench down). */
  certs: TlsCert[];
  domain?: string;
  namespaces?: number;
  /** Apps per manifest file; an app is a KIngress with its Services, EndpointSlices and Secret (~4-8 objects). */
  appsPerFile?: number;
  /**
   * KIngresses as Knative's Route writes them: an ExternalIP app's main rule is followed by a ClusterLocal rule with
   * the same paths for `name.ns`, `name.ns.svc` and `name.ns.svc.cluster.local` (default false: one rule, as the
   * bench's figures so far were measured).
   */
  knativeRules?: boolean;
}

/** One Knative Service as its KIngress and revision objects, as Knative Serving would have written them. */
export interface BenchApp {
  index: number;
  namespace: string;
  name: string;
  file: string;
  visibility: 'ExternalIP' | 'ClusterLocal';
  tls: boolean;
  /** Host a request uses to reach the default path (the first host of the first rule). */
  host: string;
  revisions: string[];
  /** Backend port of each revision's endpoints, by revision name. */
  revisionPorts: Map<string, number>;
  ingress: KIngress;
  services: Service[];
  slices: EndpointSlice[];
  secret: Secret | undefined;
}

export interface BenchManifests {
  domain: string;
  apps: BenchApp[];
  /** Objects shared by every app (the activator Service and its endpoints). */
  shared: Array<Service | EndpointSlice>;
  files: Map<string, BenchApp[]>;
}

export const SHARED_FILE = 'shared.yaml';
const CREATED_BASE = Date.parse('2024-01-01T00:00:00Z');
const SPLIT_WEIGHTS: Record<number, number[][]> = {
  1: [[100]],
  2: [[90, 10], [80, 20], [50, 50]],
  3: [[80, 10, 10], [50, 25, 25], [34, 33, 33]],
};

/** N apps, deterministic for a seed: 1-3 hosts, 1-3 weighted splits, ~20% ClusterLocal, ~10% TLS, ~15% tagged. */
export function generateBench(options: GenerateOptions): BenchManifests {
  const random = seededRandom(options.seed);
  const domain = options.domain ?? 'bench.example.com';
  const namespaces = options.namespaces ?? 20;
  const appsPerFile = options.appsPerFile ?? 20;
  const apps: BenchApp[] = [];
  const files = new Map<string, BenchApp[]>();
  for (let index = 0; index < options.count; index++) {
    const file = `apps-${String(Math.floor(index / appsPerFile)).padStart(4, '0')}.yaml`;
    const app = generateApp(index, `bench-${String(index % namespaces).padStart(2, '0')}`, file, domain, options, random);
    apps.push(app);
    files.set(file, [...(files.get(file) ?? []), app]);
  }
  return { domain, apps, shared: activatorObjects(options.ports.activator), files };
}

function generateApp(index: number, namespace: string, file: string, domain: string, options: GenerateOptions, random: Random): BenchApp {
  const name = `svc-${String(index).padStart(5, '0')}`;
  const visibility = random.chance(0.2) ? 'ClusterLocal' : 'ExternalIP';
  const tls = visibility === 'ExternalIP' && random.chance(0.125);
  const tagged = random.chance(0.15);
  const revisionCount = random.pick([1, 1, 1, 1, 2, 2, 2, 3]);
  const revisions = Array.from({ length: revisionCount }, (_, k) => `${name}-${String(k + 1).padStart(5, '0')}`);
  const weights = random.pick(SPLIT_WEIGHTS[revisionCount]!);
  const revisionPorts = new Map(revisions.map((revision) => [revision, random.pick(options.ports.revisions)]));

  const hosts = visibility === 'ClusterLocal'
    ? [`${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}.svc`, `${name}.${namespace}`].slice(0, 1 + random.int(3))
    : [`${name}.${namespace}.${domain}`, ...(random.chance(0.3) ? [`${name}-${namespace}.apps.example.org`] : [])];
  const split = (revision: string, percent: number) => ({
    serviceNamespace: namespace,
    serviceName: revision,
    servicePort: 80,
    percent,
    appendHeaders: { 'Knative-Serving-Revision': revision, 'Knative-Serving-Namespace': namespace },
  });
  const paths: HTTPIngressPath[] = [];
  const rules: IngressRule[] = [];
  if (tagged) {
    // Knative's tag routing: the tag header on the main host, and a host of its own for the tag.
    const tagged = revisions[revisions.length - 1]!;
    paths.push({ headers: { 'Knative-Serving-Tag': { exact: 'latest' } }, splits: [split(tagged, 100)] });
    const tagHost = visibility === 'ClusterLocal' ? `latest-${name}.${namespace}.svc.cluster.local` : `latest-${name}.${namespace}.${domain}`;
    if (hosts.length < 3) rules.push({ hosts: [tagHost], visibility, http: { paths: [{ splits: [split(tagged, 100)] }] } });
  }
  paths.push({ splits: revisions.map((revision, k) => split(revision, weights[k]!)) });
  rules.unshift({ hosts, visibility, http: { paths } });
  if (options.knativeRules && visibility === 'ExternalIP') {
    rules.push({ hosts: [`${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`], visibility: 'ClusterLocal', http: { paths } });
  }

  const secretName = `${name}-tls`;
  const ingress: KIngress = {
    apiVersion: INGRESS_API_VERSION,
    kind: 'Ingress',
    metadata: {
      name,
      namespace,
      generation: 1,
      creationTimestamp: new Date(CREATED_BASE + index * 1000).toISOString().replace('.000Z', 'Z'),
      annotations: { [INGRESS_CLASS_ANNOTATION]: FERRY_INGRESS_CLASS },
      labels: { 'serving.knative.dev/service': name, 'serving.knative.dev/route': name },
    },
    spec: {
      rules,
      ...(tls ? { tls: [{ hosts: [hosts[0]!], secretName, secretNamespace: namespace }] } : {}),
    },
  };
  const services = revisions.map((revision): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: revision, namespace, labels: { 'serving.knative.dev/revision': revision } },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8012 }] },
  }));
  const slices = revisions.map((revision) => revisionSlice(namespace, revision, revisionPorts.get(revision)!, true));
  const cert = options.certs[index % options.certs.length]!;
  const secret: Secret | undefined = tls
    ? { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace }, type: TLS_SECRET_TYPE, data: { 'tls.crt': cert.crt, 'tls.key': cert.key } }
    : undefined;
  return { index, namespace, name, file, visibility, tls, host: hosts[0]!, revisions, revisionPorts, ingress, services, slices, secret };
}

/** The EndpointSlice of a revision: its pod on 127.0.0.1, ready or not (a revision scaled to zero has none ready). */
export function revisionSlice(namespace: string, revision: string, port: number, ready: boolean): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${revision}-bench`, namespace, labels: { [SERVICE_NAME_LABEL]: revision } },
    addressType: 'IPv4',
    endpoints: ready ? [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] : [],
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

/** The activator Service (http and http2 ports) and its one ready endpoint, the backend on 127.0.0.1:port. */
export function activatorObjects(port: number): Array<Service | EndpointSlice> {
  return [
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'activator-service', namespace: 'knative-serving' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8012 }, { name: 'http2', port: 81, targetPort: 8013 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'activator-service-bench', namespace: 'knative-serving', labels: { [SERVICE_NAME_LABEL]: 'activator-service' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }, { name: 'http2', port, protocol: 'TCP' }],
    },
  ];
}

/** The YAML of one manifest file: every object of its apps, one document each. */
export function renderAppsFile(apps: readonly BenchApp[]): string {
  const objects = apps.flatMap((app) => [app.ingress, ...app.services, ...app.slices, ...(app.secret ? [app.secret] : [])]);
  return renderDocuments(objects);
}

function renderDocuments(objects: readonly object[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

export function writeManifests(directory: string, manifests: BenchManifests): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, SHARED_FILE), renderDocuments(manifests.shared));
  for (const [file, apps] of manifests.files) writeFileSync(join(directory, file), renderAppsFile(apps));
}

/**
 * Rewrites the file that holds `app` in place. Not write-aside-and-rename: Node 20's recursive fs.watch on
 * Linux stops reporting a file once it has been replaced by a rename, so Ferry would miss the change.
 */
export function rewriteAppFile(directory: string, manifests: BenchManifests, app: BenchApp): void {
  writeFileSync(join(directory, app.file), renderAppsFile(manifests.files.get(app.file)!));
}

export function countObjects(manifests: BenchManifests): number {
  return manifests.shared.length + manifests.apps.reduce((sum, app) => sum + 1 + app.services.length + app.slices.length + (app.secret ? 1 : 0), 0);
}

/** `node dist/bench/generate.js --count N --out DIR [--seed S]`: writes manifests to look at (ports are placeholders). */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, out: { type: 'string' }, seed: { type: 'string', default: '1' }, 'knative-rules': { type: 'boolean', default: false } } });
  if (!values.out) throw new Error('generate: --out DIR is required (also: --count N, --seed N, --knative-rules)');
  const manifests = generateBench({
    count: Number(values.count), seed: Number(values.seed), ports: { revisions: [18090, 18091, 18092, 18093], activator: 18099 }, certs: generateSelfSignedCerts(2),
    knativeRules: values['knative-rules'],
  });
  writeManifests(values.out, manifests);
  process.stdout.write(`wrote ${countObjects(manifests)} objects (${manifests.apps.length} KIngresses) in ${manifests.files.size + 1} files to ${values.out}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
