import { isIP } from 'node:net';
import type { ConfigProblem, Parsed } from './config.js';
import { parseTracingOptions, TRACING_OPTION_KEYS, type TracingOptions } from './tracing-options.js';
import { defaultExtAuthz, EXT_AUTHZ_OPTION_KEYS, parseAuthorizationPathPrefix, type ExtAuthzOptions } from './ext-authz-options.js';
import { parseHostPort } from './host-port.js';

/**
 * Gateway options: what the gateway Envoys do with traffic (access logs, timeouts and limits, client addresses, the
 * Server header, TLS policy, listen addresses). They are the lower-case keys of Ferry's ConfigMap `config-ferry`, read
 * while Ferry runs: a change reaches the gateways without a restart. Its `FERRY_*` keys are process flags instead
 * (`ferry serve` reads them from its environment at start), and are left alone here.
 */
export const FERRY_CONFIG_MAP = 'config-ferry';
/** Where files mode reads config-ferry (kube mode: the system namespace, by default the same). */
export const FERRY_SYSTEM_NAMESPACE = 'ferry-system';

export type TlsVersion = '1.0' | '1.1' | '1.2' | '1.3';

export type AccessLog =
  | { format: 'text'; template: string | undefined }
  | { format: 'json'; fields: Record<string, string> | undefined };

export type ServerHeader = { mode: 'off' } | { mode: 'pass-through' } | { mode: 'fixed'; value: string };

export interface GatewayOptions {
  /** Undefined: no access log (the default). */
  accessLog: AccessLog | undefined;
  /** HTTP connection manager stream idle timeout in ms; 0 turns it off (Knative's long responses and streams). */
  streamIdleTimeoutMs: number;
  /** Undefined: Envoy's default (60). */
  maxRequestHeadersKb: number | undefined;
  /** Open client connections per listener filter chain; undefined: unlimited. */
  maxConnections: number | undefined;
  useRemoteAddress: boolean;
  trustedHopsCount: number;
  serverHeader: ServerHeader;
  /** Envoy's defaults when unset: TLS 1.2 to 1.3, BoringSSL's default cipher suites. */
  tls: { minVersion: TlsVersion | undefined; maxVersion: TlsVersion | undefined; cipherSuites: string[] | undefined };
  /** Undefined: the listen address of `ferry serve` (--listen-address). */
  listenAddresses: string[] | undefined;
  /** Undefined: no tracing (the default). */
  tracing: TracingOptions | undefined;
  /** Undefined: no external authorization (the default). */
  extAuthz: ExtAuthzOptions | undefined;
  /** The external listeners read a PROXY protocol header (v1 or v2) first: its client address is the downstream one. */
  proxyProtocol: boolean;
}

export const DEFAULT_GATEWAY_OPTIONS: GatewayOptions = {
  accessLog: undefined,
  streamIdleTimeoutMs: 0,
  maxRequestHeadersKb: undefined,
  maxConnections: undefined,
  useRemoteAddress: false,
  trustedHopsCount: 0,
  serverHeader: { mode: 'fixed', value: 'envoy' },
  tls: { minVersion: undefined, maxVersion: undefined, cipherSuites: undefined },
  listenAddresses: undefined,
  tracing: undefined,
  extAuthz: undefined,
  proxyProtocol: false,
};

/** The cipher suite names Envoy's BoringSSL accepts (TLS 1.2 and below; TLS 1.3's are fixed). */
export const CIPHER_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-PSK-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-PSK-AES128-CBC-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA',
  'ECDHE-PSK-AES256-CBC-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'PSK-AES128-CBC-SHA', 'AES256-SHA',
  'PSK-AES256-CBC-SHA', 'DES-CBC3-SHA',
];

const TLS_VERSIONS: readonly TlsVersion[] = ['1.0', '1.1', '1.2', '1.3'];
/** Envoy's max_request_headers_kb bounds. */
const MAX_REQUEST_HEADERS_KB = 8192;

/** Every gateway option key, in the order of the README's table. */
export const GATEWAY_OPTION_KEYS = [
  'access-log', 'access-log-format', 'stream-idle-timeout', 'max-request-headers-kb', 'max-connections', 'use-remote-address',
  'trusted-hops-count', 'server-header', 'tls-min-version', 'tls-max-version', 'cipher-suites', 'listen-addresses',
  ...TRACING_OPTION_KEYS, ...EXT_AUTHZ_OPTION_KEYS, 'proxy-protocol',
] as const;

/**
 * config-ferry `data` as gateway options. Every problem names its key (`data.<key>`); keys starting with `_` (examples)
 * or `FERRY_` (process flags) are not gateway options, any other unknown key is a mistake (a typo would otherwise
 * silently leave an option unset).
 */
export function parseGatewayOptions(data: Record<string, string> = {}): Parsed<GatewayOptions> {
  const value: GatewayOptions = { ...DEFAULT_GATEWAY_OPTIONS, tls: { ...DEFAULT_GATEWAY_OPTIONS.tls } };
  const problems: ConfigProblem[] = [];
  const known = new Set<string>(GATEWAY_OPTION_KEYS);
  for (const key of Object.keys(data)) {
    if (known.has(key) || key.startsWith('_') || key.startsWith('FERRY_')) continue;
    problems.push({ field: `data.${key}`, message: `not a gateway option; known keys: ${GATEWAY_OPTION_KEYS.join(', ')} (process flags are FERRY_* keys)` });
  }
  const read = <T>(key: (typeof GATEWAY_OPTION_KEYS)[number], parse: (text: string) => T, apply: (parsed: T) => void): void => {
    const text = data[key]?.trim();
    if (text === undefined || text === '') return;
    try {
      apply(parse(text));
    } catch (error) {
      problems.push({ field: `data.${key}`, message: (error as Error).message });
    }
  };

  let accessLog = 'off' as 'off' | 'text' | 'json';
  read('access-log', (text) => oneOf(text, ['off', 'text', 'json'] as const), (format) => (accessLog = format));
  if (accessLog === 'text') {
    let template: string | undefined;
    read('access-log-format', checkFormatString, (text) => (template = text));
    value.accessLog = { format: 'text', template };
  } else if (accessLog === 'json') {
    let fields: Record<string, string> | undefined;
    read('access-log-format', parseJsonFields, (parsed) => (fields = parsed));
    value.accessLog = { format: 'json', fields };
  } else if (data['access-log-format']?.trim() && data['access-log'] === undefined) {
    problems.push({ field: 'data.access-log-format', message: 'access logs are off: set access-log to text or json too' });
  }

  read('stream-idle-timeout', parseGoDuration, (ms) => (value.streamIdleTimeoutMs = ms));
  read('max-request-headers-kb', (text) => integerIn(text, 1, MAX_REQUEST_HEADERS_KB), (kb) => (value.maxRequestHeadersKb = kb));
  read('max-connections', (text) => integerIn(text, 1, 2 ** 32 - 1), (n) => (value.maxConnections = n));
  read('use-remote-address', parseBooleanText, (flag) => (value.useRemoteAddress = flag));
  read('trusted-hops-count', (text) => integerIn(text, 0, 2 ** 32 - 1), (n) => (value.trustedHopsCount = n));
  read('server-header', parseServerHeader, (header) => (value.serverHeader = header));
  read('tls-min-version', parseTlsVersion, (version) => (value.tls.minVersion = version));
  read('tls-max-version', parseTlsVersion, (version) => (value.tls.maxVersion = version));
  const { minVersion, maxVersion } = value.tls;
  if (minVersion && maxVersion && minVersion > maxVersion) {
    problems.push({ field: 'data.tls-min-version', message: `${minVersion} is above tls-max-version ${maxVersion}` });
  }
  read('cipher-suites', parseCipherSuites, (suites) => (value.tls.cipherSuites = suites));
  read('listen-addresses', parseListenAddresses, (addresses) => (value.listenAddresses = addresses));
  const tracing = parseTracingOptions(data);
  value.tracing = tracing.value;
  problems.push(...tracing.problems);
  readExtAuthz(data, value, problems, read);
  read('proxy-protocol', parseBooleanText, (flag) => (value.proxyProtocol = flag));
  return { value, problems };
}

/** External authorization is on when `ext-authz-host` is set; its other keys without it would silently do nothing. */
function readExtAuthz(data: Record<string, string>, value: GatewayOptions, problems: ConfigProblem[], read: OptionReader): void {
  if (!data['ext-authz-host']?.trim()) {
    for (const key of EXT_AUTHZ_OPTION_KEYS) {
      if (data[key]?.trim()) problems.push({ field: `data.${key}`, message: 'external authorization is off: set ext-authz-host (host:port of the authorization service) too' });
    }
    return;
  }
  read('ext-authz-host', (text) => parseHostPort(text, 'ext-authz.auth-system.svc.cluster.local:9000 or [::1]:9000'), (address) => (value.extAuthz = defaultExtAuthz(address)));
  // With a bad host the other keys are still checked, into an object that is then dropped.
  const extAuthz = value.extAuthz ?? defaultExtAuthz({ host: '', port: 0 });
  read('ext-authz-protocol', (text) => oneOf(text, ['grpc', 'http'] as const), (protocol) => (extAuthz.protocol = protocol));
  read('ext-authz-timeout', parseGoDuration, (ms) => {
    if (ms === 0) throw new Error('must be longer than 0: the gateway waits this long for each answer (e.g. 2s)');
    extAuthz.timeoutMs = ms;
  });
  read('ext-authz-failure-mode-allow', parseBooleanText, (allow) => (extAuthz.failureModeAllow = allow));
  read('ext-authz-max-request-bytes', (text) => integerIn(text, 1, 2 ** 32 - 1), (bytes) => (extAuthz.maxRequestBytes = bytes));
  read('ext-authz-path-prefix', parseAuthorizationPathPrefix, (prefix) => (extAuthz.pathPrefix = prefix));
  if (extAuthz.pathPrefix !== undefined && extAuthz.protocol === 'grpc') {
    problems.push({ field: 'data.ext-authz-path-prefix', message: 'a gRPC check has no path: set ext-authz-protocol to http, or remove the prefix' });
  }
}

type OptionReader = <T>(key: (typeof GATEWAY_OPTION_KEYS)[number], parse: (text: string) => T, apply: (parsed: T) => void) => void;

function oneOf<T extends string>(text: string, choices: readonly T[]): T {
  const found = choices.find((choice) => choice === text.toLowerCase());
  if (found === undefined) throw new Error(`"${text}" is not one of ${choices.join(', ')}`);
  return found;
}

function integerIn(text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`"${text}" is not a whole number from ${min} to ${max}`);
  return n;
}

function parseBooleanText(text: string): boolean {
  return oneOf(text, ['true', 'false'] as const) === 'true';
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`300s`, `1m30s`, `500ms`, `0`), as Knative and net-kourier write them, in whole milliseconds. */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const parts = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(text) ? [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)] : [];
  if (parts.length === 0) throw new Error(`"${text}" is not a duration; write it like 300s, 5m or 1h30m (0 turns it off)`);
  const ms = Math.round(parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * DURATION_UNITS_MS[unit!]!, 0));
  if (ms > 315_576_000_000_000) throw new Error(`"${text}" is longer than Envoy accepts`);
  return ms;
}

function parseServerHeader(text: string): ServerHeader {
  if (text === 'off') return { mode: 'off' };
  if (text === 'pass-through') return { mode: 'pass-through' };
  // A header value: visible ASCII and inner spaces only (Envoy refuses control characters).
  if (!/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(text)) throw new Error(`"${text}" is not a valid header value; use off, pass-through or a value of visible ASCII characters`);
  return { mode: 'fixed', value: text };
}

function parseTlsVersion(text: string): TlsVersion {
  const version = text.replace(/^TLSv?/i, '');
  if (!(TLS_VERSIONS as readonly string[]).includes(version)) throw new Error(`"${text}" is not one of ${TLS_VERSIONS.join(', ')}`);
  return version as TlsVersion;
}

function parseCipherSuites(text: string): string[] {
  const suites = text.split(',').map((suite) => suite.trim()).filter((suite) => suite !== '');
  const unknown = suites.filter((suite) => !CIPHER_SUITES.includes(suite));
  if (unknown.length > 0) throw new Error(`unknown cipher suite${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${CIPHER_SUITES.join(', ')}`);
  if (suites.length === 0) throw new Error('names no cipher suite');
  return [...new Set(suites)];
}

function parseListenAddresses(text: string): string[] {
  const addresses = text.split(',').map((address) => address.trim()).filter((address) => address !== '');
  for (const address of addresses) if (isIP(address) === 0) throw new Error(`"${address}" is not an IP address (e.g. 0.0.0.0 for IPv4, :: for IPv6, "0.0.0.0,::" for both)`);
  if (new Set(addresses).size !== addresses.length) throw new Error('names an address twice');
  return addresses;
}

/**
 * An Envoy format string: literal text with command operators `%NAME%`, `%NAME(argument)%` or `%NAME(argument):N%`,
 * and `%%` for a literal percent sign. Unknown operator names are left to Envoy, which knows its own (a typo then
 * shows as a NACK in `ferry status`); a lone `%` would make Envoy refuse every listener, so it is refused here.
 */
export function checkFormatString(text: string): string {
  const operator = /%(%|[A-Z][A-Z0-9_]*(\([^()%]*\))?(:\d+)?%)/y;
  for (let at = text.indexOf('%'); at >= 0; at = text.indexOf('%', at)) {
    operator.lastIndex = at;
    if (!operator.exec(text)) throw new Error(`"%" at character ${at + 1} starts no command operator; write %NAME%, %NAME(argument)% or %% for a percent sign`);
    at = operator.lastIndex;
  }
  return text;
}

/** A JSON object of log field names to format strings (`{"status": "%RESPONSE_CODE%"}`). */
function parseJsonFields(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new Error('must be a JSON object of field names to format strings, e.g. {"status": "%RESPONSE_CODE%"}');
  }
  for (const [field, format] of Object.entries(parsed)) {
    if (typeof format !== 'string') throw new Error(`field "${field}" must be a string (a format string like "%RESPONSE_CODE%")`);
    try {
      checkFormatString(format);
    } catch (error) {
      throw new Error(`field "${field}": ${(error as Error).message}`);
    }
  }
  return parsed as Record<string, string>;
}
