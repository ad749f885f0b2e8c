import { VirtualHost } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import type { Route } from 'envoy-proto-ts/envoy/config/route/v3/route_components';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import { ResourceArena, type ArenaResident } from '../../xds/arena.js';
import { contentHash } from '../../xds/resource.js';
import { withEncoded } from '../../xds/reused-writer.js';

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

/** `typedPerFilterConfig`: HTTP filter settings for the whole virtual host (e.g. external authorization off). */
export function encodeVirtualHost(name: string, hosts: readonly string[], routes: Route[], typedPerFilterConfig?: Readonly<Record<string, Any>>): EncodedVirtualHost {
  const domains = domainsForHosts(hosts);
  const bytes = withEncoded((writer) => VirtualHost.encode(VirtualHost.fromPartial({ name, domains, routes, typedPerFilterConfig: { ...typedPerFilterConfig } }), writer), intoArena);
  return { name, domains, bytes, hash: contentHash(bytes) };
}

/**
 * Virtual host bytes live as long as their KIngress's translation (~10^4 at 10k KIngresses): they share slabs
 * instead of an ArrayBuffer each, and the gateway assembler keeps the slabs dense with compactVirtualHosts.
 */
const virtualHostArena = new ResourceArena();

function intoArena(bytes: Uint8Array): Uint8Array {
  const { slab, offset } = virtualHostArena.allocate(bytes.length);
  slab.set(bytes, offset);
  return slab.subarray(offset, offset + bytes.length);
}

/** Moves the virtual hosts of mostly dead slabs out; `kept` lists every virtual host still kept, and is called only when due. */
export function compactVirtualHosts(kept: () => Iterable<EncodedVirtualHost>): void {
  if (!virtualHostArena.wantsCompaction) return;
  const residents = new Map<EncodedVirtualHost, ArenaResident>();
  for (const virtualHost of kept()) if (!residents.has(virtualHost)) residents.set(virtualHost, resident(virtualHost));
  virtualHostArena.compact([...residents.values()]);
}

function resident(virtualHost: EncodedVirtualHost): ArenaResident {
  return {
    get slab() {
      return virtualHost.bytes;
    },
    size: virtualHost.bytes.length,
    moveTo(slab, offset) {
      slab.set(virtualHost.bytes, offset);
      virtualHost.bytes = slab.subarray(offset, offset + virtualHost.bytes.length);
    },
  };
}
