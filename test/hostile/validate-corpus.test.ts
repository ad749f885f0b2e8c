import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/validate.js';
import { DEFAULT_TRANSLATE_CONFIG } from '../../src/translate/envoy/index.js';
import { CORPUS_DIR, corpusExpectations, writeCorpus } from './corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry validate on the hostile corpus', () => {
  it('reports every hostile file with file, document, object and field, in bounded time and memory, and nothing about the good one', async () => {
    writeCorpus(dir);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const result = await runValidate({ path: dir, translateConfig: DEFAULT_TRANSLATE_CONFIG });
    const seconds = (performance.now() - started) / 1000;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`ferry validate on the hostile corpus: ${seconds.toFixed(2)} s, heap +${heapGrowthMb.toFixed(0)} MB`);

    const lines = result.stdout.split('\n');
    let expected = 0;
    for (const [file, expectations] of corpusExpectations('validate')) {
      for (const expectation of expectations) {
        expected++;
        expect(lines.some((line) => line.startsWith(expectation)), `${file}: missing line starting with\n  ${expectation}\nin:\n${result.stdout}`).toBe(true);
      }
    }
    expect(expected).toBeGreaterThanOrEqual(50);
    // Every line is tied to a file; the good file is not among them, and nothing is left unexplained.
    const problems = lines.filter((line) => line !== '');
    for (const line of problems) expect(line).toMatch(/^(warning: )?[\w.-]+\.yaml /);
    expect(problems.filter((line) => line.startsWith('good.yaml'))).toEqual([]);
    const all = [...corpusExpectations('validate').values()].flat();
    for (const line of problems) expect(all.some((expectation) => line.startsWith(expectation)), `not expected: ${line}`).toBe(true);
    expect(result.exitCode).toBe(1);
    // The billion-laughs file alone took 44 s and 1.8 GB before expansion was bounded.
    expect(seconds).toBeLessThan(10);
    expect(heapGrowthMb).toBeLessThan(300);
  }, 60_000);

  it('a single billion-laughs file is rejected at once, naming the file and the object', async () => {
    const started = performance.now();
    const result = await runValidate({ path: join(CORPUS_DIR, 'billion-laughs.yaml'), translateConfig: DEFAULT_TRANSLATE_CONFIG });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('billion-laughs.yaml (document 1) Ingress default/laughs: metadata.annotations.a7[1][1][1]: larger than 6 MiB once its YAML aliases are expanded (nested aliases, the "billion laughs" shape?); not read\n');
  });
});
