import type { HTTPIngressPath, IngressRule } from '../../model/ingress.js';
import type { RoutePath, RouteSplit } from './route.js';

/** Knative's probe headers (knative.dev/networking/pkg/http/header). */
export const HASH_HEADER = 'K-Network-Hash';
export const HASH_HEADER_OVERRIDE = 'override';

/**
 * A rule's paths as routes, in match order, answering Knative's probes (`K-Network-Hash: override` must reach the
 * backend as `K-Network-Hash: <hash>`, which the queue-proxy or activator echoes). Where `probeCopies` is false, each
 * path itself overwrites a K-Network-Hash header that a request carries with the hash (and adds none otherwise): a
 * probe takes the path's own route. Else, and for a path that matches or sets K-Network-Hash itself, the path gets
 * Knative's probe copy (ingress.InsertProbe: match `K-Network-Hash: override`, set `K-Network-Hash: <hash>`): where
 * probes must route apart from other requests (redirected plain HTTP, external authorization). Sorted longest literal
 * prefix first and, for one prefix, the path with more header matches first, so that a probe copy or a tag-header path
 * is never shadowed by the plainer path. The sort is stable.
 *
 * One route instead of two halves what a gateway holds per path (at 10k KIngresses ~58 MB of the gateway Envoy's
 * memory) and the bytes of a change. The difference a client can see: a request with another K-Network-Hash value
 * reaches the backend with the current hash instead of its own (a prober that sends an older hash learns that the
 * gateway moved on, as it would from a copy matching the hash).
 */
export function routablePaths(
  rule: IngressRule,
  ruleField: string,
  hash: string,
  splitsOf: (path: HTTPIngressPath, pathField: string) => RouteSplit[],
  probeCopies: boolean,
): RoutePath[] {
  const paths: RoutePath[] = (rule.http?.paths ?? []).map((path, j) => {
    const field = `${ruleField}.http.paths[${j}]`;
    return {
      name: field,
      isProbe: false,
      prefix: path.path || '/',
      headers: sortedMap(Object.entries(path.headers ?? {}).map(([name, match]) => [name, match.exact ?? ''])),
      appendHeaders: sortedMap(Object.entries(path.appendHeaders ?? {})),
      rewriteHost: path.rewriteHost || undefined,
      splits: splitsOf(path, field),
    };
  });
  const copied = probeCopies ? paths : paths.filter(mentionsHashHeader);
  const probes = copied.map((path) => ({
    ...path,
    name: `${path.name}:probe`,
    isProbe: true,
    headers: sortedMap([...withoutKey(path.headers, HASH_HEADER), [HASH_HEADER, HASH_HEADER_OVERRIDE]]),
    appendHeaders: sortedMap([...withoutKey(path.appendHeaders, HASH_HEADER), [HASH_HEADER, hash]]),
  }));
  if (!probeCopies) for (const path of paths) if (!mentionsHashHeader(path)) path.probeHash = hash;
  return [...probes, ...paths].sort((a, b) => b.prefix.length - a.prefix.length || b.headers.size - a.headers.size);
}

function mentionsHashHeader(path: RoutePath): boolean {
  return [...path.headers.keys(), ...path.appendHeaders.keys()].some((name) => name.toLowerCase() === HASH_HEADER.toLowerCase());
}

/** Header names are case-insensitive: drop any spelling of `key`. */
function withoutKey(map: ReadonlyMap<string, string>, key: string): Array<[string, string]> {
  return [...map].filter(([name]) => name.toLowerCase() !== key.toLowerCase());
}

/** Sorted by name, so that the output does not depend on the order of keys in the input document. */
export function sortedMap(entries: Iterable<[string, string]>): Map<string, string> {
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
