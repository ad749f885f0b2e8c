import type { HTTPIngressPath, IngressRule } from '../../model/ingress.js';
import type { RoutePath, RouteSplit } from './route.js';

/** Knative's probe headers (knative.dev/networking/pkg/http/header). */
export const HASH_HEADER = 'K-Network-Hash';
export const HASH_HEADER_OVERRIDE = 'override';

/**
 * A rule's paths as routes, in match order: Knative's probe copies (ingress.InsertProbe: match
 * `K-Network-Hash: override`, set `K-Network-Hash: <hash>`) followed by the paths themselves, then
 * sorted longest literal prefix first and, for one prefix, the path with more header matches first, so
 * that a probe copy or a tag-header path is never shadowed by the plainer path. The sort is stable.
 */
export function routablePaths(
  rule: IngressRule,
  ruleField: string,
  hash: string,
  splitsOf: (path: HTTPIngressPath, pathField: string) => RouteSplit[],
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
  const probes = paths.map((path) => ({
    ...path,
    name: `${path.name}:probe`,
    isProbe: true,
    headers: sortedMap([...withoutKey(path.headers, HASH_HEADER), [HASH_HEADER, HASH_HEADER_OVERRIDE]]),
    appendHeaders: sortedMap([...withoutKey(path.appendHeaders, HASH_HEADER), [HASH_HEADER, hash]]),
  }));
  return [...probes, ...paths].sort((a, b) => b.prefix.length - a.prefix.length || b.headers.size - a.headers.size);
}

/** Header names are case-insensitive: drop any spelling of `key`. */
function withoutKey(map: ReadonlyMap<string, string>, key: string): Array<[string, string]> {
  return [...map].filter(([name]) => name.toLowerCase() !== key.toLowerCase());
}

/** Sorted by name, so that the output does not depend on the order of keys in the input document. */
export function sortedMap(entries: Iterable<[string, string]>): Map<string, string> {
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
