import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngressSpec } from '../../../src/model/ingress.js';
import { backendOf, loadLoop, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend, type LoadLoop } from '../harness/index.js';
import { answerOf, kingress, knativeService, revisionService, split, toYaml } from './routing-manifests.js';

/** The functional requirement: a change to the manifest directory is served within a second. */
const CHANGE_SERVED_WITHIN_MS = 1_000;
/** How long to keep looking, so that a slow change reports its real latency instead of just "not seen". */
const OBSERVE_FOR_MS = 5_000;

const A_HOST = 'a.example.com';
const B_HOST = 'b.example.com';
const B_FILE = 'b.yaml';

function bSpec(options: { hosts?: string[]; percents?: [number, number]; appendHeaders?: Record<string, string> } = {}): IngressSpec {
  const [b1, b2] = options.percents ?? [100, 0];
  return {
    rules: [{
      hosts: options.hosts ?? [B_HOST],
      visibility: 'ExternalIP',
      http: { paths: [{ ...(options.appendHeaders ? { appendHeaders: options.appendHeaders } : {}), splits: [split('rev-b1', b1), split('rev-b2', b2)] }] },
    }],
  };
}

describe('manifest changes through Ferry (files mode, watching its directory) and a real Envoy', () => {
  const backends = new Map<string, HttpBackend>();
  let env: FerryUnderTest;
  let port: number;
  let loadOnA: LoadLoop;

  /** Writes (or, with undefined, deletes) B's file the way an operator would, and returns when the file is on disk. */
  const changeB = (yaml: string | undefined): void => {
    const path = join(env.dir, B_FILE);
    if (yaml === undefined) rmSync(path);
    else writeFileSync(path, yaml);
  };

  /** Milliseconds from the file write until a client sees the new behaviour (polling; an upper bound). */
  async function latencyOf(change: () => void, seen: () => Promise<boolean>, description: string): Promise<number> {
    const writtenAt = performance.now();
    change();
    while (performance.now() - writtenAt < OBSERVE_FOR_MS) {
      if (await seen().catch(() => false)) return performance.now() - writtenAt;
      await sleep(10);
    }
    throw new Error(`${description}: not served ${OBSERVE_FOR_MS} ms after the file write`);
  }

  /** The revisions' Services and endpoints; `moved` points a revision's endpoints at another backend. */
  const revisionsYaml = (moved: Record<string, string> = {}) =>
    toYaml(...[...backends.values()].flatMap((b) => revisionService(b.name, backends.get(moved[b.name] ?? b.name)!.port)));

  /** Which backend answered a request for `host`. */
  const answeredBy = async (host = B_HOST) => backendOf(await request(port, host, '/'));
  const problemsOfB = () => env.ferry.source.problems().filter((p) => p.file === B_FILE && p.severity === 'error');

  beforeAll(async () => {
    for (const name of ['rev-a', 'rev-b1', 'rev-b2', 'rev-b3', 'rev-b4', 'k-00001', 'k-00002']) backends.set(name, await startHttpBackend({ name }));
    env = await startFerry({
      manifests: {
        'revisions.yaml': revisionsYaml(),
        'a.yaml': toYaml(kingress('a', { rules: [{ hosts: [A_HOST], visibility: 'ExternalIP', http: { paths: [{ splits: [split('rev-a', 100)] }] } }] })),
      },
    });
    port = env.ports.external.http;
    await waitFor(async () => (await answeredBy(A_HOST)) === 'rev-a', 10_000, `${A_HOST} served`);
    // Continuous requests to the unchanged host A, fresh connections, for the whole file; checked in the last test.
    loadOnA = loadLoop({ port, host: A_HOST, durationMs: 120_000, maxRequests: 1_000_000, concurrency: 2 });
  });
  afterAll(async () => {
    await loadOnA?.stop();
    await env?.close();
    for (const backend of backends.values()) await backend.close();
    await stopAllEnvoys();
  });

  it('serves a new KIngress within a second', async () => {
    const latency = await latencyOf(() => changeB(toYaml(kingress('b', bSpec()))), async () => (await answeredBy()) === 'rev-b1', 'new KIngress b');
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
  });

  it('serves a split shift within a second, then sends nothing to the 0% split', async () => {
    const latency = await latencyOf(() => changeB(toYaml(kingress('b', bSpec({ percents: [0, 100] })))), async () => (await answeredBy()) === 'rev-b2', 'split shift to rev-b2');
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    const after = await Promise.all(Array.from({ length: 20 }, () => answeredBy()));
    expect(after).toEqual(Array(20).fill('rev-b2'));
  });

  it('shifts traffic to a revision no route used before without failing a request to the changed host', async () => {
    const loadOnB = loadLoop({ port, host: B_HOST, durationMs: 30_000, maxRequests: 1_000_000, concurrency: 2 });
    await waitFor(() => loadOnB.countBy('rev-b2') > 20, 5_000, 'load on B answered');
    const newSpec = bSpec({ percents: [0, 0] });
    newSpec.rules![0]!.http!.paths[0]!.splits.push(split('rev-b4', 100));
    const latency = await latencyOf(() => changeB(toYaml(kingress('b', newSpec))), async () => loadOnB.countBy('rev-b4') > 0, 'shift to rev-b4');
    await waitFor(() => loadOnB.countBy('rev-b4') > 20, 5_000, 'load on B answered by rev-b4');
    const result = await loadOnB.stop();
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    expect(result.failures).toEqual([]);
    // Back to the state the next tests start from.
    await latencyOf(() => changeB(toYaml(kingress('b', bSpec({ percents: [0, 100] })))), async () => (await answeredBy()) === 'rev-b2', 'shift back to rev-b2');
  });

  it('serves a new appendHeaders entry within a second', async () => {
    const latency = await latencyOf(
      () => changeB(toYaml(kingress('b', bSpec({ percents: [0, 100], appendHeaders: { 'X-Edition': 'three' } })))),
      async () => answerOf(await request(port, B_HOST, '/')).headers['x-edition'] === 'three',
      'new header X-Edition',
    );
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
  });

  it('serves a new host within a second', async () => {
    const latency = await latencyOf(
      () => changeB(toYaml(kingress('b', bSpec({ hosts: [B_HOST, 'b-new.example.com'], percents: [0, 100] })))),
      async () => (await answeredBy('b-new.example.com')) === 'rev-b2',
      'new host b-new.example.com',
    );
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    expect(await answeredBy()).toBe('rev-b2');
  });

  it('stops serving a deleted KIngress within a second', async () => {
    const latency = await latencyOf(() => changeB(undefined), async () => (await request(port, B_HOST, '/')).status === 404, 'deletion of b.yaml');
    expect(latency, `gone after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    expect((await request(port, 'b-new.example.com', '/')).status).toBe(404);
  });

  it('keeps the last good version serving when the file stops parsing as YAML', async () => {
    await latencyOf(() => changeB(toYaml(kingress('b', bSpec()))), async () => (await answeredBy()) === 'rev-b1', 'b re-created');
    changeB(`${toYaml(kingress('b', bSpec({ percents: [0, 100] })))}\n  broken: [unclosed\n`);
    await waitFor(() => problemsOfB().length > 0, 5_000, `${B_FILE} reported as broken`);
    await sleep(300);
    const answers = await Promise.all(Array.from({ length: 10 }, () => answeredBy()));
    expect(answers).toEqual(Array(10).fill('rev-b1'));
  });

  it('keeps the last good version serving when the KIngress fails validation', async () => {
    changeB(toYaml(kingress('b', bSpec({ percents: [50, 100] }))));
    const problems = await waitFor(() => {
      const found = problemsOfB();
      return found.some((p) => p.field.endsWith('.splits')) ? found : undefined;
    }, 5_000, `${B_FILE} reported as invalid`);
    expect(problems[0]).toMatchObject({ object: 'Ingress default/b', field: 'spec.rules[0].http.paths[0].splits' });
    await sleep(300);
    const answers = await Promise.all(Array.from({ length: 10 }, () => answeredBy()));
    expect(answers).toEqual(Array(10).fill('rev-b1'));
  });

  it('serves the fixed file within a second after a broken edit', async () => {
    const latency = await latencyOf(() => changeB(toYaml(kingress('b', bSpec({ percents: [0, 100] })))), async () => (await answeredBy()) === 'rev-b2', 'fixed b.yaml');
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    expect(problemsOfB()).toEqual([]);
  });

  it('serves moved endpoints within a second (a rewritten file whose other objects did not change)', async () => {
    const latency = await latencyOf(() => writeFileSync(join(env.dir, 'revisions.yaml'), revisionsYaml({ 'rev-b2': 'rev-b3' })), async () => (await answeredBy()) === 'rev-b3', 'rev-b2 endpoints moved');
    expect(latency, `served after ${latency.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    const after = await Promise.all(Array.from({ length: 10 }, () => answeredBy()));
    expect(after).toEqual(Array(10).fill('rev-b3'));
  });

  it('serves a Knative Service, then its new revision, each within a second', async () => {
    const host = 'k.default.example.com';
    const created = await latencyOf(() => writeFileSync(join(env.dir, 'k.yaml'), toYaml(knativeService('k', 'k-00001'))), async () => (await answeredBy(host)) === 'k-00001', 'Knative Service k');
    expect(created, `served after ${created.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
    const rolled = await latencyOf(() => writeFileSync(join(env.dir, 'k.yaml'), toYaml(knativeService('k', 'k-00002'))), async () => (await answeredBy(host)) === 'k-00002', 'revision k-00002');
    expect(rolled, `served after ${rolled.toFixed(0)} ms`).toBeLessThanOrEqual(CHANGE_SERVED_WITHIN_MS);
  });

  it('loses no request to a host whose file is rewritten in place and seen empty half-way (cp, an editor saving in place)', async () => {
    const path = join(env.dir, B_FILE);
    const yaml = toYaml(kingress('b', bSpec({ percents: [0, 100] })));
    const load = loadLoop({ port, host: B_HOST, durationMs: 10_000, maxRequests: 100_000, concurrency: 2 });
    try {
      await waitFor(() => load.countBy('rev-b3') >= 20, 5_000, 'requests to b (rev-b2, its endpoints on rev-b3 since the test above) before the rewrite');
      // An in-place write truncates the file, then fills it: the writer is paused in between, as a loaded machine can.
      for (let round = 0; round < 3; round++) {
        const fd = openSync(path, 'w');
        await sleep(120);
        writeSync(fd, yaml);
        closeSync(fd);
        await sleep(50);
      }
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
    }
  });

  it('removes the objects of a file left empty, once it stays empty for a moment', async () => {
    writeFileSync(join(env.dir, B_FILE), '');
    await waitFor(async () => (await request(port, B_HOST, '/')).status === 404, 5_000, 'b gone once its file stayed empty');
    await latencyOf(() => changeB(toYaml(kingress('b', bSpec({ percents: [0, 100] })))), async () => (await answeredBy()) === 'rev-b3', 'b back');
  });

  it('lost no request to the unchanged host A during all the changes above', async () => {
    const result = await loadOnA.stop();
    expect(result.sent).toBeGreaterThan(100);
    expect(result.failures).toEqual([]);
    expect(new Set(result.answeredBy)).toEqual(new Set(['rev-a']));
  });
});
