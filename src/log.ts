import { pino, type Logger } from 'pino';

/** Structured logs: JSON lines by default, pretty when attached to a terminal; FERRY_LOG_LEVEL sets the level. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.FERRY_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (process.stderr.isTTY === true);
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  // Synchronous writes, as Node writes process.stderr to pipes and files on Linux: an asynchronous destination hands
  // every line to libuv's thread pool, whose round trip (two thread wake-ups and an event-loop turn) costs more CPU
  // than the write itself, and lines still buffered at a crash are lost.
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

export type { Logger };
