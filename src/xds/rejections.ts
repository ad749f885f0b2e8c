import type { XdsCache } from './cache.js';
import type { TypeUrl } from './resource-types.js';
import type { Rejection, StreamInfo } from './stream-info.js';

/** A resource that a connected gateway rejects in the content Ferry serves now. */
export interface CurrentRejection extends Rejection {
  nodeId: string;
  typeUrl: TypeUrl;
  name: string;
}

/**
 * The rejections of these streams that still hold: the cache serves the very content that was rejected. A content
 * changed since (fixed, and on its way) or a resource removed is no longer the gateway's rejection of what Ferry serves.
 */
export function currentRejections(streams: readonly StreamInfo[], cache: XdsCache): CurrentRejection[] {
  const found: CurrentRejection[] = [];
  for (const stream of streams) {
    for (const type of stream.types) {
      for (const [name, rejection] of type.rejected) {
        if (cache.get(stream.roles, type.typeUrl, name)?.hash === rejection.hash) found.push({ ...rejection, nodeId: stream.nodeId, typeUrl: type.typeUrl, name });
      }
    }
  }
  return found;
}
