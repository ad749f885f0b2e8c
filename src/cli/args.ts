/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} ${value}: expected a port number 0-65535`);
  return port;
}

/**
 * HOST:PORT, or an http(s) URL of it as Ferry prints its admin address (`http://127.0.0.1:9901/debug/status`):
 * a pasted URL must not end up as a host name with a scheme in it.
 */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const address = /^https?:\/\/([^/]+)(\/.*)?$/.exec(value)?.[1] ?? value;
  const match = /^\[?([^\]/]*)\]?:(\d+)$/.exec(address);
  if (!match) throw new UsageError(`${flag} ${value}: expected HOST:PORT, e.g. 127.0.0.1:18001`);
  return { host: match[1]!, port: parsePort(flag, match[2]!) };
}
