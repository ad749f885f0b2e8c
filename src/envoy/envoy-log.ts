/**
 * Envoy's own log lines, as ManagedEnvoy asks Envoy to write them (--log-format "[%l][%n] %v"), mapped to
 * pino levels. Pure: no I/O.
 */
export const ENVOY_LOG_FORMAT = '[%l][%n] %v';

export type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface EnvoyLogLine {
  level: PinoLevel;
  /** Envoy's logger name (e.g. "config", "upstream", "main"). */
  source: string;
  message: string;
}

const LINE = /^\[(trace|debug|info|warning|error|critical)\]\[([^\]]*)\] ?(.*)$/;

const LEVELS: Record<string, PinoLevel> = {
  trace: 'trace', debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'fatal',
};

/**
 * Parses one line. A line that does not start with a level (the continuation of a multi-line message,
 * or output from before logging is set up) keeps the previous line's level and source.
 */
export function parseEnvoyLogLine(line: string, previous?: EnvoyLogLine): EnvoyLogLine {
  const match = LINE.exec(line);
  if (match) {
    const message = match[3]!;
    // Envoy warns when it is told to stop; Ferry stopping its own Envoy is nothing to warn about.
    const level = message === 'caught ENVOY_SIGTERM' ? 'info' : LEVELS[match[1]!]!;
    return { level, source: match[2]!, message };
  }
  return { level: previous?.level ?? 'info', source: previous?.source ?? 'envoy', message: line };
}
