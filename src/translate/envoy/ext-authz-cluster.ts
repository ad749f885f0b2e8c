import type { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import type { ExtAuthzOptions } from '../../model/ext-authz-options.js';
import { buildHostPortCluster } from './clusters.js';
import { EXT_AUTHZ_CLUSTER } from './ext-authz.js';

/**
 * The authorization service's cluster, sent by Ferry with the listeners whose ext_authz filter names it (and removed,
 * make before break, once none does): gRPC checks over HTTP/2, HTTP checks over HTTP/1.1.
 */
export function buildExtAuthzCluster(options: ExtAuthzOptions, connectTimeoutMs: number): Cluster {
  return buildHostPortCluster(EXT_AUTHZ_CLUSTER, options, connectTimeoutMs);
}
