import fc from 'fast-check';

/**
 * fast-check generators of Knative manifests: mostly what a user or Knative would write, mixed with what a hostile
 * or careless one would (odd hosts, header names and values, percents, paths, ports, addresses, Unicode). Each
 * generated object is in namespace `default`; a batch moves each into a namespace of its own (inNamespace).
 */

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const dnsName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const oddText = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }));

export const host = fc.oneof(
  { weight: 150, arbitrary: dnsName.map((name) => `${name}.example.com`) },
  dnsName.map((name) => `${name.toUpperCase()}.Example.com`),
  dnsName.map((name) => `*.${name}.example.com`),
  dnsName.map((name) => `${name}.example.com:8080`),
  dnsName.map((name) => `${name}.example.com.`),
  dnsName.map((name) => `${name}.svc.cluster.local`),
  fc.constantFrom('', ' ', '*', 'a*b.example.com', 'a b.example.com', 'line\nbreak.example.com', 'tab\t.example.com', '[::1]', '127.0.0.1',
    'xn--bcher-kva.example', 'bücher.example', 'zero\u200bwidth.example.com', 'rtl\u202emoc.example', '\u0000nul.example.com', 'a'.repeat(300), '.leading.dot', 'double..dot.com', '-dash.com'),
  oddText,
);

export const headerName = fc.oneof(
  { weight: 150, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/) },
  fc.constantFrom('Host', 'host', ':authority', ':path', ':method', 'K-Network-Hash', 'x-ferry-gateway', 'Content-Length', 'Transfer-Encoding',
    'Connection', 'a b', 'a:b', 'a\nb', 'ÄÖÜ', 'x'.repeat(300), ''),
  oddText,
);

export const headerValue = fc.oneof(
  { weight: 150, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/) },
  fc.constantFrom('', ' ', 'a\r\nInjected: yes', 'nul\u0000', 'tab\tvalue', 'ünïcödé', '😀', 'x'.repeat(5000)),
  oddText,
);

const path = fc.oneof(
  { weight: 150, arbitrary: fc.stringMatching(/^\/[a-z0-9/_-]{0,12}$/) },
  fc.constantFrom(undefined, '', '/', 'no-slash', '/a b', '/%zz', '/ünï', '/a\nb', '/a?b=c', '/a#b', '//double', '/*', '/a\u0000'),
  oddText,
);

const port = fc.oneof({ weight: 80, arbitrary: fc.constantFrom(80, 'http', 'h2c') }, fc.constantFrom(8080, 0, -1, 65536, 'nope', 1.5));
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 3 });

/** Percents that add up to 100 most of the time (so that many generated paths pass validation), else anything. */
const percents = (count: number) => fc.oneof(
  { weight: 60, arbitrary: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: count - 1, maxLength: count - 1 }).map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 100];
    return sorted.slice(1).map((end, i) => end - sorted[i]!);
  }) },
  fc.array(fc.oneof(fc.integer({ min: -10, max: 120 }), fc.constantFrom(33.3, '50', null, undefined)), { minLength: count, maxLength: count }),
);

const splits = fc.integer({ min: 1, max: 3 }).chain((count) => fc.tuple(
  fc.array(fc.record({
    serviceNamespace: fc.oneof({ weight: 100, arbitrary: fc.constant('default') }, fc.constantFrom('Default', 'no such', '')),
    serviceName: fc.oneof({ weight: 40, arbitrary: fc.constantFrom('svc-a', 'svc-h2', 'svc-ext', 'svc-empty') }, label, oddText),
    servicePort: port,
    appendHeaders: fc.option(headers, { nil: undefined }),
  }, { requiredKeys: ['serviceNamespace', 'serviceName', 'servicePort'] }), { minLength: count, maxLength: count }),
  percents(count),
).map(([list, shares]) => list.map((split, i) => (shares[i] === undefined ? split : { ...split, percent: shares[i] }))));

const httpPath = fc.record({
  path,
  headers: fc.option(fc.dictionary(headerName, fc.record({ exact: headerValue }), { maxKeys: 2 }), { nil: undefined }),
  splits,
  rewriteHost: fc.option(host, { nil: undefined, freq: 6 }),
  appendHeaders: fc.option(headers, { nil: undefined }),
}, { requiredKeys: ['splits'] });

const rule = fc.record({
  hosts: fc.array(host, { minLength: 1, maxLength: 3 }),
  visibility: fc.oneof({ weight: 80, arbitrary: fc.constantFrom('ExternalIP', 'ClusterLocal', undefined) }, fc.constant('Public')),
  http: fc.record({ paths: fc.array(httpPath, { minLength: 1, maxLength: 3 }) }),
}, { requiredKeys: ['hosts', 'http'] });

const tls = fc.record({ hosts: fc.array(host, { minLength: 1, maxLength: 2 }), secretName: fc.constantFrom('cert', 'missing'), secretNamespace: fc.constant('default') });

export const kingress = fc.record({
  name: label,
  rules: fc.array(rule, { minLength: 1, maxLength: 3 }),
  httpOption: fc.oneof({ weight: 80, arbitrary: fc.constantFrom(undefined, 'Enabled', 'Redirected') }, fc.constant('Sometimes')),
  tls: fc.option(fc.array(tls, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 3 }),
}).map(({ name, rules, httpOption, tls: tlsList }) => ({
  apiVersion: 'networking.internal.knative.dev/v1alpha1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', annotations: { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' } },
  spec: { rules, ...(httpOption ? { httpOption } : {}), ...(tlsList ? { tls: tlsList } : {}) },
}));

const address = fc.oneof({ weight: 100, arbitrary: fc.ipV4() }, fc.ipV6(), fc.constantFrom('999.1.1.1', 'not-an-ip', '', '10.0.0.1/24', 'fe80::1%eth0', '::ffff:10.0.0.1'));

/** The Services the generated KIngresses name, with endpoints of generated addresses and ports. */
export const backends = fc.record({
  addresses: fc.array(address, { minLength: 0, maxLength: 3 }),
  targetPort: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 65535 }) }, fc.constantFrom(0, 70000)),
  externalName: host,
}).map(({ addresses, targetPort, externalName }) => [
  service('svc-a', { ports: [{ name: 'http', port: 80, targetPort }] }),
  service('svc-h2', { ports: [{ name: 'h2c', port: 80, targetPort }] }),
  service('svc-ext', { type: 'ExternalName', externalName, ports: [{ name: 'http', port: 80 }] }),
  service('svc-empty', { ports: [{ name: 'http', port: 80 }] }),
  ...['svc-a', 'svc-h2'].map((name) => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: name === 'svc-a' ? 'http' : 'h2c', port: targetPort }],
  })),
]);

function service(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

/** One input of a batch: a KIngress and the backends it names, as one manifest file's documents. */
export const manifestInput = fc.tuple(kingress, backends).map(([ingress, objects]) => [ingress, ...objects]);

/** The objects of one input moved into their own namespace, so that inputs of a batch do not overwrite each other. */
export function inNamespace(objects: ReadonlyArray<Record<string, any>>, namespace: string): Array<Record<string, any>> {
  return JSON.parse(JSON.stringify(objects, (key, value) => ((key === 'namespace' || key === 'serviceNamespace' || key === 'secretNamespace') && value === 'default' ? namespace : value)));
}

/** Any JSON at all under the fields Ferry reads, for every kind it reads: validation must answer, never throw. */
export const anyManifest = fc.record({
  apiVersion: fc.constantFrom('networking.internal.knative.dev/v1alpha1', 'serving.knative.dev/v1', 'networking.internal.knative.dev/v1alpha1', 'v1', 'discovery.k8s.io/v1', 'serving.knative.dev/v1beta1'),
  kind: fc.constantFrom('Ingress', 'Service', 'Route', 'DomainMapping', 'ClusterDomainClaim', 'EndpointSlice', 'Endpoints', 'Secret', 'ConfigMap'),
  metadata: fc.oneof(fc.record({ name: fc.oneof(label, fc.jsonValue()), namespace: fc.oneof(fc.constant('knative-serving'), label, fc.jsonValue()) }), fc.jsonValue()),
  spec: fc.jsonValue(),
  status: fc.jsonValue(),
  data: fc.oneof(fc.dictionary(fc.constantFrom('tls.crt', 'tls.key', 'domain-template', 'example.com', '_example', 'autocreate-cluster-domain-claims'), fc.oneof(fc.string(), fc.jsonValue())), fc.jsonValue()),
  type: fc.constantFrom('kubernetes.io/tls', 'Opaque', undefined),
  subsets: fc.jsonValue(),
  endpoints: fc.jsonValue(),
  addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN', 'Other'),
  ports: fc.jsonValue(),
}, { requiredKeys: ['apiVersion', 'kind', 'metadata'] });

/** A well-formed object of each kind Ferry reads, to be broken in one place by `mutated`. */
const SEEDS: ReadonlyArray<Record<string, any>> = [
  { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'ksvc', namespace: 'default' },
    spec: { template: { metadata: { name: 'ksvc-00001' }, spec: { containers: [{ image: 'x', ports: [{ name: 'h2c', containerPort: 8080 }] }] } }, traffic: [{ latestRevision: true, percent: 100, tag: 'cur' }] } },
  { apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'route', namespace: 'default', labels: { 'networking.knative.dev/visibility': 'cluster-local' } },
    spec: { traffic: [{ revisionName: 'r-00001', percent: 60 }, { configurationName: 'r', percent: 40, tag: 'next' }] } },
  { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: 'shop.example.org', namespace: 'default' },
    spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'ksvc' }, tls: { secretName: 'cert' } } },
  { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'ClusterDomainClaim', metadata: { name: 'shop.example.org' }, spec: { namespace: 'default' } },
  { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'svc-a', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'http', port: 8080 }] }] },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-network', namespace: 'knative-serving' }, data: { 'domain-template': '{{.Name}}.{{.Namespace}}.{{.Domain}}', 'http-protocol': 'Redirected' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-domain', namespace: 'knative-serving' }, data: { 'example.com': '', 'svc.cluster.local': 'selector:\n  app: secret\n' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-features', namespace: 'knative-serving' }, data: { 'autocreate-cluster-domain-claims': 'true' } },
];

function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [at];
  const children = Object.entries(value).flatMap(([key, item]) => paths(item, [...at, Array.isArray(value) ? Number(key) : key]));
  return at.length === 0 ? children : [at, ...children];
}

function replaced(value: Record<string, any>, path: Array<string | number>, by: unknown): Record<string, any> {
  const copy = structuredClone(value);
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  parent[path[path.length - 1]!] = by;
  return copy;
}

/** A well-formed object (generated KIngress or a seed of another kind) with one of its fields replaced by any JSON. */
export const mutated = fc.tuple(fc.oneof(kingress, fc.constantFrom(...SEEDS)), fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([object, by, pick]) => {
  const all = paths(object);
  return replaced(object, all[pick % all.length]!, by);
});
