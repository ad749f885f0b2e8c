import { hash as oneShotHash } from 'node:crypto';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { TypeUrl } from './resource-types.js';

/**
 * One Envoy resource as the cache holds it: encoded once when its content changes, then shared by every
 * stream that receives it. `any` is the resource already wrapped in google.protobuf.Any, so that a
 * DiscoveryResponse is assembled by concatenating these bytes.
 */
export interface XdsResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** The encoded resource message (e.g. envoy.config.cluster.v3.Cluster). */
  readonly bytes: Uint8Array;
  /** The same bytes wrapped in google.protobuf.Any {type_url, value}. */
  readonly any: Uint8Array;
  /** Content hash of `bytes` (hex, 16 chars): the resource's version in delta xDS. */
  readonly hash: string;
}

interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/**
 * The cache holds ~10^5 of these at 10k KIngresses, so each keeps only what it must: the Any bytes and the
 * length of the resource inside them. `bytes` is a view made on demand (rarely read: EDS names, dumps),
 * not a second typed array per resource.
 */
class EncodedResource implements XdsResource {
  constructor(
    readonly name: string,
    readonly typeUrl: TypeUrl,
    readonly any: Uint8Array,
    private readonly byteLength: number,
    readonly hash: string,
  ) {}

  /** The Any ends with the resource's bytes. */
  get bytes(): Uint8Array {
    return this.any.subarray(this.any.length - this.byteLength);
  }
}

export function makeResource(typeUrl: TypeUrl, name: string, bytes: Uint8Array, hash: string = contentHash(bytes)): XdsResource {
  const any = new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(bytes).finish();
  return new EncodedResource(name, typeUrl, any, bytes.length, hash);
}

/**
 * The first 64 bits of the SHA-256 of `bytes`, as 16 hex characters. Formatted from the digest bytes rather
 * than sliced from the full hex, which would keep all 64 characters alive behind each hash.
 */
export function contentHash(bytes: Uint8Array): string {
  return oneShotHash('sha256', bytes, 'buffer').toString('hex', 0, 8);
}

export function encodeResource<T>(typeUrl: TypeUrl, name: string, fns: Encoder<T>, message: T): XdsResource {
  return makeResource(typeUrl, name, fns.encode(message).finish());
}
