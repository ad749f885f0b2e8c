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

type OptionSpec = { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean };

/**
 * Each flag's default taken from FERRY_<FLAG> when that is set (e.g. FERRY_ROUTE_TABLES for --route-tables): in a
 * cluster, Ferry's ConfigMap reaches it as environment variables. A flag on the command line still wins.
 */
export function withEnvironmentDefaults<T extends Record<string, OptionSpec>>(options: T, env: NodeJS.ProcessEnv = process.env): T {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(options)) {
    const value = env[`FERRY_${name.toUpperCase().replace(/-/g, '_')}`];
    if (value === undefined || value === '' || name === 'help') {
      out[name] = spec;
      continue;
    }
    if (spec.type === 'boolean') {
      if (value !== 'true' && value !== 'false') throw new UsageError(`FERRY_${name.toUpperCase().replace(/-/g, '_')}=${value}: expected true or false`);
      out[name] = { ...spec, default: value === 'true' };
    } else out[name] = { ...spec, default: value };
  }
  return out as T;
}
