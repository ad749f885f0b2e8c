import type { DiscoveryRequest } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import type { XdsResource } from './resource.js';
import { WILDCARD_TYPES } from './resource-types.js';
import { XdsStream, type Composed, type TypeState } from './stream.js';
import { encodeDiscoveryResponse } from './wire.js';

/**
 * State-of-the-world ADS: every response carries the full set of a type the gateway subscribes to
 * (all of it for wildcard types), under the cache's version for the stream's view.
 */
export class SotwStream extends XdsStream<DiscoveryRequest> {
  protected readonly sendsWhileIncomplete = false;

  protected handle(request: DiscoveryRequest, state: TypeState, first: boolean): void {
    if (first) {
      this.subscribe(state, request.resourceNames);
      const current = this.ctx.cache.version(this.roles, state.typeUrl);
      if (request.versionInfo !== '' && request.versionInfo === current) {
        // Reconnected (e.g. after a Ferry restart) holding exactly this content: resend nothing.
        for (const resource of this.wanted(state).values()) state.known.set(resource.name, resource.hash);
        this.adoptAsAcked(state, current);
        return;
      }
      state.initialResponseDue = state.wildcard;
      state.dirty = true;
      this.scheduleFlush();
      return;
    }
    const changed = this.subscribe(state, request.resourceNames);
    if (changed) state.dirty = true;
    // A stale nonce: the gateway has not seen the latest response yet. Keep its subscription, answer nothing.
    if (request.responseNonce !== state.sentNonce) return;
    this.answered(state, request.errorDetail);
    this.scheduleFlush();
  }

  protected noteChange(): void {}

  /** Absence from a response says nothing for a named type: its changes can wait. For a wildcard type it is a removal. */
  protected canHoldBack(state: TypeState): boolean {
    return !state.wildcard;
  }

  /** `known` is compared with the cache on every compose already. */
  protected lookAgain(): void {}

  protected compose(state: TypeState, version: string, nonce: string): Composed | undefined {
    const wanted = this.wanted(state);
    let changed = state.wildcard && wanted.size !== state.known.size;
    const single = this.oneAtATime(state);
    // Probes no longer wanted (removed, or rejected as they are) are over.
    if (single) for (const name of single) if (!wanted.has(name)) state.probe?.pending.delete(name);
    let carried: string | undefined;
    let partial = false;
    for (const resource of wanted.values()) {
      if (state.known.get(resource.name) === resource.hash) continue;
      // One new resource at a time (a pending probe first): the other changes wait for its answer.
      if (single && (carried !== undefined || (single.size > 0 && !single.has(resource.name)))) {
        wanted.delete(resource.name);
        partial = true;
        continue;
      }
      carried = resource.name;
      changed = true;
    }
    if (!changed && !state.initialResponseDue) return undefined;
    const sent = [...wanted.values()];
    // For wildcard types a missing resource is a removal; for named types absence says nothing.
    const removed = state.wildcard ? [...state.known.keys()].filter((name) => !wanted.has(name)) : [];
    return { bytes: encodeDiscoveryResponse(version, sent, state.typeUrl, nonce), sent, removed, partial };
  }

  /**
   * What a response carries: the type's resources the gateway wants. A content of a named type that the gateway
   * rejected is left out (it keeps its last good one): Envoy stops applying a response at the first resource it
   * rejects, so carrying it again would hold back the others.
   */
  private wanted(state: TypeState): Map<string, XdsResource> {
    const wanted = new Map<string, XdsResource>();
    if (state.wildcard) for (const resource of this.ctx.cache.list(this.roles, state.typeUrl)) wanted.set(resource.name, resource);
    for (const name of state.subscribed) {
      const resource = this.ctx.cache.get(this.roles, state.typeUrl, name);
      if (resource && (state.wildcard || state.rejected.get(name)?.hash !== resource.hash)) wanted.set(name, resource);
    }
    return wanted;
  }

  /** SotW requests carry the whole interest list; returns true if it changed. */
  private subscribe(state: TypeState, resourceNames: readonly string[]): boolean {
    const wildcard = WILDCARD_TYPES.has(state.typeUrl) && (resourceNames.length === 0 || resourceNames.includes('*'));
    const names = new Set(resourceNames.filter((name) => name !== '*'));
    let changed = wildcard !== state.wildcard || names.size !== state.subscribed.size;
    for (const name of state.subscribed) {
      if (names.has(name)) continue;
      changed = true;
      state.subscribed.delete(name);
      if (!wildcard) state.known.delete(name);
    }
    for (const name of names) state.subscribed.add(name);
    state.wildcard = wildcard;
    return changed;
  }
}
