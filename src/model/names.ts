/** Kubernetes name and DNS rules (k8s.io/apimachinery validation), as plain predicates returning a reason or undefined. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A path Envoy compares with the request's: absolute, visible ASCII, no query or fragment. */
const URL_PATH = /^\/[!$%&'()*+,\-./0-9:;=@A-Z_a-z~]*$/;

/**
 * A value as messages show it: quoted, cut when long, and with every invisible or control character escaped (a
 * zero-width space or a right-to-left override would otherwise hide in, or reorder, the line that reports it).
 */
export function quoted(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}…` : value) ?? String(value);
  return text.replace(/[\p{C}\p{Zl}\p{Zp}]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `${quoted(value)} is longer than 63 characters`;
  if (!DNS1123_LABEL.test(value)) return `${quoted(value)} must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character`;
  return undefined;
}

export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `${quoted(value)} is longer than 63 characters`;
  if (!DNS1035_LABEL.test(value)) return `${quoted(value)} must consist of lower case alphanumeric characters or '-', start with a letter and end with an alphanumeric character`;
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return `${quoted(value)} is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(value)) return `${quoted(value)} must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character`;
  return undefined;
}

/** A fully qualified domain name: a DNS-1123 subdomain with at least two labels. */
export function domainNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  const problem = dns1123SubdomainProblem(value);
  if (problem) return problem;
  if (!value.includes('.')) return `${quoted(value)} must be a fully qualified domain name with at least two labels`;
  return undefined;
}

/** A host a KIngress rule may serve: a DNS name, or `*.` and a DNS name (what Envoy matches as a virtual host domain). */
export function ingressHostProblem(value: string): string | undefined {
  if (value === '') return 'must be a non-empty host name';
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `${quoted(value)} is not a host name: lower case letters, digits, '-' and '.' (optionally starting with '*.'), at most 253 characters`;
  }
  return undefined;
}

/** A header name that Envoy may match on or set: a token, and neither a pseudo-header nor Host (use rewriteHost). */
export function headerNameProblem(value: string, set: boolean): string | undefined {
  if (!HEADER_NAME.test(value)) return `${quoted(value)} is not an HTTP header name (letters, digits and !#$%&'*+.^_\`|~-)`;
  if (set && value.toLowerCase() === 'host') return 'Host cannot be set by a header; use rewriteHost';
  return undefined;
}

/** A header value Envoy accepts: no NUL, CR or LF (they would end the header or the request). */
export function headerValueProblem(value: string): string | undefined {
  return /[\0\r\n]/.test(value) ? `${quoted(value)} must not contain NUL, CR or LF` : undefined;
}

export function urlPathProblem(value: string): string | undefined {
  if (!URL_PATH.test(value)) return `${quoted(value)} is not a URL path: it starts with '/' and holds only visible ASCII without '?' or '#' (percent-encode the rest)`;
  return undefined;
}
