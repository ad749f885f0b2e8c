import type { XdsResource } from './resource.js';

/**
 * DiscoveryResponse bytes assembled from the cached google.protobuf.Any bytes: a repeated message field
 * is a concatenation of (tag, length, bytes), so nothing is re-encoded from objects per stream. A response is
 * sized first, then written into one Buffer: at 10k KIngresses a first response holds ~10^4 resources, and a
 * Buffer per tag, length and name would be ~10^5 short-lived objects (and pooled slabs) per response, garbage
 * that outlives the response when a scavenge promotes it.
 */

/** Bytes of a non-negative integer as a protobuf varint. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Writes a non-negative integer as a varint at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  let at = offset;
  let rest = value;
  while (rest > 0x7f) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  target[at++] = rest;
  return at;
}

/** A length-delimited field (wire type 2) of a field number below 16, whose tag is one byte. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Proto3 leaves an empty string field out. */
function stringFieldSize(value: string): number {
  return value === '' ? 0 : fieldSize(Buffer.byteLength(value, 'utf8'));
}

/** Writes fields front to back into a Buffer sized for them. */
class FieldWriter {
  private at = 0;

  constructor(readonly buffer: Buffer) {}

  bytes(fieldNumber: number, bytes: Uint8Array): void {
    this.head(fieldNumber, bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
  }

  string(fieldNumber: number, value: string): void {
    this.head(fieldNumber, Buffer.byteLength(value, 'utf8'));
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  /** Proto3 leaves an empty string field out. */
  optionalString(fieldNumber: number, value: string): void {
    if (value !== '') this.string(fieldNumber, value);
  }

  head(fieldNumber: number, length: number): void {
    this.varint((fieldNumber << 3) | 2);
    this.varint(length);
  }

  /** The written bytes; the size computed beforehand must have been exact. */
  finish(): Buffer {
    if (this.at !== this.buffer.length) throw new Error(`xDS response: wrote ${this.at} bytes into ${this.buffer.length}`);
    return this.buffer;
  }

  private varint(value: number): void {
    this.at = writeVarint(this.buffer, this.at, value);
  }
}

/** envoy.service.discovery.v3.DiscoveryResponse: version_info=1, resources=2, type_url=4, nonce=5. */
export function encodeDiscoveryResponse(versionInfo: string, resources: readonly XdsResource[], typeUrl: string, nonce: string): Buffer {
  let size = stringFieldSize(versionInfo) + stringFieldSize(typeUrl) + stringFieldSize(nonce);
  for (const resource of resources) size += fieldSize(resource.size);
  const writer = new FieldWriter(Buffer.allocUnsafe(size));
  writer.optionalString(1, versionInfo);
  for (const resource of resources) writer.bytes(2, resource.any);
  writer.optionalString(4, typeUrl);
  writer.optionalString(5, nonce);
  return writer.finish();
}

/** envoy.service.discovery.v3.Resource: version=1, resource=2 (Any), name=3. */
function deltaResourceSize(resource: XdsResource): number {
  return stringFieldSize(resource.hash) + fieldSize(resource.size) + stringFieldSize(resource.name);
}

function writeDeltaResource(writer: FieldWriter, resource: XdsResource): void {
  writer.optionalString(1, resource.hash);
  writer.bytes(2, resource.any);
  writer.optionalString(3, resource.name);
}

/**
 * envoy.service.discovery.v3.DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4,
 * nonce=5, removed_resources=6. Each resource's version is its content hash.
 */
export function encodeDeltaDiscoveryResponse(
  systemVersionInfo: string, resources: readonly XdsResource[], removed: readonly string[], typeUrl: string, nonce: string,
): Buffer {
  let size = stringFieldSize(systemVersionInfo) + stringFieldSize(typeUrl) + stringFieldSize(nonce);
  const sizes = new Array<number>(resources.length);
  for (let i = 0; i < resources.length; i++) size += fieldSize((sizes[i] = deltaResourceSize(resources[i]!)));
  for (const name of removed) size += fieldSize(Buffer.byteLength(name, 'utf8'));
  const writer = new FieldWriter(Buffer.allocUnsafe(size));
  writer.optionalString(1, systemVersionInfo);
  for (let i = 0; i < resources.length; i++) {
    writer.head(2, sizes[i]!);
    writeDeltaResource(writer, resources[i]!);
  }
  writer.optionalString(4, typeUrl);
  writer.optionalString(5, nonce);
  for (const name of removed) writer.string(6, name);
  return writer.finish();
}
