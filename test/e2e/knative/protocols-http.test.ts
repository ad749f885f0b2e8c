import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startFerry, startHttpBackend, stopAllEnvoys, type BackendAnswer, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { ingressByHost, serviceWithEndpoints } from '../harness/manifests.js';
import { websocketExchange } from '../harness/workload.js';

const STREAM_CHUNKS = 24;
const STREAM_INTERVAL_MS = 500;

/** A backend that streams `chunk <n>` lines, one every STREAM_INTERVAL_MS, then ends the response. */
async function startStreamingBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${sent}\n`);
      sent += 1;
      if (sent === STREAM_CHUNKS) {
        clearInterval(timer);
        res.end();
      }
    }, STREAM_INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Reads a whole streamed response, telling apart an orderly end from a cut connection. */
function readStream(port: number, host: string): Promise<{ status: number; body: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/stream', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, body: `${body}\n[error: ${error.message}]`, complete: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Knative's contract: WebSockets on every route, no route timeout, no retries, long streams not cut.
describe('HTTP behaviours of routes through Ferry and a real Envoy', () => {
  let websocketBackend: HttpBackend;
  let slowBackend: HttpBackend;
  let failingBackend: HttpBackend;
  let streamingBackend: { port: number; close(): Promise<void> };
  let env: FerryUnderTest;

  beforeAll(async () => {
    websocketBackend = await startHttpBackend({ name: 'websocket', websocket: true });
    slowBackend = await startHttpBackend({ name: 'slow', delayMs: 10_000 });
    failingBackend = await startHttpBackend({ name: 'failing', status: 503 });
    streamingBackend = await startStreamingBackend();
    env = await startFerry({
      manifests: {
        'services.yaml': [
          serviceWithEndpoints('websocket', websocketBackend.port),
          serviceWithEndpoints('slow', slowBackend.port),
          serviceWithEndpoints('failing', failingBackend.port),
          serviceWithEndpoints('streaming', streamingBackend.port),
        ].join('---\n'),
        'ingress.yaml': ingressByHost('http-behaviours', Object.fromEntries(['websocket', 'slow', 'failing', 'streaming'].map((service) => [`${service}.example.com`, service]))),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([websocketBackend?.close(), slowBackend?.close(), failingBackend?.close(), streamingBackend?.close()]);
    await stopAllEnvoys();
  });

  it('echoes WebSocket messages through an HTTP/1.1 route', async () => {
    const received = await websocketExchange(env.ports.external.http, 'websocket.example.com', ['one', 'two', 'three']);
    expect(received).toEqual(['websocket: one', 'websocket: two', 'websocket: three']);
  });

  it('still answers plain HTTP on the WebSocket route', async () => {
    const result = await request(env.ports.external.http, 'websocket.example.com', '/plain');
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as BackendAnswer).backend).toBe('websocket');
  });

  it('answers a plain HTTP/1.1 request that offers an h2c upgrade (curl --http2) over HTTP/1.1', async () => {
    const result = await request(env.ports.external.http, 'websocket.example.com', '/h2c-offer', {
      connection: 'Upgrade, HTTP2-Settings',
      upgrade: 'h2c',
      'http2-settings': 'AAMAAABkAAQCAAAAAAIAAAAA',
    });
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as BackendAnswer).backend).toBe('websocket');
  });

  it('serves a backend that answers after 10 seconds', { timeout: 30_000 }, async () => {
    const result = await request(env.ports.external.http, 'slow.example.com', '/slow', {}, { timeoutMs: 25_000 });
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as BackendAnswer).backend).toBe('slow');
  });

  it('passes a backend 503 to the client without retrying it', async () => {
    const before = failingBackend.requests;
    const result = await request(env.ports.external.http, 'failing.example.com', '/fail');
    expect(result.status).toBe(503);
    // The body is the backend's own, not an Envoy-generated 503.
    expect((JSON.parse(result.body) as BackendAnswer).backend).toBe('failing');
    expect(failingBackend.requests - before).toBe(1);
  });

  it('does not cut a response streamed for 12 seconds', { timeout: 30_000 }, async () => {
    const result = await readStream(env.ports.external.http, 'streaming.example.com');
    expect(result.status).toBe(200);
    expect(result.complete).toBe(true);
    expect(result.body.trim().split('\n')).toEqual(Array.from({ length: STREAM_CHUNKS }, (_, i) => `chunk ${i}`));
  });
});
