import { createHash } from 'node:crypto';
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

export function makeResource(typeUrl: TypeUrl, name: string, bytes: Uint8Array, hash: string = contentHash(bytes)): XdsResource {
  const any = new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(bytes).finish();
  // The Any ends with the resource's bytes: keep one copy and view the resource inside it.
  return { name, typeUrl, bytes: any.subarray(any.length - bytes.length), any, hash };
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export function encodeResource<T>(typeUrl: TypeUrl, name: string, fns: Encoder<T>, message: T): XdsResource {
  return makeResource(typeUrl, name, fns.encode(message).finish());
}
