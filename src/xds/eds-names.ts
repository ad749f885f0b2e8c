import { Cluster, Cluster_DiscoveryType } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import type { XdsResource } from './resource.js';

/** Decoded once per encoded cluster: every stream that sends it asks (10k clusters per connecting gateway). */
const known = new WeakMap<XdsResource, string | undefined>();

/** The ClusterLoadAssignment name an EDS cluster will subscribe to, or undefined for other clusters. */
export function edsServiceName(cluster: XdsResource): string | undefined {
  if (known.has(cluster)) return known.get(cluster);
  const decoded = Cluster.decode(cluster.bytes);
  const name = decoded.type === Cluster_DiscoveryType.EDS ? decoded.edsClusterConfig?.serviceName || decoded.name : undefined;
  known.set(cluster, name);
  return name;
}
