import { hash as oneShotHash } from 'node:crypto';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { resourceArena, type ArenaResident } from './arena.js';
import type { TypeUrl } from './resource-types.js';
import { withEncoded } from './reused-writer.js';
import { varintSize, writeVarint } from './wire.js';

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
  /** The length of `any`, without making its view (responses are sized before they are written). */
  readonly size: number;
  /** Content hash of `bytes` (hex, 16 chars): the resource's version in delta xDS. */
  readonly hash: string;
}

interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/**
 * The cache holds ~10^5 of these at 10k KIngresses, so each keeps only what it must: where its Any bytes are in
 * the shared arena and the length of the resource inside them. `any` and `bytes` are views made on demand, not
 * typed arrays (and ArrayBuffers) of its own.
 */
class EncodedResource implements XdsResource, ArenaResident {
  constructor(
    readonly name: string,
    readonly typeUrl: TypeUrl,
    public slab: Uint8Array,
    private offset: number,
    readonly size: number,
    private readonly byteLength: number,
    readonly hash: string,
  ) {}

  get any(): Uint8Array {
    return this.slab.subarray(this.offset, this.offset + this.size);
  }

  /** The Any ends with the resource's bytes. */
  get bytes(): Uint8Array {
    return this.slab.subarray(this.offset + this.size - this.byteLength, this.offset + this.size);
  }

  moveTo(slab: Uint8Array, offset: number): void {
    slab.set(this.any, offset);
    this.slab = slab;
    this.offset = offset;
  }
}

/** google.protobuf.Any's type_url field (1) with its value, and the tag of the value field (2), per type. */
const anyHeads = new Map<TypeUrl, Uint8Array>();

function anyHead(typeUrl: TypeUrl): Uint8Array {
  let head = anyHeads.get(typeUrl);
  if (!head) {
    head = new BinaryWriter().uint32(10).string(typeUrl).uint32(18).finish();
    anyHeads.set(typeUrl, head);
  }
  return head;
}

/** Wraps the encoded resource in an Any, written straight into the arena. */
export function makeResource(typeUrl: TypeUrl, name: string, bytes: Uint8Array, hash: string = contentHash(bytes)): XdsResource {
  const head = anyHead(typeUrl);
  const size = head.length + varintSize(bytes.length) + bytes.length;
  const { slab, offset } = resourceArena.allocate(size);
  slab.set(head, offset);
  const end = writeVarint(slab, offset + head.length, bytes.length);
  slab.set(bytes, end);
  return new EncodedResource(name, typeUrl, slab, offset, size, bytes.length, hash);
}

/**
 * Keeps the arena's waste bounded; the cache calls it after each batch of changes with a way to list every
 * resource it serves (one served to both roles may be listed twice), called only when enough was allocated since
 * the last compaction.
 */
export function compactResources(served: () => readonly XdsResource[]): void {
  if (!resourceArena.wantsCompaction) return;
  // Both roles may serve one resource object (SharedBuilds): it moves once.
  resourceArena.compact([...new Set(served())].filter((resource): resource is EncodedResource => resource instanceof EncodedResource));
}

/**
 * The first 64 bits of the SHA-256 of `bytes`, as 16 hex characters. Formatted from the digest bytes rather
 * than sliced from the full hex, which would keep all 64 characters alive behind each hash.
 */
export function contentHash(bytes: Uint8Array): string {
  return oneShotHash('sha256', bytes, 'buffer').toString('hex', 0, 8);
}

export function encodeResource<T>(typeUrl: TypeUrl, name: string, fns: Encoder<T>, message: T): XdsResource {
  return withEncoded((writer) => fns.encode(message, writer), (bytes) => makeResource(typeUrl, name, bytes));
}
