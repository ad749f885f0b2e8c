import { isIP } from 'node:net';

/** `host:port` or `[ipv6]:port`; a URL is refused with the form to write instead. */
export function parseHostPort(text: string, example: string): { host: string; port: number } {
  const hint = `write host:port, e.g. ${example}`;
  if (text.includes('://')) throw new Error(`"${text}" is a URL; ${hint}`);
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/[\]]+)):(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new Error(`"${text}" is not a host and port; ${hint}`);
  const host = match[1] ?? match[2]!;
  if (match[1] !== undefined && isIP(host) !== 6) throw new Error(`"${match[1]}" in brackets is not an IPv6 address; ${hint}`);
  if (match[2] !== undefined && isIP(host) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(host)) {
    throw new Error(`"${host}" is neither an IP address nor a DNS name; ${hint}`);
  }
  return { host, port };
}
