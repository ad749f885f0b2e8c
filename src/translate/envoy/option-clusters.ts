import type { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import type { TranslateConfig } from './config.js';
import { buildTracingCollectorCluster } from './tracing.js';
import { buildExtAuthzCluster } from './ext-authz-cluster.js';

/**
 * The clusters that the gateway options name (the tracing collector, the authorization service), besides the
 * KIngresses' backends: sent with the listeners that use them, removed once no listener does (make before break, as
 * any cluster).
 */
export function buildOptionClusters(config: TranslateConfig): Cluster[] {
  const clusters: Cluster[] = [];
  if (config.gateway.tracing) clusters.push(buildTracingCollectorCluster(config.gateway.tracing, config.connectTimeoutMs));
  if (config.gateway.extAuthz) clusters.push(buildExtAuthzCluster(config.gateway.extAuthz, config.connectTimeoutMs));
  return clusters;
}
