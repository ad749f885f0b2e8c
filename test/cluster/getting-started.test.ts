import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../src/envoy/bootstrap.js';
import { CONFORMANCE_IMAGE_REPOSITORY, EXTERNAL_GATEWAY_ADDRESS, startKnativeCluster, type KnativeCluster } from './knative-cluster.js';

/*
 * Knative's getting-started session, replayed against Ferry with Knative Serving's own components
 * (test/cluster/knative-cluster.ts): kubectl apply of hello-world.yaml, everything Ready as kubectl and kn show it,
 * curl through the external and the cluster-local gateway, scale to zero and back through the activator, a
 * DomainMapping without and then with its ClusterDomainClaim, and the second revision taking all traffic with no
 * failed request on the way. The steps share one cluster and run in order, as a person would type them.
 */

const EXAMPLES = join(repositoryRoot(), 'examples', 'getting-started');
const HELLO_HOST = 'hello.default.example.com';

let cluster: KnativeCluster;

beforeAll(async () => {
  cluster = await startKnativeCluster({
    // Scale to zero within seconds instead of Knative's default 60 s window + 30 s grace: an operator's config-autoscaler.
    configAutoscaler: { 'stable-window': '6s', 'scale-to-zero-grace-period': '6s' },
  });
}, 360_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(cluster?.logTails(60)));
});

async function kubectl(args: readonly string[], stdin?: string): Promise<string> {
  const result = await cluster.kubectl(args, stdin);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function kn(args: readonly string[]): Promise<string> {
  const result = await cluster.kn(args);
  if (result.code !== 0) throw new Error(`kn ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** curl from the cluster's client namespace; the body, or `HTTP <code>` when it is not 200. */
async function curl(args: readonly string[]): Promise<string> {
  const result = await cluster.curl(['-w', '\n%{http_code}', ...args]);
  if (result.code !== 0) throw new Error(`curl ${args.join(' ')}: ${result.stderr}`);
  const lines = result.stdout.trimEnd().split('\n');
  const code = lines.pop();
  return code === '200' ? lines.join('\n').trimEnd() : `HTTP ${code}`;
}

const viaExternalGateway = (host: string): Promise<string> => curl(['-H', `Host: ${host}`, `http://${EXTERNAL_GATEWAY_ADDRESS}/`]);

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | Error | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(500);
  }
}

/** The table kubectl/kn printed, as rows of named columns. */
function table(output: string): Array<Record<string, string>> {
  const [header, ...rows] = output.trim().split('\n').filter((line) => line.trim() !== '');
  const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index! }));
  return rows.map((row) => Object.fromEntries(starts.map((col, i) => [col.name, row.slice(col.at, starts[i + 1]?.at ?? undefined).trim()])));
}

describe('Knative getting-started, against Ferry and Knative Serving\'s own components', () => {
  it('kubectl apply -f hello-world.yaml: Configuration, Revision, Route and KIngress Ready, kn shows the URL', async () => {
    await kubectl(['apply', '-f', join(EXAMPLES, 'hello-world.yaml')]);
    await kubectl(['wait', '--for=condition=Ready', '--timeout=180s', 'ksvc/hello']);

    const resources = await kubectl(['get', 'configuration,revision,route,kingress', '-o', 'json']);
    const items = (JSON.parse(resources) as { items: Array<{ kind: string; metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }> }).items;
    expect(items.map((i) => `${i.kind}/${i.metadata.name}`).sort()).toEqual(['Configuration/hello', 'Ingress/hello', 'Revision/hello-world', 'Route/hello']);
    for (const item of items) expect(item.status?.conditions?.find((c) => c.type === 'Ready')?.status, `${item.kind}/${item.metadata.name} Ready`).toBe('True');

    const services = table(await kn(['service', 'list']));
    expect(services).toEqual([expect.objectContaining({ NAME: 'hello', URL: `http://${HELLO_HOST}`, LATEST: 'hello-world', READY: 'True' })]);
    const revisions = table(await kn(['revision', 'list']));
    expect(revisions).toEqual([expect.objectContaining({ NAME: 'hello-world', SERVICE: 'hello', TRAFFIC: '100%', READY: 'True' })]);
    const routes = table(await kn(['route', 'list']));
    expect(routes).toEqual([expect.objectContaining({ NAME: 'hello', URL: `http://${HELLO_HOST}`, READY: 'True' })]);
    const described = await kn(['route', 'describe', 'hello']);
    expect(described).toMatch(/URL:\s+http:\/\/hello\.default\.example\.com/);
    expect(described).toMatch(/\+\s+IngressReady/);
    const route = JSON.parse(await kubectl(['get', 'route', 'hello', '-o', 'json'])) as { status: { conditions: Array<{ type: string; status: string }> } };
    expect(route.status.conditions.find((c) => c.type === 'IngressReady')?.status).toBe('True');

    // The KIngress is Ferry's, and Ferry wrote its status: both gateways, by their cluster-local names.
    const kingress = JSON.parse(await kubectl(['get', 'kingress', 'hello', '-o', 'json'])) as { metadata: { annotations: Record<string, string> }; status: Record<string, { ingress: Array<{ domainInternal: string }> }> };
    expect(kingress.metadata.annotations['networking.knative.dev/ingress.class']).toBe('ferry.ingress.networking.knative.dev');
    expect(kingress.status.publicLoadBalancer!.ingress[0]!.domainInternal).toBe('ferry.ferry-system.svc.cluster.local');
    expect(kingress.status.privateLoadBalancer!.ingress[0]!.domainInternal).toBe('ferry-internal.ferry-system.svc.cluster.local');
  });

  it('curl answers Hello World! through the external gateway and through the cluster-local gateway', async () => {
    expect(await viaExternalGateway(HELLO_HOST)).toBe('Hello World!');
    // hello.default.svc.cluster.local is the Route's ExternalName Service, which names Ferry's local gateway.
    expect(await eventually('hello.default.svc.cluster.local served', () => curl(['http://hello.default.svc.cluster.local/']), (body) => body === 'Hello World!', 30_000)).toBe('Hello World!');
    // The local gateway does not serve the public host, and the external one does not serve the cluster-local one.
    expect(await curl(['-H', 'Host: hello.default.svc.cluster.local', `http://${EXTERNAL_GATEWAY_ADDRESS}/`])).toBe('HTTP 404');
  });

  it('scales to zero, and the next request wakes it through the activator', async () => {
    // Scaled to zero: the PodAutoscaler says NoTraffic, no Pod runs, and the public Service points at the activator.
    await eventually('hello-world scaled to zero', async () => JSON.parse(await kubectl(['get', 'kpa', 'hello-world', '-o', 'json'])) as {
      status?: { actualScale?: number; conditions?: Array<{ type: string; status: string; reason?: string }> };
    }, (kpa) => kpa.status?.actualScale === 0 && kpa.status.conditions?.find((c) => c.type === 'Active')?.reason === 'NoTraffic', 180_000);
    await eventually('no hello-world pod', async () => cluster.node.runningPods().filter((key) => key.startsWith('default/hello-world-')), (pods) => pods.length === 0, 120_000);
    const sks = JSON.parse(await kubectl(['get', 'sks', 'hello-world', '-o', 'json'])) as { spec: { mode: string } };
    expect(sks.spec.mode).toBe('Proxy');
    const activatorIp = (JSON.parse(await kubectl(['get', 'pods', '-n', 'knative-serving', '-l', 'app=activator', '-o', 'json'])) as { items: Array<{ status: { podIP: string } }> }).items[0]!.status.podIP;
    const endpoints = JSON.parse(await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=hello-world', '-o', 'json'])) as { items: Array<{ endpoints?: Array<{ addresses: string[] }> }> };
    expect(endpoints.items.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses)).toEqual([activatorIp]);

    const started = Date.now();
    expect(await viaExternalGateway(HELLO_HOST)).toBe('Hello World!');
    const coldStartMs = Date.now() - started;
    // The gateway could only reach the activator, which held the request while the autoscaler scaled the revision up
    // and a Pod started.
    expect(cluster.node.runningPods().filter((key) => key.startsWith('default/hello-world-'))).toHaveLength(1);
    const kpa = JSON.parse(await kubectl(['get', 'kpa', 'hello-world', '-o', 'json'])) as { status: { desiredScale: number } };
    expect(kpa.status.desiredScale).toBeGreaterThanOrEqual(1);
    console.log(`scale from zero through the activator: ${coldStartMs} ms`);
  });

  it('kn domain create: not served without a ClusterDomainClaim, served once claims are auto-created', async () => {
    await kn(['domain', 'create', 'hello.cropy.cn', '--ref', 'ksvc:hello']);
    const notReady = await eventually('DomainMapping reports the missing claim', async () => JSON.parse(await kubectl(['get', 'domainmapping', 'hello.cropy.cn', '-o', 'json'])) as {
      status?: { conditions?: Array<{ type: string; status: string; reason?: string }> };
    }, (dm) => dm.status?.conditions?.some((c) => c.type === 'DomainClaimed' && c.status === 'False') ?? false, 60_000);
    expect(notReady.status!.conditions!.find((c) => c.type === 'DomainClaimed')!.reason).toBe('DomainAlreadyClaimed');
    expect(notReady.status!.conditions!.find((c) => c.type === 'Ready')!.status).not.toBe('True');
    expect(await viaExternalGateway('hello.cropy.cn')).toBe('HTTP 404');

    await kubectl(['patch', 'configmap', 'config-network', '-n', 'knative-serving', '--type', 'merge', '-p', '{"data":{"autocreate-cluster-domain-claims":"true"}}']);
    await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'domainmapping/hello.cropy.cn']);
    expect(await kubectl(['get', 'clusterdomainclaim', 'hello.cropy.cn', '-o', 'jsonpath={.spec.namespace}'])).toBe('default');
    expect(await eventually('hello.cropy.cn served', () => viaExternalGateway('hello.cropy.cn'), (body) => body === 'Hello World!', 30_000)).toBe('Hello World!');
  });

  it('kubectl apply -f hello-world-002.yaml: all traffic moves to hello-world-002 with no failed request', async () => {
    // Requests one after another through the external gateway while the new revision rolls out.
    const codes: string[] = [];
    const bodies = new Set<string>();
    let rolling = true;
    const loop = (async () => {
      while (rolling && codes.length < 20_000) {
        const result = await cluster.curl(['-s', '-w', '\n%{http_code}', '-H', `Host: ${HELLO_HOST}`, `http://${EXTERNAL_GATEWAY_ADDRESS}/`]);
        const lines = result.stdout.trimEnd().split('\n');
        codes.push(result.code === 0 ? lines.pop()! : `curl exit ${result.code}`);
        bodies.add(lines.join('\n').trimEnd());
      }
    })();
    await kubectl(['apply', '-f', join(EXAMPLES, 'hello-world-002.yaml')]);
    await eventually('hello-world-002 takes all traffic', async () => JSON.parse(await kubectl(['get', 'ksvc', 'hello', '-o', 'json'])) as {
      status?: { latestReadyRevisionName?: string; traffic?: Array<{ revisionName: string; percent: number }>; conditions?: Array<{ type: string; status: string }> };
    }, (ksvc) => ksvc.status?.latestReadyRevisionName === 'hello-world-002' && ksvc.status.traffic?.[0]?.revisionName === 'hello-world-002'
      && ksvc.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 180_000);
    await eventually('the gateway serves hello-world-002', () => viaExternalGateway(HELLO_HOST), (body) => body === 'Hello World-002!', 30_000);
    rolling = false;
    await loop;
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((code) => code !== '200')).toEqual([]);
    expect([...bodies].sort()).toEqual(['Hello World!', 'Hello World-002!']);

    const revisions = table(await kn(['revision', 'list']));
    expect(revisions.find((r) => r.NAME === 'hello-world-002')).toEqual(expect.objectContaining({ TRAFFIC: '100%', READY: 'True' }));
    expect(revisions.find((r) => r.NAME === 'hello-world')?.TRAFFIC ?? '').toBe('');
    console.log(`rollout to hello-world-002: ${codes.length} requests, all 200`);
  });
});

describe('Knative\'s ingress conformance suite (knative.dev/networking test/conformance/ingress) against Ferry', () => {
  it('passes every stable, beta and alpha test', async () => {
    for (const namespace of ['serving-tests', 'serving-tests-alt']) await kubectl(['create', 'namespace', namespace]);
    // The suite's own binary, built from Knative's module, in the cluster network; its test images run as Pods.
    const result = await cluster.inCluster(join(cluster.tools.KNATIVE_CONFORMANCE_BIN, 'ingress.test'), [
      '-test.v', '-test.timeout', '15m', '-ingressClass', 'ferry.ingress.networking.knative.dev', '-enable-beta', '-enable-alpha',
      '-dockerrepo', CONFORMANCE_IMAGE_REPOSITORY, '-tag', 'latest',
    ], 16 * 60_000);
    const outcomes = new Map<string, string>();
    for (const match of result.stdout.matchAll(/^ {4}--- (PASS|FAIL|SKIP): TestIngressConformance\/(\S+)/gm)) outcomes.set(match[2]!, match[1]!);
    const summary = [...outcomes].map(([name, outcome]) => `${outcome} ${name}`).sort().join('\n');
    console.log(`Knative ingress conformance against Ferry:\n${summary}`);
    if (result.code !== 0) console.error(result.stdout.split('\n').filter((line) => !line.includes('Endpoints is deprecated')).slice(-200).join('\n'));
    // run.go's lists: 22 stable (grouped here by top-level name), 2 beta, 1 alpha.
    for (const name of ['basics', 'basics/http2', 'grpc', 'grpc/split', 'headers/pre-split', 'headers/post-split', 'headers/probe', 'hosts/multiple',
      'dispatch/path', 'dispatch/percentage', 'dispatch/path_and_percentage', 'dispatch/rule', 'retry', 'timeout', 'tls', 'update', 'visibility',
      'visibility/split', 'visibility/path', 'ingressclass', 'websocket', 'websocket/split', 'host-rewrite', 'headers/tags', 'httpoption']) {
      expect(outcomes.get(name), name).toBe('PASS');
    }
    expect(result.code).toBe(0);
  }, 17 * 60_000);
});
