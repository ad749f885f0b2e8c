import { hash } from 'node:crypto';
import type { HTTPIngressPath, IngressBackendSplit, IngressRule, IngressSpec, IngressTLS, KIngress } from '../model/ingress.js';

/**
 * Knative's K-Network-Hash of a KIngress: hex(sha256(json(spec) + namespace + name)), where json is Go's
 * encoding/json output for networking/v1alpha1.IngressSpec (knative.dev/networking/pkg/ingress.ComputeHash).
 * The prober compares this value with what each gateway answers, so it must match Knative byte for byte:
 * Go struct field order, omitempty, sorted map keys, Go's string escaping (HTML-safe).
 */
export function probeHash(ingress: KIngress): string {
  return hash('sha256', `${goJsonIngressSpec(ingress.spec)}${ingress.metadata.namespace ?? ''}${ingress.metadata.name}`, 'hex');
}

/** Go encoding/json output for IngressSpec (exported for tests). */
export function goJsonIngressSpec(spec: IngressSpec): string {
  return goObject([
    ['tls', nonEmptyArray(spec.tls, goTls)],
    ['rules', nonEmptyArray(spec.rules, goRule)],
    ['httpOption', nonEmptyString(spec.httpOption)],
  ]);
}

function goTls(tls: IngressTLS): string {
  return goObject([
    ['hosts', nonEmptyArray(tls.hosts, goString)],
    ['secretName', nonEmptyString(tls.secretName)],
    ['secretNamespace', nonEmptyString(tls.secretNamespace)],
  ]);
}

function goRule(rule: IngressRule): string {
  return goObject([
    ['hosts', nonEmptyArray(rule.hosts, goString)],
    ['visibility', nonEmptyString(rule.visibility)],
    // HTTP is a pointer: present (even with no paths) unless nil.
    ['http', rule.http ? goObject([['paths', goArray(rule.http.paths, goPath)]]) : undefined],
  ]);
}

function goPath(path: HTTPIngressPath): string {
  return goObject([
    ['path', nonEmptyString(path.path)],
    ['rewriteHost', nonEmptyString(path.rewriteHost)],
    ['headers', nonEmptyMap(path.headers, (match) => goObject([['exact', goString(match.exact ?? '')]]))],
    ['splits', goArray(path.splits, goSplit)],
    ['appendHeaders', nonEmptyMap(path.appendHeaders, goString)],
  ]);
}

/** IngressBackend is embedded (json:",inline"), so its fields come first, always present. */
function goSplit(split: IngressBackendSplit): string {
  return goObject([
    ['serviceNamespace', goString(split.serviceNamespace ?? '')],
    ['serviceName', goString(split.serviceName ?? '')],
    ['servicePort', typeof split.servicePort === 'string' ? goString(split.servicePort) : String(split.servicePort ?? 0)],
    ['percent', split.percent ? String(split.percent) : undefined],
    ['appendHeaders', nonEmptyMap(split.appendHeaders, goString)],
  ]);
}

function goObject(fields: Array<[string, string | undefined]>): string {
  const present = fields.filter((field): field is [string, string] => field[1] !== undefined);
  return `{${present.map(([key, value]) => `${goString(key)}:${value}`).join(',')}}`;
}

/** A nil slice marshals as null; Knative's non-omitempty slices (paths, splits) are never nil after decoding JSON with them. */
function goArray<T>(items: T[] | undefined, encode: (item: T) => string): string {
  return items === undefined || items === null ? 'null' : `[${items.map(encode).join(',')}]`;
}

function nonEmptyArray<T>(items: T[] | undefined, encode: (item: T) => string): string | undefined {
  return items && items.length > 0 ? goArray(items, encode) : undefined;
}

function nonEmptyString(value: string | undefined): string | undefined {
  return value ? goString(value) : undefined;
}

/** Go sorts map keys by their UTF-8 bytes (not by UTF-16 code units as JavaScript does). */
function nonEmptyMap<T>(map: Record<string, T> | undefined, encode: (value: T) => string): string | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map);
  if (keys.length === 0) return undefined;
  // JavaScript's order (UTF-16 code units) is UTF-8's unless a key holds a surrogate pair; then each key's bytes
  // are compared, made once per key rather than twice per comparison.
  const sorted = keys.some((key) => SURROGATE.test(key))
    ? keys.map((key) => ({ key, bytes: Buffer.from(key, 'utf8') })).sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map(({ key }) => key)
    : keys.sort();
  return `{${sorted.map((key) => `${goString(key)}:${encode(map[key] as T)}`).join(',')}}`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const SURROGATE = /[\ud800-\udfff]/;
/** What goString changes; names, hosts and paths almost never hold any, and are quoted as they are. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** Go's encodeState.string with HTML escaping: <, >, &, U+2028, U+2029 and control characters as \u00XX. */
function goString(value: string): string {
  if (!NEEDS_ESCAPING.test(value)) return `"${value}"`;
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    const short = SHORT_ESCAPES[char];
    if (short) out += short;
    else if (code < 0x20 || char === '<' || char === '>' || char === '&' || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // A lone surrogate cannot be UTF-8; Go's decoder would already have turned it into U+FFFD.
      out += '\ufffd';
    } else out += char;
  }
  return `${out}"`;
}
