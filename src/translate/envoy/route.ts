import { Route } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import { overwriteHeaders } from './proto-helpers.js';
import { LISTENER_HEADER } from './scoped-routes.js';

/** One weighted destination of a path, its cluster already resolved. */
export interface RouteSplit {
  clusterName: string;
  weight: number;
  appendHeaders: ReadonlyMap<string, string>;
}

/** A KIngress path ready to become an Envoy route (probe copies included). */
export interface RoutePath {
  name: string;
  /** A K-Network-Probe copy of a path (Knative's ingress.InsertProbe). */
  isProbe: boolean;
  /** Literal prefix; never empty. */
  prefix: string;
  headers: ReadonlyMap<string, string>;
  appendHeaders: ReadonlyMap<string, string>;
  rewriteHost: string | undefined;
  splits: readonly RouteSplit[];
  /** HTTP filter settings of this route (ext-authz-routes.ts: a probe copy skips external authorization). */
  typedPerFilterConfig?: Readonly<Record<string, Any>>;
}

/**
 * A route with no timeout and no retry policy: Knative's queue-proxy owns request timeouts, and a 503
 * from the backend must reach the client as is. Splits with weight 0 are left out (they get nothing).
 */
export function buildRoute(path: RoutePath): Route {
  const match = {
    prefix: path.prefix,
    headers: [...path.headers].map(([name, exact]) => ({ name, stringMatch: { exact } })),
  };
  const requestHeadersToAdd = overwriteHeaders(path.appendHeaders);
  const typedPerFilterConfig = { ...path.typedPerFilterConfig };
  const weighted = path.splits.filter((split) => split.weight > 0);
  if (weighted.length === 0) {
    // Envoy rejects weighted clusters whose weights sum to 0; nothing may receive this path's traffic.
    return Route.fromPartial({ name: path.name, match, directResponse: { status: 503 }, requestHeadersToAdd, typedPerFilterConfig });
  }
  return Route.fromPartial({
    name: path.name,
    match,
    route: {
      weightedClusters: {
        clusters: weighted.map((split) => ({ name: split.clusterName, weight: split.weight, requestHeadersToAdd: overwriteHeaders(split.appendHeaders) })),
      },
      timeout: { seconds: 0, nanos: 0 },
      ...(path.rewriteHost ? { hostRewriteLiteral: path.rewriteHost } : {}),
    },
    requestHeadersToAdd,
    typedPerFilterConfig,
  });
}

/**
 * Answers 301 to the same URL over https (httpOption: Redirected on external plain-HTTP listeners). In a table that
 * both listeners share, it matches only requests whose listener header names the plain-HTTP listener.
 */
export function buildHttpsRedirectRoute(name: string, onlyListener?: string): Route {
  const headers = onlyListener ? [{ name: LISTENER_HEADER, stringMatch: { exact: onlyListener } }] : [];
  return Route.fromPartial({ name, match: { prefix: '/', headers }, redirect: { httpsRedirect: true } });
}
