import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../harness/index.js';

const exampleDir = resolve(import.meta.dirname, '../../../examples/hello');

// The bundled example, with its revision's EndpointSlice pointed at a backend of this test.
describe('examples/hello through Ferry and a real Envoy', () => {
  let backend: HttpBackend;
  let backend002: HttpBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'hello-world' });
    backend002 = await startHttpBackend({ name: 'hello-world-002' });
    const manifests: Record<string, string> = {};
    for (const file of readdirSync(exampleDir).filter((f) => f.endsWith('.yaml'))) {
      manifests[file] = readFileSync(join(exampleDir, file), 'utf8').replaceAll('port: 8090', `port: ${backend.port}`);
    }
    env = await startFerry({ manifests });
  });
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await backend002?.close();
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

  // The guide's next step: a second revision with TARGET=World-002, then traffic split between the two.
  it('serves the guide\'s second revision hello-world-002, then a 50/50 split between both revisions', async () => {
    const service = readFileSync(join(exampleDir, 'service.yaml'), 'utf8').replace('name: hello-world', 'name: hello-world-002').replace('"World"', '"World-002"');
    const revision002 = readFileSync(join(exampleDir, 'revision-endpoints.yaml'), 'utf8')
      .replaceAll('hello-world', 'hello-world-002').replaceAll('port: 8090', `port: ${backend002.port}`);
    await env.writeManifest('revision-002.yaml', revision002);
    await env.writeManifest('service.yaml', service);
    const answer = async () => JSON.parse((await request(env.ports.external.http, 'hello.default.example.com', '/')).body) as { backend: string; headers: Record<string, string> };
    // writeManifest waits for Ferry's translation; the gateway takes it a moment later.
    const latest = await waitFor(async () => { const a = await answer(); return a.backend === 'hello-world-002' ? a : undefined; }, 5_000, 'hello-world-002 served');
    expect(latest.headers['knative-serving-revision']).toBe('hello-world-002');

    await env.writeManifest('service.yaml', `${service}
  traffic:
    - latestRevision: true
      percent: 50
    - revisionName: hello-world
      percent: 50
`);
    await waitFor(async () => (await answer()).backend === 'hello-world', 5_000, 'the split in effect');
    const seen = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const { backend: name } = await answer();
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['hello-world', 'hello-world-002']);
    expect(seen.get('hello-world')!).toBeGreaterThan(60);
    expect(seen.get('hello-world-002')!).toBeGreaterThan(60);
  });
});
