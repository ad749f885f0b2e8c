import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOf, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from './harness/index.js';
import { configMapManifest, serviceWithEndpoints } from './harness/manifests.js';
import { startOtlpGrpcReceiver, startOtlpHttpReceiver, type OtlpReceiver, type ReceivedSpan } from './harness/otlp-receiver.js';

/** Two revisions of one Route, half the traffic each, with the headers Knative's Route translation sets per split. */
const INGRESS = `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: traced
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  rules:
  - hosts: [traced.example.com]
    visibility: ExternalIP
    http:
      paths:
      - path: /slow
        splits:
        - serviceNamespace: default
          serviceName: traced-slow
          servicePort: 80
          percent: 100
      - splits:
        - serviceNamespace: default
          serviceName: traced-00001
          servicePort: 80
          percent: 50
          appendHeaders: {Knative-Serving-Revision: traced-00001, Knative-Serving-Namespace: default}
        - serviceNamespace: default
          serviceName: traced-00002
          servicePort: 80
          percent: 50
          appendHeaders: {Knative-Serving-Revision: traced-00002, Knative-Serving-Namespace: default}
`;

// Envoy's OpenTelemetry tracer exports its spans in batches, at the latest every 5 s: a span not there after this
// never comes.
const EXPORT_WAIT_MS = 8_000;

describe('tracing (config-ferry) through Ferry, a real Envoy and OTLP receivers', () => {
  const backends: HttpBackend[] = [];
  let grpcCollector: OtlpReceiver;
  let httpCollector: OtlpReceiver;
  let env: FerryUnderTest;
  let http: number;
  let requestCount = 0;

  async function setOptions(data: Record<string, string>): Promise<void> {
    await env.writeManifest('config-ferry.yaml', configMapManifest('config-ferry', data));
  }

  /** A request with a path of its own, and the span whose URL names that path once `collector` has it. */
  async function tracedRequest(collector: OtlpReceiver, headers: Record<string, string> = {}): Promise<{ backend: string | undefined; span: ReceivedSpan | undefined }> {
    const path = `/request-${(requestCount += 1)}`;
    const answer = await request(http, 'traced.example.com', path, headers);
    expect(answer.status).toBe(200);
    const span = await waitFor(() => collector.spans.find((s) => s.attributes['http.url']?.endsWith(path)), EXPORT_WAIT_MS, `the span of ${path}`).catch(() => undefined);
    return { backend: backendOf(answer), span };
  }

  beforeAll(async () => {
    backends.push(await startHttpBackend({ name: 'traced-00001' }), await startHttpBackend({ name: 'traced-00002' }), await startHttpBackend({ name: 'traced-slow', delayMs: 3_000 }));
    grpcCollector = await startOtlpGrpcReceiver();
    httpCollector = await startOtlpHttpReceiver();
    env = await startFerry({
      manifests: {
        'services.yaml': backends.map((backend) => serviceWithEndpoints(backend.name, backend.port)).join('---\n'),
        'ingress.yaml': INGRESS,
      },
      drainTimeSeconds: 60,
    });
    http = env.ports.external.http;
    await waitFor(async () => (await request(http, 'traced.example.com')).status === 200, 30_000, 'traced.example.com served');
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await Promise.all([...backends.map((backend) => backend.close()), grpcCollector?.close(), httpCollector?.close()]);
    await stopAllEnvoys();
  });

  it('OTLP/gRPC: each request\'s span names the revision and namespace of the split that served it; a request in flight across the change completes', async () => {
    const inFlight = request(http, 'traced.example.com', '/slow');
    await setOptions({ 'tracing-otlp-address': `127.0.0.1:${grpcCollector.port}`, 'tracing-service-name': 'ferry-e2e' });
    await waitFor(async () => (await tracedRequest(grpcCollector)).span, 60_000, 'a first span over OTLP/gRPC');
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i += 1) {
      const { backend, span } = await tracedRequest(grpcCollector);
      expect(span, `the span of request ${requestCount}`).toBeDefined();
      expect(span!.attributes['knative.revision.name']).toBe(backend);
      expect(span!.attributes['knative.revision.namespace']).toBe('default');
      expect(span!.resource['service.name']).toBe('ferry-e2e');
      expect(span!.via).toBe('grpc');
      seen.add(backend!);
    }
    // Both splits served (and were named) within the bounded number of requests: 1 in 2^11 that one never does.
    expect([...seen].sort()).toEqual(['traced-00001', 'traced-00002']);
    // A client's W3C trace context is continued: the gateway's span joins the client's trace.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { span } = await tracedRequest(grpcCollector, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(span?.traceId).toBe(traceId);
    expect((await inFlight).status).toBe(200);
  }, 120_000);

  it('OTLP/HTTP: spans posted as protobuf to /v1/traces; the gRPC collector gets no more', async () => {
    await setOptions({ 'tracing-otlp-address': `127.0.0.1:${httpCollector.port}`, 'tracing-otlp-protocol': 'http' });
    await waitFor(async () => (await tracedRequest(httpCollector)).span, 60_000, 'a first span over OTLP/HTTP');
    const grpcBefore = grpcCollector.spans.length;
    const { backend, span } = await tracedRequest(httpCollector);
    expect(span).toMatchObject({ via: 'application/x-protobuf', attributes: { 'knative.revision.name': backend, 'knative.revision.namespace': 'default' }, resource: { 'service.name': 'ferry-gateway' } });
    // The switch is complete once the old listener's batch is flushed: the span of a request after it never reaches gRPC.
    expect(grpcCollector.spans.slice(grpcBefore).some((s) => s.attributes['http.url']?.endsWith(`/request-${requestCount}`))).toBe(false);
  }, 120_000);

  it('a request no split serves has a span without revision attributes', async () => {
    const answer = await request(http, 'nowhere.example.com', '/no-route');
    expect(answer.status).toBe(404);
    const span = await waitFor(() => httpCollector.spans.find((s) => s.attributes['http.url']?.endsWith('/no-route')), EXPORT_WAIT_MS, 'the span of the 404');
    expect(span.attributes['knative.revision.name'] ?? '').toBe('');
  }, 60_000);

  it('tracing-sampling-rate 0: no span; a bad value is refused naming its key and tracing keeps its last good options', async () => {
    await setOptions({ 'tracing-otlp-address': `127.0.0.1:${httpCollector.port}`, 'tracing-otlp-protocol': 'http', 'tracing-sampling-rate': '0' });
    // The rate reaches Envoy with the listener: wait for a request that is not sampled, then check a few more.
    await waitFor(async () => (await tracedRequest(httpCollector)).span === undefined, 90_000, 'a request not traced');
    const before = httpCollector.spans.length;
    for (let i = 0; i < 5; i += 1) expect((await request(http, 'traced.example.com', `/unsampled-${i}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, EXPORT_WAIT_MS));
    expect(httpCollector.spans.slice(before).filter((s) => s.attributes['http.url']?.includes('/unsampled-'))).toEqual([]);

    await setOptions({ 'tracing-otlp-address': `http://127.0.0.1:${grpcCollector.port}`, 'tracing-sampling-rate': '150%' });
    const problems = env.ferry.files!.problems().filter((problem) => problem.file === 'config-ferry.yaml').map((problem) => `${problem.field}: ${problem.message}`).join('\n');
    expect(problems).toMatch(/data\.tracing-otlp-address: "http:\/\/127\.0\.0\.1:\d+" is a URL; write host:port/);
    expect(problems).toMatch(/data\.tracing-sampling-rate: "150%" is not a sampling rate/);
    expect((await tracedRequest(httpCollector)).span).toBeUndefined();
  }, 150_000);

  it('without tracing-otlp-address: no tracing, and Envoy no longer has the collector\'s cluster', async () => {
    await setOptions({ 'tracing-otlp-address': `127.0.0.1:${grpcCollector.port}` });
    await waitFor(async () => (await tracedRequest(grpcCollector)).span, 60_000, 'traced again over gRPC');
    await setOptions({});
    await waitFor(async () => !(await envoyClusters()).includes('ferry-tracing-collector'), 30_000, 'the collector cluster removed');
    const before = grpcCollector.spans.length;
    expect((await request(http, 'traced.example.com', '/after-off')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, EXPORT_WAIT_MS));
    expect(grpcCollector.spans.slice(before).filter((s) => s.attributes['http.url']?.endsWith('/after-off'))).toEqual([]);
  }, 120_000);

  /** The cluster names the gateway Envoy has now. */
  async function envoyClusters(): Promise<string> {
    const { host, port } = env.envoy.adminAddress;
    const response = await fetch(`http://${host}:${port}/clusters`);
    return response.text();
  }
});
