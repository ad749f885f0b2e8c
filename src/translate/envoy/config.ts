import { DEFAULT_GATEWAY_OPTIONS, type GatewayOptions } from '../../model/gateway-options.js';
import type { HttpOption } from '../../model/ingress.js';
import type { EndpointSlice, Secret, Service } from '../../model/kube.js';
import type { GatewayRole } from '../../xds/roles.js';

export interface ListenerPorts {
  http: number;
  https: number;
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

/** Operator settings that shape the Envoy resources (not per ingress). */
export interface TranslateConfig {
  /** Address the gateway listeners bind to, unless the gateway options name listen addresses. */
  bindAddress: string;
  ports: Record<GatewayRole, ListenerPorts>;
  /** Upstream connect timeout: short, so that a dead pod is noticed quickly. */
  connectTimeoutMs: number;
  /** The operator's options of config-ferry (access logs, timeouts, client addresses, TLS policy...), changeable at run time. */
  gateway: GatewayOptions;
  /** The activator Service: fallback endpoints for a backend with no ready endpoint. Undefined turns the fallback off. */
  activator: ObjectRef | undefined;
  /** A certificate served on the HTTPS listeners to clients whose SNI matches no spec.tls host. */
  defaultCertificate: ObjectRef | undefined;
  /**
   * Where a gateway reaches the local gateway's HTTP listener. Knative routes a DomainMapping to its Route's
   * placeholder ExternalName Service, which names this host: such a backend dials `port` instead of the Service port
   * (in a cluster the local gateway Service maps 80 to its listener; a single local Envoy serving both roles dials
   * its own local listener).
   */
  localGateway: { host: string; port: number };
  /**
   * 'single': one RouteConfiguration per listener holding every virtual host (RDS). 'scoped': one per KIngress and
   * listener, chosen per request by Host through scoped routes (SRDS), so that a change sends Envoy one small table
   * instead of the whole one (see scoped-routes.ts). 'sharded': scopes as 'scoped', pointing to routeTableShards
   * tables per kind, each holding the KIngresses that hash to it (fewer tables for Envoy to hold, see
   * sharded-routes.ts). Scoped matching of the Host is case-sensitive.
   */
  routeTables: 'single' | 'scoped' | 'sharded';
  /** Sharded route tables: how many tables per kind (both roles, external, local). */
  routeTableShards: number;
  /**
   * The httpOption of a KIngress that sets none: config-network's http-protocol (Redirected answers 301 to https on
   * the external plain-HTTP listener, as the KIngress's own httpOption does), changeable at run time.
   */
  defaultHttpOption: HttpOption;
  /** config-network's system-internal-tls: TLS to the revisions' TLS port, trusting Knative's CA (system-internal-tls.ts). */
  systemInternalTls: boolean;
  /**
   * 'all': every gateway holds every revision's cluster. 'on-demand': a delta-xDS gateway asks for a revision's cluster
   * on the first request that needs it (Envoy's on-demand CDS); the clusters of gateway options stay always sent. An
   * Envoy cluster costs ~18 KB whether it is used or not, so on-demand bounds a gateway's memory by the revisions
   * it serves rather than by those that exist (see on-demand-clusters.ts).
   */
  clusters: 'all' | 'on-demand';
}

/**
 * 256 tables per kind: at 10k KIngresses ~40 KIngresses (~27 KB) per shard, which a change sends and Envoy parses
 * again. Envoy's memory hardly depends on the count (measured at 10k: 634 MB allocated with 64 shards, 636 with 256,
 * 647 with 1024, 707 with a table per KIngress), so the count is chosen for small changes; at 1k a shard holds ~4.
 */
export const DEFAULT_ROUTE_TABLE_SHARDS = 256;

export const DEFAULT_TRANSLATE_CONFIG: TranslateConfig = {
  bindAddress: '0.0.0.0',
  ports: { external: { http: 8080, https: 8443 }, local: { http: 8081, https: 8444 } },
  connectTimeoutMs: 2000,
  gateway: DEFAULT_GATEWAY_OPTIONS,
  activator: { namespace: 'knative-serving', name: 'activator-service' },
  defaultCertificate: undefined,
  localGateway: { host: 'ferry-internal.ferry-system.svc.cluster.local', port: 80 },
  routeTables: 'scoped',
  routeTableShards: DEFAULT_ROUTE_TABLE_SHARDS,
  defaultHttpOption: 'Enabled',
  systemInternalTls: false,
  clusters: 'all',
};

/** What translation reads besides the KIngress itself: lookups into the store, no I/O. */
export interface TranslateContext {
  config: TranslateConfig;
  service(namespace: string, name: string): Service | undefined;
  /** The EndpointSlices labelled kubernetes.io/service-name=<serviceName> in the namespace. */
  endpointSlices(namespace: string, serviceName: string): readonly EndpointSlice[];
  secret(namespace: string, name: string): Secret | undefined;
}
