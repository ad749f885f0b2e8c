import { HttpFilter } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { OnDemand } from 'envoy-proto-ts/envoy/extensions/filters/http/on_demand/v3/on_demand';
import type { TranslateConfig } from './config.js';
import { adsConfigSource, durationFromMs, toAny } from './proto-helpers.js';

/**
 * How long a request waits for a cluster it needs (Ferry answers in milliseconds; when Ferry cannot be reached, the
 * request gets 503 after this).
 */
export const ON_DEMAND_CLUSTER_TIMEOUT_MS = 5_000;

/**
 * `--clusters on-demand`: the HTTP filter that asks Ferry over ADS for a route's cluster the gateway does not hold
 * yet (Envoy's on-demand CDS) and holds the request until the cluster is there and warm (its endpoints came over
 * EDS). It sits just before the router, after authorization, so that refused requests load nothing. Ferry leaves
 * Service clusters out of a delta gateway's wildcard CDS subscription (see XdsServerOptions.onDemandCluster); a
 * SotW gateway still gets every cluster and the filter finds them there.
 *
 * Why: Envoy spends ~18 KB per cluster whether requests reach it or not (measured on Envoy 1.40 with the
 * bootstraps' trimmed stats: 13k clusters with one endpoint each, 263 MB allocated), most of a large gateway's
 * memory when most revisions are idle. What a gateway gives up: a revision's first request after the gateway
 * started (or after Ferry sent its cluster anew) waits one round trip to Ferry, and while Ferry cannot be reached
 * those requests get 503 instead of being served from the gateway's last configuration; a revision's
 * membership gauges exist once its cluster is loaded (its request and latency stats were created on first use
 * already).
 */
export function buildOnDemandFilter(config: TranslateConfig): HttpFilter[] {
  if (config.clusters !== 'on-demand') return [];
  const onDemand = OnDemand.fromPartial({ odcds: { source: adsConfigSource(), timeout: durationFromMs(ON_DEMAND_CLUSTER_TIMEOUT_MS) } });
  return [HttpFilter.fromPartial({ name: 'envoy.filters.http.on_demand', typedConfig: toAny('envoy.extensions.filters.http.on_demand.v3.OnDemand', OnDemand, onDemand) })];
}
