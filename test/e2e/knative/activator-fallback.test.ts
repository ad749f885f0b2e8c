import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoClient, startGrpcBackend, type GrpcAnswer, type GrpcBackend } from '../harness/grpc.js';
import { loadLoop, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type BackendAnswer, type FerryUnderTest, type HttpBackend, type LoadLoop } from '../harness/index.js';

const HOST = 'sleepy.default.example.com';
const REVISION = 'sleepy-00001';

const SERVICE = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: sleepy, namespace: default}
spec:
  template:
    metadata: {name: ${REVISION}}
    spec:
      containers: [{image: ghcr.io/knative/helloworld-go:latest}]
`;

/** The revision's public Service, as Knative's revision controller creates it. */
const REVISION_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: ${REVISION}, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: 8012}]
`;

type EndpointsState = 'ready' | 'not-ready' | 'none';

/** The revision's EndpointSlice: its pod ready, present but not ready, or no endpoint at all. */
function revisionEndpoints(port: number, state: EndpointsState, revision = REVISION, portName = 'http'): string {
  const endpoints = state === 'none' ? '[]' : `
  - addresses: [127.0.0.1]
    conditions: {ready: ${state === 'ready'}}`;
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${revision}-abcde
  namespace: default
  labels: {kubernetes.io/service-name: ${revision}}
addressType: IPv4
endpoints: ${endpoints}
ports: [{name: ${portName}, port: ${port}, protocol: TCP}]
`;
}

/** The same states as core v1 Endpoints, the form Knative's serverless-service controller writes. */
function revisionEndpointsV1(port: number, state: EndpointsState): string {
  const subsets = {
    ready: `[{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: ${port}, protocol: TCP}]}]`,
    'not-ready': `[{notReadyAddresses: [{ip: 127.0.0.1}], ports: [{name: http, port: ${port}, protocol: TCP}]}]`,
    none: '[]',
  }[state];
  return `apiVersion: v1
kind: Endpoints
metadata: {name: ${REVISION}, namespace: default}
subsets: ${subsets}
`;
}

/** Knative's activator: HTTP/1 on its http port, h2c on its http2 port. */
function activator(port: number, h2cPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: activator-service, namespace: knative-serving}
spec:
  ports: [{name: http, port: 80, targetPort: 8012}, {name: http2, port: 81, targetPort: 8013}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: activator-service-abcde
  namespace: knative-serving
  labels: {kubernetes.io/service-name: activator-service}
addressType: IPv4
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: true}
ports: [{name: http, port: ${port}}, {name: http2, port: ${h2cPort}}]
`;
}

const GRPC_HOST = 'sleepy-grpc.default.example.com';
const GRPC_REVISION = 'sleepy-grpc-00001';

/** A gRPC Knative Service (container port named h2c) and its revision's public Service (http2, 81). */
const GRPC_SERVICE = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: sleepy-grpc, namespace: default}
spec:
  template:
    metadata: {name: ${GRPC_REVISION}}
    spec:
      containers: [{image: ghcr.io/knative/grpc-ping-go:latest, ports: [{name: h2c, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ${GRPC_REVISION}, namespace: default}
spec:
  ports: [{name: http2, port: 81, targetPort: 8013}]
`;

const SHAPE_STATS = ['cluster_manager.cluster_added', 'cluster_manager.cluster_modified', 'cluster_manager.cluster_removed', 'listener_manager.listener_added', 'listener_manager.listener_modified', 'listener_manager.listener_removed',
  // Nothing but endpoints changed, so nothing but endpoints may be sent.
  'cluster_manager.cds.update_attempt', 'listener_manager.lds.update_attempt'];

// Scale to zero: a revision without ready endpoints falls back to the activator, over EDS only.
describe('activator fallback through Ferry and a real Envoy', () => {
  let revisionBackend: HttpBackend;
  let activatorBackend: HttpBackend;
  let revisionGrpc: GrpcBackend;
  let activatorGrpc: GrpcBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    revisionBackend = await startHttpBackend({ name: 'revision' });
    activatorBackend = await startHttpBackend({ name: 'activator' });
    revisionGrpc = await startGrpcBackend('revision-grpc');
    activatorGrpc = await startGrpcBackend('activator-grpc');
    env = await startFerry({
      manifests: {
        'service.yaml': SERVICE,
        'revision.yaml': REVISION_SERVICE,
        'revision-endpoints.yaml': revisionEndpoints(revisionBackend.port, 'ready'),
        'activator.yaml': activator(activatorBackend.port, activatorGrpc.port),
        'grpc-service.yaml': GRPC_SERVICE,
        'grpc-revision-endpoints.yaml': revisionEndpoints(revisionGrpc.port, 'ready', GRPC_REVISION, 'http2'),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([revisionBackend?.close(), activatorBackend?.close(), revisionGrpc?.close(), activatorGrpc?.close()]);
    await stopAllEnvoys();
  });

  const shapeStats = async (): Promise<Record<string, number>> =>
    Object.fromEntries(await Promise.all(SHAPE_STATS.map(async (name) => [name, await env.envoy.admin.stat(name)] as const)));

  /** Waits until the next answers come from `backend` (after a flip has been written). */
  const answeredBy = (backend: string) => waitFor(async () => {
    const result = await request(env.ports.external.http, HOST, '/wake');
    return result.status === 200 && (JSON.parse(result.body) as BackendAnswer).backend === backend ? (JSON.parse(result.body) as BackendAnswer) : undefined;
  }, 10_000, `answers from ${backend}`);

  /** Waits until every loop has seen `more` further answers from `backend`. */
  const moreAnswersFrom = async (loops: LoadLoop[], backend: string, more: number) => {
    const start = loops.map((loop) => loop.countBy(backend));
    await waitFor(() => loops.every((loop, i) => loop.countBy(backend) >= start[i]! + more), 15_000, `${more} more answers from ${backend} on every loop`);
  };

  it('sends traffic to the revision while it has ready endpoints', async () => {
    const answer = await answeredBy('revision');
    expect(answer.headers['knative-serving-revision']).toBe(REVISION);
  });

  it('flips between the revision and the activator with no failed request and no re-created listener or cluster', { timeout: 60_000 }, async () => {
    await answeredBy('revision');
    const statsBefore = await shapeStats();
    expect(statsBefore['cluster_manager.cluster_added']).toBeGreaterThan(0);
    expect(statsBefore['listener_manager.listener_added']).toBeGreaterThan(0);

    // One loop on fresh connections, one on kept-alive connections.
    const loops = [
      loopOn(env, false),
      loopOn(env, true),
    ];
    try {
      await moreAnswersFrom(loops, 'revision', 20);
      for (const scaledToZero of ['not-ready', 'none'] as const) {
        await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, scaledToZero));
        const woken = await answeredBy('activator');
        // The activator learns whom to wake from these headers.
        expect(woken.headers['knative-serving-revision']).toBe(REVISION);
        expect(woken.headers['knative-serving-namespace']).toBe('default');
        expect(woken.headers.host).toBe(HOST);
        await moreAnswersFrom(loops, 'activator', 20);

        await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'ready'));
        await answeredBy('revision');
        await moreAnswersFrom(loops, 'revision', 20);
      }
    } finally {
      const results = await Promise.all(loops.map((loop) => loop.stop()));
      expect(results.flatMap((result) => result.failures)).toEqual([]);
      expect(results.every((result) => result.sent > 0)).toBe(true);
    }
    expect(await shapeStats()).toEqual(statsBefore);
  });

  it('uses activator endpoints that appear while the revision is scaled to zero', async () => {
    await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'none'));
    const otherActivator = await startHttpBackend({ name: 'activator-2' });
    try {
      await env.writeManifest('activator.yaml', activator(otherActivator.port, activatorGrpc.port));
      const answer = await answeredBy('activator-2');
      expect(answer.headers['knative-serving-revision']).toBe(REVISION);
    } finally {
      await env.writeManifest('activator.yaml', activator(activatorBackend.port, activatorGrpc.port));
      await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'ready'));
      await otherActivator.close();
    }
    await answeredBy('revision');
  });

  it('lets requests in flight to the revision finish when it flips to the activator', async () => {
    const slowRevision = await startHttpBackend({ name: 'slow-revision', delayMs: 3_000 });
    try {
      await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(slowRevision.port, 'ready'));
      await answeredBy('slow-revision');
      const before = slowRevision.requests;
      const inFlight = Array.from({ length: 4 }, (_, i) => request(env.ports.external.http, HOST, `/in-flight-${i}`));
      await waitFor(() => slowRevision.requests >= before + 4, 10_000, 'the slow requests to reach the revision');
      await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(slowRevision.port, 'none'));
      await answeredBy('activator');
      const results = await Promise.all(inFlight);
      expect(results.map((result) => [result.status, (JSON.parse(result.body) as BackendAnswer).backend])).toEqual(Array.from({ length: 4 }, () => [200, 'slow-revision']));
    } finally {
      await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'ready'));
      await slowRevision.close();
    }
    await answeredBy('revision');
  });

  it('follows core v1 Endpoints the same way', async () => {
    for (const [state, backend] of [['ready', 'revision'], ['not-ready', 'activator'], ['ready', 'revision'], ['none', 'activator']] as const) {
      await env.writeManifest('revision-endpoints.yaml', revisionEndpointsV1(revisionBackend.port, state));
      const answer = await answeredBy(backend);
      expect(answer.headers['knative-serving-revision']).toBe(REVISION);
    }
    await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'ready'));
    await answeredBy('revision');
  });

  it('falls back to the activator when the revision endpoints are deleted, and returns when they come back', async () => {
    rmSync(join(env.dir, 'revision-endpoints.yaml'));
    await env.ferry.files!.rescan();
    await answeredBy('activator');
    // A client cannot make the activator wake another revision: the route overwrites these headers.
    const spoofed = await request(env.ports.external.http, HOST, '/', { 'Knative-Serving-Revision': 'someone-else', 'Knative-Serving-Namespace': 'kube-system' });
    const answer = JSON.parse(spoofed.body) as BackendAnswer;
    expect(answer).toMatchObject({ backend: 'activator', headers: { 'knative-serving-revision': REVISION, 'knative-serving-namespace': 'default' } });
    await env.writeManifest('revision-endpoints.yaml', revisionEndpoints(revisionBackend.port, 'ready'));
    await answeredBy('revision');
  });

  it('sends gRPC of an h2c revision scaled to zero to the activator over h2c, and back', async () => {
    const client = echoClient(env.ports.external.http, GRPC_HOST);
    const grpcAnsweredBy = (backend: string) => waitFor(async () => {
      const answer = await client.echo({ message: 'wake' });
      return answer.backend === backend ? answer : undefined;
    }, 10_000, `gRPC answers from ${backend}`);
    try {
      await grpcAnsweredBy('revision-grpc');
      await env.writeManifest('grpc-revision-endpoints.yaml', revisionEndpoints(revisionGrpc.port, 'none', GRPC_REVISION, 'http2'));
      const woken: GrpcAnswer = await grpcAnsweredBy('activator-grpc');
      expect(woken.metadata['knative-serving-revision']).toBe(GRPC_REVISION);
      expect(woken.metadata['knative-serving-namespace']).toBe('default');
      await env.writeManifest('grpc-revision-endpoints.yaml', revisionEndpoints(revisionGrpc.port, 'ready', GRPC_REVISION, 'http2'));
      await grpcAnsweredBy('revision-grpc');
    } finally {
      client.close();
    }
  });
});

function loopOn(env: FerryUnderTest, keepAlive: boolean): LoadLoop {
  return loadLoop({ port: env.ports.external.http, host: HOST, durationMs: 50_000, maxRequests: 1_000_000, concurrency: 2, keepAlive });
}
