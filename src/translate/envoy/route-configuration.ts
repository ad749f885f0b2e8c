import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { makeResource, type XdsResource } from '../../xds/resource.js';
import { withEncoded } from '../../xds/reused-writer.js';
import { TypeUrl } from '../../xds/resource-types.js';
import type { EncodedVirtualHost } from './virtual-host.js';

const NAME_FIELD_TAG = (1 << 3) | 2; // RouteConfiguration.name = 1, length-delimited
const VIRTUAL_HOSTS_FIELD_TAG = (2 << 3) | 2; // RouteConfiguration.virtual_hosts = 2, length-delimited

/**
 * A RouteConfiguration assembled from already encoded virtual hosts: a repeated message field is the
 * concatenation of its tagged, length-prefixed elements, so thousands of cached virtual hosts are
 * copied, not re-encoded.
 */
export function assembleRouteConfiguration(name: string, virtualHosts: readonly EncodedVirtualHost[]): XdsResource {
  return withEncoded((writer) => writeVirtualHosts(writer.uint32(NAME_FIELD_TAG).string(name), virtualHosts), (bytes) => makeResource(TypeUrl.Route, name, bytes));
}

/** Appends virtual hosts to a RouteConfiguration being written (its repeated field 2). */
export function writeVirtualHosts(writer: BinaryWriter, virtualHosts: readonly EncodedVirtualHost[]): BinaryWriter {
  for (const virtualHost of virtualHosts) writer.uint32(VIRTUAL_HOSTS_FIELD_TAG).bytes(virtualHost.bytes);
  return writer;
}

/** The virtual hosts of one KIngress as RouteConfiguration.virtual_hosts field bytes, ready to be concatenated. */
export function encodeVirtualHostsField(virtualHosts: readonly EncodedVirtualHost[]): Uint8Array {
  return writeVirtualHosts(new BinaryWriter(), virtualHosts).finish();
}

/** A RouteConfiguration from field bytes made by encodeVirtualHostsField, with a hash the caller maintains. */
export function assembleRouteConfigurationFromFields(name: string, fields: readonly Uint8Array[], hash: string): XdsResource {
  const head = new BinaryWriter().uint32(NAME_FIELD_TAG).string(name).finish();
  return makeResource(TypeUrl.Route, name, Buffer.concat([head, ...fields]), hash);
}
