import { describe, expect, it } from 'vitest';
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
  expect(() => createLogger({ level: 'verbose', format: 'json' })).toThrow('log level "verbose" (--log-level, FERRY_LOG_LEVEL): expected one of trace, debug, info, warn, error, fatal, silent');
  expect(createLogger({ level: 'warn', format: 'json' }).level).toBe('warn');
});

/** A destination that keeps what is written, as a terminal or as a pipe. */
function capture(isTTY: boolean): { write(text: string): void; isTTY: boolean; text(): Promise<string> } {
  let written = '';
  return {
    isTTY,
    write: (text) => void (written += text),
    // Lines leave at the end of the event-loop turn.
    text: () => new Promise((resolve) => setImmediate(() => resolve(written))),
  };
}

describe('log format', () => {
  it('auto: JSON lines when stderr is not a terminal, one object per line with the fields given', async () => {
    const out = capture(false);
    createLogger({ level: 'info', format: 'auto', destination: out }).info({ ingress: 'default/hello' }, 'reconciled');
    const lines = (await out.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'reconciled', ingress: 'default/hello' });
  });

  it('auto: readable coloured lines on a terminal (level, message, fields on their own lines)', async () => {
    const out = capture(true);
    createLogger({ level: 'info', format: 'auto', destination: out }).warn({ ingress: 'default/hello' }, 'translation warning');
    const text = await out.text();
    expect(text).toContain('\u001b[');
    const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(\d+\): translation warning\n\s+ingress: "default\/hello"\n$/);
  });

  it('text and json force the format either way; text off a terminal has no colour codes', async () => {
    const piped = capture(false);
    createLogger({ level: 'info', format: 'text', destination: piped }).info('to a file');
    expect(await piped.text()).toMatch(/^\[[\d:.]+\] INFO \(\d+\): to a file\n$/);
    const terminal = capture(true);
    createLogger({ level: 'info', format: 'json', destination: terminal }).info('to a terminal');
    expect(JSON.parse(await terminal.text())).toMatchObject({ msg: 'to a terminal' });
  });

  it('the level filters in both formats', async () => {
    for (const format of ['text', 'json']) {
      const out = capture(false);
      const logger = createLogger({ level: 'warn', format, destination: out });
      logger.info('hidden');
      logger.error('shown');
      const text = await out.text();
      expect(text, format).not.toContain('hidden');
      expect(text, format).toContain('shown');
    }
  });

  it('FERRY_LOG_FORMAT and FERRY_LOG_LEVEL are the defaults; an unknown format is refused naming the flag and the variable', async () => {
    const saved = { format: process.env.FERRY_LOG_FORMAT, level: process.env.FERRY_LOG_LEVEL };
    try {
      process.env.FERRY_LOG_FORMAT = 'json';
      process.env.FERRY_LOG_LEVEL = 'debug';
      const out = capture(true);
      createLogger({ destination: out }).debug('from the environment');
      expect(JSON.parse(await out.text())).toMatchObject({ level: 20, msg: 'from the environment' });
      process.env.FERRY_LOG_FORMAT = 'pretty';
      expect(() => createLogger({ destination: out })).toThrow('log format "pretty" (--log-format, FERRY_LOG_FORMAT): expected one of auto, text, json');
    } finally {
      for (const [key, value] of [['FERRY_LOG_FORMAT', saved.format], ['FERRY_LOG_LEVEL', saved.level]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
