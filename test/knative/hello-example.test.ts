import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilesSource } from '../../src/sources/files.js';
import type { SourceProblem } from '../../src/sources/source.js';
import { Store } from '../../src/store/store.js';
import { knativeInputsFromStore, translateKnative } from '../../src/translate/knative/index.js';

const exampleDir = resolve(import.meta.dirname, '../../examples/hello');
let backend: ChildProcess | undefined;
afterAll(() => { backend?.kill('SIGTERM'); });

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    }).on('error', fail);
  });
}

describe('examples/hello', () => {
  it('loads without problems and translates to a KIngress for hello.default.example.com → hello-world:80, which has endpoints', async () => {
    const store = new Store();
    const problems: SourceProblem[] = [];
    const source = new FilesSource({ directory: exampleDir, store, watch: false });
    source.on('problem', (p: SourceProblem) => problems.push(p));
    await source.start();
    await source.stop();
    expect(problems).toEqual([]);
    const { ingresses } = translateKnative(knativeInputsFromStore(store));
    expect(ingresses).toHaveLength(1);
    const external = ingresses[0]!.ingress.spec.rules!.find((r) => r.visibility === 'ExternalIP')!;
    expect(external.hosts).toEqual(['hello.default.example.com']);
    const split = external.http!.paths[0]!.splits[0]!;
    expect([split.serviceNamespace, split.serviceName, split.servicePort, split.percent]).toEqual(['default', 'hello-world', 80, 100]);
    expect(store.get('Service', 'default/hello-world')!.spec.ports![0]!.port).toBe(80);
    expect(store.endpointSlicesForService('default', 'hello-world')[0]!.endpoints[0]!.addresses).toEqual(['127.0.0.1']);
    expect(store.endpointSlicesForService('knative-serving', 'activator-service')[0]!.endpoints).toEqual([]);
  });

  it('backend.mjs answers "Hello World!" on any path', async () => {
    const port = await freePort();
    backend = spawn(process.execPath, [resolve(exampleDir, 'backend.mjs')], { env: { ...process.env, TARGET: 'World', PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ready, fail) => {
      backend!.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('listening')) ready(); });
      backend!.on('exit', (code) => fail(new Error(`backend.mjs exited with ${code}`)));
    });
    const body = await new Promise<string>((done, fail) => {
      request({ host: '127.0.0.1', port, path: '/any/path', headers: { host: 'hello.default.example.com' } }, (response) => {
        let text = '';
        response.on('data', (c: Buffer) => { text += c.toString(); });
        response.on('end', () => done(text));
      }).on('error', fail).end();
    });
    expect(body).toBe('Hello World!\n');
  });
});
