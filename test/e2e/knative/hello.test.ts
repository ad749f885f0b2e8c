import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startFerry, startHttpBackend, stopAllEnvoys, type FerryUnderTest, type HttpBackend } from '../harness/index.js';

const exampleDir = resolve(import.meta.dirname, '../../../examples/hello');

// The bundled example, with its revision's EndpointSlice pointed at a backend of this test.
describe('examples/hello through Ferry and a real Envoy', () => {
  let backend: HttpBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'hello-world' });
    const manifests: Record<string, string> = {};
    for (const file of readdirSync(exampleDir).filter((f) => f.endsWith('.yaml'))) {
      manifests[file] = readFileSync(join(exampleDir, file), 'utf8').replaceAll('port: 8090', `port: ${backend.port}`);
    }
    env = await startFerry({ manifests });
  });
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await stopAllEnvoys();
  });

  it('routes hello.default.example.com to the latest revision with Knative revision headers', async () => {
    const result = await request(env.ports.external.http, 'hello.default.example.com', '/');
    expect(result.status).toBe(200);
    const answer = JSON.parse(result.body) as { backend: string; headers: Record<string, string> };
    expect(answer.backend).toBe('hello-world');
    expect(answer.headers['knative-serving-namespace']).toBe('default');
  });

  it('keeps cluster-local hosts off the external listener and serves them on the local one', async () => {
    expect((await request(env.ports.external.http, 'hello.default.svc.cluster.local', '/')).status).toBe(404);
    expect((await request(env.ports.local.http, 'hello.default.svc.cluster.local', '/')).status).toBe(200);
  });
});
