import { expect, it } from 'vitest';
import { createLogger, writtenOncePerTurn } from '../src/log.js';

it('writes the log lines of one event-loop turn together, at its end', async () => {
  const written: string[] = [];
  const stream = writtenOncePerTurn({ write: (text) => written.push(text) });
  stream.write('manifests applied\n');
  stream.write('reconciled\n');
  expect(written).toEqual([]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(written).toEqual(['manifests applied\nreconciled\n']);
  stream.write('next turn\n');
  await new Promise((resolve) => setImmediate(resolve));
  expect(written).toEqual(['manifests applied\nreconciled\n', 'next turn\n']);
});

it('adds one exit listener, however many loggers write', () => {
  const before = process.listenerCount('exit');
  for (let i = 0; i < 20; i += 1) writtenOncePerTurn({ write: () => undefined }).write(`line ${i}\n`);
  expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
});

it('refuses an unknown log level, naming the flag and the variable', () => {
  expect(() => createLogger({ level: 'verbose', pretty: false })).toThrow('log level "verbose" (--log-level, FERRY_LOG_LEVEL): expected one of trace, debug, info, warn, error, fatal, silent');
  expect(createLogger({ level: 'warn', pretty: false }).level).toBe('warn');
});
