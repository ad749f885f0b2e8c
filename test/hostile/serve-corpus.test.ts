import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValidationError } from '../../src/model/validation-error.js';
import { ingressByHost, serviceWithEndpoints } from '../e2e/harness/manifests.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../e2e/harness/index.js';
import { corpusExpectations, writeCorpus } from './corpus.js';

const BILLION_LAUGHS = join(import.meta.dirname, 'corpus', 'billion-laughs.yaml');

describe('ferry serve (files mode, real Envoy) with the hostile corpus dropped into its folder', () => {
  let backend: HttpBackend;
  let env: FerryUnderTest;
  const served = async (host: string) => (await request(env.ports.external.http, host)).status;

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'kept' });
    env = await startFerry({
      manifests: {
        'kept.yaml': `${serviceWithEndpoints('kept', backend.port)}---\n${ingressByHost('kept', { 'kept.example.com': 'kept' })}`,
        'evolving.yaml': ingressByHost('evolving', { 'evolving.example.com': 'kept' }),
      },
    });
    await waitFor(async () => (await served('kept.example.com')) === 200 && (await served('evolving.example.com')) === 200, 15_000, 'both hosts served before the corpus');
  });
  afterAll(async () => {
    await env?.close();
    await stopAllEnvoys();
    await backend?.close();
  });

  it('reports every hostile file, never stalls, keeps the last good state and goes on serving and taking changes', async () => {
    const problems: string[] = [];
    env.ferry.files!.on('problem', (problem) => problems.push(formatValidationError(problem)));
    writeCorpus(env.dir);
    // A file that served turns into a billion laughs: its last good version keeps serving.
    writeFileSync(join(env.dir, 'evolving.yaml'), (await import('node:fs')).readFileSync(BILLION_LAUGHS));
    const started = performance.now();
    const heapBefore = process.memoryUsage().heapUsed;
    await env.ferry.files!.rescan();
    const seconds = (performance.now() - started) / 1000;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`ferry serve rescanning the hostile corpus: ${seconds.toFixed(2)} s, heap +${heapGrowthMb.toFixed(0)} MB`);
    expect(seconds).toBeLessThan(10);
    expect(heapGrowthMb).toBeLessThan(300);

    for (const [file, expectations] of corpusExpectations('serve')) {
      for (const expectation of expectations) {
        const line = expectation.replace(/^warning: /, '');
        expect(problems.some((problem) => problem.startsWith(line)), `${file}: no problem starting with\n  ${line}\namong:\n${problems.join('\n')}`).toBe(true);
      }
    }
    expect(problems).toContain('evolving.yaml the last good version of this file (1 objects) keeps serving until it is fixed');
    expect(problems.some((problem) => problem.startsWith('kept.yaml'))).toBe(false);

    // Everything good keeps serving through the gateway; the corpus' valid KIngress is routed (its backend port 9
    // is closed: 503), its invalid ones are not (404).
    expect(await served('kept.example.com')).toBe(200);
    expect(await served('evolving.example.com')).toBe(200);
    await waitFor(async () => (await served('good.example.com')) === 503, 15_000, 'the corpus\' valid KIngress routed');
    expect(await served('hello-unicode.example.com')).toBe(404);

    // Ferry still takes changes: a new host is served, the hostile files go, the last good objects stay served.
    writeFileSync(join(env.dir, 'later.yaml'), ingressByHost('later', { 'later.example.com': 'kept' }));
    await waitFor(async () => (await served('later.example.com')) === 200, 15_000, 'a change made after the corpus is served');
    rmSync(join(env.dir, 'fifo.yaml'));
    await env.ferry.files!.rescan();
    expect(env.ferry.files!.problems().some((problem) => problem.file === 'fifo.yaml')).toBe(false);
    expect(await served('kept.example.com')).toBe(200);
    expect(await served('evolving.example.com')).toBe(200);
  }, 90_000);
});
