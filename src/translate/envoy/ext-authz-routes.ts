import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import type { KIngress } from '../../model/ingress.js';
import type { TranslateConfig } from './config.js';
import { EXT_AUTHZ_DISABLED } from './ext-authz.js';
import { sortedMap } from './paths.js';
import type { RoutePath } from './route.js';

/** On a KIngress (or the Knative Service or Route it comes from): "true" keeps its hosts out of external authorization. */
export const DISABLE_EXT_AUTHZ_ANNOTATION = 'ferry.ingress.networking.knative.dev/disable-ext-authz';
/** What Knative's prober sends (knative.dev/networking/pkg/http/header ProbeKey, ProbeValue). */
export const PROBE_HEADER = 'K-Network-Probe';
export const PROBE_HEADER_VALUE = 'probe';

/** How one KIngress's routes meet external authorization. */
export interface RouteAuthorization {
  /** typed_per_filter_config of its virtual hosts: the filter off for a KIngress that opted out. */
  virtualHost: Readonly<Record<string, Any>> | undefined;
  /** A path as routed: a probe copy exempt from the check. */
  route(path: RoutePath): RoutePath;
}

const UNCHANGED: RouteAuthorization = { virtualHost: undefined, route: (path) => path };
const OPTED_OUT: RouteAuthorization = { virtualHost: EXT_AUTHZ_DISABLED, route: (path) => path };
const PROBES_EXEMPT: RouteAuthorization = { virtualHost: undefined, route: exemptProbe };

/**
 * With external authorization on, Knative's probes never reach the authorization service: a probe copy of a path
 * (paths.ts) skips the check. It then also matches `K-Network-Probe: probe`, so that what skips the check is a probe,
 * which Knative's queue-proxy and activator answer themselves (they echo the hash): no request reaches the application
 * unchecked, whatever headers a client sends. A KIngress annotated with DISABLE_EXT_AUTHZ_ANNOTATION is not checked
 * at all. Nothing changes while external authorization is off.
 */
export function routeAuthorization(ingress: KIngress, key: string, config: TranslateConfig, warnings: string[]): RouteAuthorization {
  if (!config.gateway.extAuthz) return UNCHANGED;
  const value = ingress.metadata.annotations?.[DISABLE_EXT_AUTHZ_ANNOTATION];
  if (value === undefined || value === 'false') return PROBES_EXEMPT;
  if (value === 'true') return OPTED_OUT;
  warnings.push(`${key}:metadata.annotations[${JSON.stringify(DISABLE_EXT_AUTHZ_ANNOTATION)}]: "${value}" is neither "true" nor "false"; its requests stay checked by the authorization service`);
  return PROBES_EXEMPT;
}

function exemptProbe(path: RoutePath): RoutePath {
  if (!path.isProbe) return path;
  return { ...path, headers: sortedMap([...path.headers, [PROBE_HEADER, PROBE_HEADER_VALUE]]), typedPerFilterConfig: EXT_AUTHZ_DISABLED };
}
