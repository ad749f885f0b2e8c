/** Envoy resource type URLs that Ferry serves, and the order in which they must reach a gateway. */
export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  /** Route table shards: which RouteConfiguration serves a request, by Host and listener (route tables 'scoped'). */
  ScopedRoute: 'type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration',
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Make before break: what a resource refers to must arrive before it (Envoy's xDS ordering rules). */
export const PUSH_ORDER: readonly TypeUrl[] = [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Secret, TypeUrl.Listener, TypeUrl.ScopedRoute, TypeUrl.Route];

/** Listeners, clusters and scoped routes are wildcard subscriptions (Envoy subscribes to SRDS with no names). */
export const WILDCARD_TYPES: ReadonlySet<TypeUrl> = new Set([TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.ScopedRoute]);

/** The types that refer to clusters and secrets: held back until clusters are ACKed, and ACKs of them release removals. */
export const REFERRING_TYPES: readonly TypeUrl[] = [TypeUrl.Listener, TypeUrl.ScopedRoute, TypeUrl.Route];

export const SHORT_NAME: Record<TypeUrl, string> = {
  [TypeUrl.Cluster]: 'clusters',
  [TypeUrl.Endpoint]: 'endpoints',
  [TypeUrl.Secret]: 'secrets',
  [TypeUrl.Listener]: 'listeners',
  [TypeUrl.ScopedRoute]: 'scopedroutes',
  [TypeUrl.Route]: 'routes',
};

/** Envoy's names for the discovery services (`ferry status` columns; `ferry dump --type cds`). */
export const API_NAME: Record<TypeUrl, string> = {
  [TypeUrl.Cluster]: 'CDS', [TypeUrl.Endpoint]: 'EDS', [TypeUrl.Secret]: 'SDS', [TypeUrl.Listener]: 'LDS', [TypeUrl.ScopedRoute]: 'SRDS', [TypeUrl.Route]: 'RDS',
};

export function isTypeUrl(s: string): s is TypeUrl {
  return s in SHORT_NAME;
}
