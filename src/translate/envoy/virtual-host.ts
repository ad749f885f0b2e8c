import { VirtualHost } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import type { Route } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import { contentHash } from '../../xds/resource.js';

/** A virtual host encoded once; route configurations are assembled from these bytes. */
export interface EncodedVirtualHost {
  name: string;
  domains: readonly string[];
  bytes: Uint8Array;
  hash: string;
}

/** Each host, and the host with any port: clients may send `Host: example.com:8080`. */
export function domainsForHosts(hosts: readonly string[]): string[] {
  // flatMap's result keeps room to grow; translations keep these arrays, so they are copied to their exact size.
  return hosts.flatMap((host) => [host, `${host}:*`]).slice();
}

export function encodeVirtualHost(name: string, hosts: readonly string[], routes: Route[]): EncodedVirtualHost {
  const domains = domainsForHosts(hosts);
  const bytes = VirtualHost.encode(VirtualHost.fromPartial({ name, domains, routes })).finish();
  return { name, domains, bytes, hash: contentHash(bytes) };
}
