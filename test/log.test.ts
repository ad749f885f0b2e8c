import { expect, it } from 'vitest';
import { writtenOncePerTurn } from '../src/log.js';

it('writes the log lines of one event-loop turn together, at its end', async () => {
  const buffered: string[] = [];
  const written: string[][] = [];
  const stream = writtenOncePerTurn({ write: (line) => buffered.push(line), flushSync: () => written.push(buffered.splice(0)) });
  stream.write('manifests applied\n');
  stream.write('reconciled\n');
  expect(written).toEqual([]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(written).toEqual([['manifests applied\n', 'reconciled\n']]);
  stream.write('next turn\n');
  await new Promise((resolve) => setImmediate(resolve));
  expect(written).toEqual([['manifests applied\n', 'reconciled\n'], ['next turn\n']]);
});
