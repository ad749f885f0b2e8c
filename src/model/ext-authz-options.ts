/** External authorization: every request is checked by the operator's authorization service before it is routed. */
export interface ExtAuthzOptions {
  /** A DNS name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  protocol: 'grpc' | 'http';
  /** How long the gateway waits for the authorization service's answer. */
  timeoutMs: number;
  /** Let requests through when the authorization service cannot be asked (down, timed out); off: answer 403. */
  failureModeAllow: boolean;
  /** Up to this many bytes of the request body go with the check; undefined: no body (nothing is buffered). */
  maxRequestBytes: number | undefined;
  /** HTTP only: put before the request's path in the check request. */
  pathPrefix: string | undefined;
}

/** The external authorization keys of config-ferry, in the order of the README's table. */
export const EXT_AUTHZ_OPTION_KEYS = [
  'ext-authz-host', 'ext-authz-protocol', 'ext-authz-timeout', 'ext-authz-failure-mode-allow', 'ext-authz-max-request-bytes', 'ext-authz-path-prefix',
] as const;

/** What `ext-authz-host` alone turns on: gRPC, 2 s (net-kourier's defaults), fail closed, no body. */
export function defaultExtAuthz(address: { host: string; port: number }): ExtAuthzOptions {
  return { ...address, protocol: 'grpc', timeoutMs: 2_000, failureModeAllow: false, maxRequestBytes: undefined, pathPrefix: undefined };
}

/** A path prefix for the HTTP check request: `/` and visible characters, no query. */
export function parseAuthorizationPathPrefix(text: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(text) || /[?#]/.test(text)) throw new Error(`"${text}" is not a path prefix; write it like /authorize`);
  return text;
}
