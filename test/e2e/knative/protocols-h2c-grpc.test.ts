import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoClient, startGrpcBackend, type GrpcBackend } from '../harness/grpc.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, type BackendAnswer, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { ingressByHost, serviceWithEndpoints } from '../harness/manifests.js';

// Upstream HTTP/2 without TLS: a Service port named h2c or http2, or with appProtocol kubernetes.io/h2c.
describe('h2c upstreams and gRPC through Ferry and a real Envoy', () => {
  let h2cBackend: HttpBackend;
  let grpcBackend: GrpcBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    h2cBackend = await startHttpBackend({ name: 'h2c', protocol: 'h2c' });
    grpcBackend = await startGrpcBackend('grpc');
    env = await startFerry({
      manifests: {
        'services.yaml': [
          serviceWithEndpoints('by-name-h2c', h2cBackend.port, { name: 'h2c' }),
          serviceWithEndpoints('by-name-http2', h2cBackend.port, { name: 'http2' }),
          serviceWithEndpoints('by-app-protocol', h2cBackend.port, { name: 'web', appProtocol: 'kubernetes.io/h2c' }),
          serviceWithEndpoints('grpc', grpcBackend.port, { name: 'grpc', appProtocol: 'kubernetes.io/h2c' }),
        ].join('---\n'),
        'ingress.yaml': ingressByHost('protocols', {
          'h2c.example.com': 'by-name-h2c',
          'http2.example.com': 'by-name-http2',
          'app-protocol.example.com': 'by-app-protocol',
          'grpc.example.com': 'grpc',
        }),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await h2cBackend?.close();
    await grpcBackend?.close();
    await stopAllEnvoys();
  });

  it.each(['h2c.example.com', 'http2.example.com', 'app-protocol.example.com'])('an HTTP/1.1 client of %s reaches the backend over HTTP/2', async (host) => {
    const result = await request(env.ports.external.http, host, '/hello');
    expect(result.status).toBe(200);
    const answer = JSON.parse(result.body) as BackendAnswer;
    expect(answer.backend).toBe('h2c');
    expect(answer.path).toBe('/hello');
    // Only an HTTP/2 request carries pseudo-headers; the h2c backend does not speak HTTP/1 at all.
    expect(answer.headers[':authority']).toBe(host);
    expect(answer.headers[':method']).toBe('GET');
  });

  it('serves a unary gRPC call end to end', async () => {
    const client = echoClient(env.ports.external.http, 'grpc.example.com');
    try {
      const answer = await client.echo({ message: 'hello' });
      expect(answer).toMatchObject({ backend: 'grpc', message: 'hello', index: 0 });
      // Set by the route: proof that the call went through Envoy's route for grpc.example.com.
      expect(answer.metadata['knative-serving-revision']).toBe('grpc');
    } finally {
      client.close();
    }
  });

  it('carries a 2 MB gRPC message both ways', async () => {
    const client = echoClient(env.ports.external.http, 'grpc.example.com');
    try {
      const message = 'x'.repeat(2 * 1024 * 1024);
      const answer = await client.echo({ message });
      expect(answer.message.length).toBe(message.length);
      expect(answer.message === message).toBe(true);
    } finally {
      client.close();
    }
  });

  it('serves a server-streaming gRPC call with every message in order', async () => {
    const client = echoClient(env.ports.external.http, 'grpc.example.com');
    try {
      const answers = await client.count({ message: 'tick', count: 20, intervalMs: 50 });
      expect(answers.map((answer) => answer.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(new Set(answers.map((answer) => answer.backend))).toEqual(new Set(['grpc']));
    } finally {
      client.close();
    }
  });

  it('answers a gRPC call for an unknown host with UNIMPLEMENTED (the 404 of Envoy), not a hang', async () => {
    const client = echoClient(env.ports.external.http, 'unknown.example.com');
    try {
      await expect(client.echo({ message: 'lost' })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    } finally {
      client.close();
    }
  });
});
