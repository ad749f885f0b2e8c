import type { CurrentVersion } from '../xds/removal-barriers.js';
import { PUSH_ORDER, TypeUrl } from '../xds/resource-types.js';
import type { GatewayRole } from '../xds/roles.js';
import type { StreamInfo, StreamTypeInfo } from '../xds/stream-info.js';

/** The cache's current version of a type for a set of roles. */
export type { CurrentVersion };

/** Every gateway asks for these from its bootstrap; the others only once a listener or cluster refers to them. */
const ALWAYS_ASKED: ReadonlySet<TypeUrl> = new Set([TypeUrl.Listener, TypeUrl.Cluster]);

/** How one resource type of one gateway stands against what Ferry serves now (istioctl proxy-status words). */
export type SyncState = 'SYNCED' | 'STALE' | 'NACKED';

/**
 * NACKED while the gateway's last answer for the type was a rejection; SYNCED when it ACKed the current
 * version (or subscribes to nothing of a by-name type); STALE otherwise (in flight, or not sent yet).
 */
export function typeSyncState(type: StreamTypeInfo, current: string): SyncState {
  if (type.lastNack !== undefined) return 'NACKED';
  if (type.awaitingAck) return 'STALE';
  if (type.ackedVersion === current) return 'SYNCED';
  return !type.wildcard && type.subscribed.size === 0 ? 'SYNCED' : 'STALE';
}

/** Whether the cache serves anything of a type to a set of roles. */
export type HasResources = (roles: readonly GatewayRole[], typeUrl: TypeUrl) => boolean;

/**
 * True when the gateway asked for every type Ferry has something of (a gateway that just connected has not
 * asked for all yet) and every type it asked for is SYNCED.
 */
export function streamSynced(stream: StreamInfo, current: CurrentVersion, hasResources: HasResources): boolean {
  const asked = (typeUrl: TypeUrl): boolean => stream.types.some((type) => type.typeUrl === typeUrl);
  if (PUSH_ORDER.some((typeUrl) => !asked(typeUrl) && (ALWAYS_ASKED.has(typeUrl) || hasResources(stream.roles, typeUrl)))) return false;
  return stream.types.every((type) => typeSyncState(type, current(stream.roles, type.typeUrl)) === 'SYNCED');
}
