import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** A turn that logs more than this writes what it has at once: the buffer stays small. */
const TURN_BUFFER_CHARS = 64 * 1024;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
/** `auto`: text on a terminal, JSON lines otherwise (a log collector's input). */
const LOG_FORMATS = ['auto', 'text', 'json'];

export interface LoggerOptions {
  /** Default FERRY_LOG_LEVEL, else info. */
  level?: string;
  /** `auto`, `text` or `json`; default FERRY_LOG_FORMAT, else auto. */
  format?: string;
  /** Where the lines go (default stderr); `isTTY` decides what `auto` means. */
  destination?: { write(text: string): unknown; isTTY?: boolean };
}

/** Structured logs on stderr: readable lines when it is a terminal, JSON lines otherwise, unless the format is given. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.FERRY_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new Error(`log level "${level}" (--log-level, FERRY_LOG_LEVEL): expected one of ${LOG_LEVELS.join(', ')}`);
  const format = options.format ?? process.env.FERRY_LOG_FORMAT ?? 'auto';
  if (!LOG_FORMATS.includes(format)) throw new Error(`log format "${format}" (--log-format, FERRY_LOG_FORMAT): expected one of ${LOG_FORMATS.join(', ')}`);
  const terminal = (options.destination ?? process.stderr).isTTY === true;
  // Synchronous writes, as Node writes process.stderr to pipes and files on Linux: an asynchronous destination hands
  // every line to libuv's thread pool, whose round trip (two thread wake-ups and an event-loop turn) costs more CPU
  // than the write itself, and lines still buffered at a crash are lost.
  const destination = writtenOncePerTurn(options.destination ?? pino.destination({ dest: 2, sync: true }));
  if (format === 'json' || (format === 'auto' && !terminal)) return pino({ level }, destination);
  // Text is formed on the event loop, line by line as written: it is for a person watching, not for volume.
  const prettify = prettyFactory({ colorize: terminal, translateTime: 'SYS:HH:MM:ss.l' });
  return pino({ level }, { write: (line: string) => destination.write(prettify(line)) });
}

/**
 * The lines of one event-loop turn (a change's 'manifests applied' and 'reconciled') leave in one synchronous write
 * at its end: each write to a pipe wakes its reader, which costs more than forming the line. What a turn left is
 * written at exit too.
 */
export function writtenOncePerTurn(destination: { write(text: string): unknown }): DestinationStream {
  let pending = '';
  const flush = (): void => {
    unflushed.delete(flush);
    const text = pending;
    pending = '';
    if (text !== '') destination.write(text);
  };
  return {
    write(line: string): void {
      if (pending === '') {
        setImmediate(flush);
        flushAtExit(flush);
      }
      pending += line;
      if (pending.length > TURN_BUFFER_CHARS) flush();
    },
  };
}

/** Buffers holding lines not yet written, flushed by one 'exit' listener however many loggers there are. */
const unflushed = new Set<() => void>();
let exitListener = false;

function flushAtExit(flush: () => void): void {
  unflushed.add(flush);
  if (exitListener) return;
  exitListener = true;
  process.once('exit', () => { for (const pending of [...unflushed]) pending(); });
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

export type { Logger };
