import { Cluster, Cluster_DiscoveryType } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import type { XdsResource } from './resource.js';

/** The ClusterLoadAssignment name an EDS cluster will subscribe to, or undefined for other clusters. */
export function edsServiceName(cluster: XdsResource): string | undefined {
  const decoded = Cluster.decode(cluster.bytes);
  if (decoded.type !== Cluster_DiscoveryType.EDS) return undefined;
  return decoded.edsClusterConfig?.serviceName || decoded.name;
}
