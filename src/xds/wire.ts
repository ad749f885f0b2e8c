import type { XdsResource } from './resource.js';

/**
 * DiscoveryResponse bytes assembled from the cached google.protobuf.Any bytes: a repeated message field
 * is a concatenation of (tag, length, bytes), so nothing is re-encoded from objects per stream.
 */

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field (wire type 2): tag, length, bytes. */
function field(fieldNumber: number, bytes: Uint8Array): Buffer[] {
  return [varint((fieldNumber << 3) | 2), varint(bytes.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

function stringField(fieldNumber: number, value: string): Buffer[] {
  return value === '' ? [] : field(fieldNumber, Buffer.from(value, 'utf8'));
}

/** envoy.service.discovery.v3.DiscoveryResponse: version_info=1, resources=2, type_url=4, nonce=5. */
export function encodeDiscoveryResponse(versionInfo: string, resources: readonly XdsResource[], typeUrl: string, nonce: string): Buffer {
  const parts = [...stringField(1, versionInfo)];
  for (const resource of resources) parts.push(...field(2, resource.any));
  parts.push(...stringField(4, typeUrl), ...stringField(5, nonce));
  return Buffer.concat(parts);
}

/** envoy.service.discovery.v3.Resource: version=1, resource=2 (Any), name=3. */
function encodeDeltaResource(resource: XdsResource): Buffer {
  return Buffer.concat([...stringField(1, resource.hash), ...field(2, resource.any), ...stringField(3, resource.name)]);
}

/**
 * envoy.service.discovery.v3.DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4,
 * nonce=5, removed_resources=6. Each resource's version is its content hash.
 */
export function encodeDeltaDiscoveryResponse(
  systemVersionInfo: string, resources: readonly XdsResource[], removed: readonly string[], typeUrl: string, nonce: string,
): Buffer {
  const parts = [...stringField(1, systemVersionInfo)];
  for (const resource of resources) parts.push(...field(2, encodeDeltaResource(resource)));
  parts.push(...stringField(4, typeUrl), ...stringField(5, nonce));
  for (const name of removed) parts.push(...field(6, Buffer.from(name, 'utf8')));
  return Buffer.concat(parts);
}
