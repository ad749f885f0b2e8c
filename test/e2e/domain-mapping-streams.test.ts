import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoClient, startGrpcBackend, type GrpcBackend } from './harness/grpc.js';
import { printEnvoyLogsOnFailure, startFerry, stopAllEnvoys, waitFor, type FerryUnderTest } from './harness/index.js';
import { http1Exchange, http2Exchange, patternBytes, sha256, startWorkloadBackend, websocketExchange, type StreamedResult, type WorkloadBackend } from './harness/workload.js';
import { domainMapping, knativeService, revisionService, toYaml } from './knative/routing-manifests.js';

/*
 * Issue 14: what a DomainMapping serves behaves like the Knative Service it maps. A DomainMapping's KIngress sends
 * its host to the Route's placeholder ExternalName Service, that is back into the local gateway (the hairpin), which
 * routes the Service's cluster-local host to the revision. Every case runs against the Service's own host and against
 * the mapped domain, and must come out the same.
 */

const MEGABYTES_20 = 20 * 1024 * 1024;
const STREAM_SECONDS = 60;

const WEB = { service: 'web.default.example.com', mapping: 'web.example.org' };
const GRPC = { service: 'grpc.default.example.com', mapping: 'grpc.example.org' };
/** The Host the revision sees: a DomainMapping rewrites it to the Service's cluster-local host. */
const WEB_BACKEND_HOST = { service: WEB.service, mapping: 'web.default.svc.cluster.local' };
const BOTH = [['the Service host', 'service'], ['the DomainMapping', 'mapping']] as const;

function expectComplete(result: StreamedResult): void {
  expect(result.status, result.body.subarray(0, 200).toString()).toBe(200);
  expect(result.complete).toBe(true);
}

describe('a DomainMapping serves what its Knative Service serves, through the hairpin to the local gateway', () => {
  let web: WorkloadBackend;
  let grpc: GrpcBackend;
  let env: FerryUnderTest;
  printEnvoyLogsOnFailure();

  beforeAll(async () => {
    web = await startWorkloadBackend('web');
    grpc = await startGrpcBackend('grpc');
    env = await startFerry({
      manifests: {
        'services.yaml': toYaml(
          ...revisionService('web-00001', web.port),
          knativeService('web', 'web-00001'),
          ...revisionService('grpc-00001', grpc.port, 'default', 'http2'),
          knativeService('grpc', 'grpc-00001'),
          ...domainMapping(WEB.mapping, 'web'),
          ...domainMapping(GRPC.mapping, 'grpc'),
        ),
      },
    });
    // Both hosts answer before the cases start (the mapping's claim, KIngress and hairpin cluster are in place).
    for (const host of [WEB.service, WEB.mapping]) {
      await waitFor(async () => (await http1Exchange(env.ports.external.http, host, '/')).status === 200, 15_000, `${host} served`);
    }
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([web?.close(), grpc?.close()]);
    await stopAllEnvoys();
  });

  it.each(BOTH)('upgrades a WebSocket through %s and echoes every message', async (_, via) => {
    const received = await websocketExchange(env.ports.external.http, WEB[via], ['one', 'two', 'three']);
    expect(received).toEqual(['web: one', 'web: two', 'web: three']);
  });

  it.each(BOTH)('serves unary and server-streaming gRPC through %s', async (_, via) => {
    const client = echoClient(env.ports.external.http, GRPC[via]);
    try {
      const unary = await client.echo({ message: 'hello' });
      expect(unary).toMatchObject({ backend: 'grpc', message: 'hello' });
      expect(unary.metadata['knative-serving-revision']).toBe('grpc-00001');
      const streamed = await client.count({ message: 'tick', count: 20, intervalMs: 50 });
      expect(streamed.map((answer) => answer.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const large = 'x'.repeat(2 * 1024 * 1024);
      expect((await client.echo({ message: large })).message === large).toBe(true);
    } finally {
      client.close();
    }
  });

  it.each(BOTH)('answers an HTTP/2 (h2c prior knowledge) client through %s', async (_, via) => {
    const result = await http2Exchange(env.ports.external.http, WEB[via], '/h2');
    expectComplete(result);
    expect(JSON.parse(result.body.toString())).toMatchObject({ backend: 'web', path: '/h2', host: WEB_BACKEND_HOST[via] });
  });

  it.each(BOTH)('carries a 20 MB request body and a 20 MB response body through %s, over HTTP/1.1 and HTTP/2', { timeout: 120_000 }, async (_, via) => {
    const upload = patternBytes(MEGABYTES_20);
    for (const exchange of [http1Exchange, http2Exchange]) {
      const sent = await exchange(env.ports.external.http, WEB[via], '/digest', { method: 'POST', body: upload, timeoutMs: 60_000 });
      expectComplete(sent);
      expect(JSON.parse(sent.body.toString())).toEqual({ backend: 'web', bytes: MEGABYTES_20, sha256: sha256(upload) });
      const received = await exchange(env.ports.external.http, WEB[via], `/bytes?size=${MEGABYTES_20}`, { timeoutMs: 60_000 });
      expectComplete(received);
      expect(received.body.length).toBe(MEGABYTES_20);
      expect(sha256(received.body)).toBe(sha256(upload));
    }
  });

  it.concurrent.each(BOTH)('serves a response that starts after 10 seconds through %s', { timeout: 60_000 }, async (_, via) => {
    const result = await http1Exchange(env.ports.external.http, WEB[via], '/delay?ms=10000', { timeoutMs: 45_000 });
    expectComplete(result);
    expect(result.firstByteMs).toBeGreaterThanOrEqual(10_000);
    expect(JSON.parse(result.body.toString())).toMatchObject({ backend: 'web', path: '/delay' });
  });

  it.concurrent.each(BOTH)(`does not cut a response streamed for ${STREAM_SECONDS} seconds through %s`, { timeout: (STREAM_SECONDS + 60) * 1000 }, async (_, via) => {
    const started = Date.now();
    const result = await http1Exchange(env.ports.external.http, WEB[via], `/stream?chunks=${STREAM_SECONDS}&intervalMs=1000`, { timeoutMs: (STREAM_SECONDS + 30) * 1000 });
    expectComplete(result);
    expect(result.body.toString().trim().split('\n')).toEqual(Array.from({ length: STREAM_SECONDS }, (_, i) => `chunk ${i}`));
    expect(Date.now() - started).toBeGreaterThanOrEqual((STREAM_SECONDS - 1) * 1000);
  });
});
