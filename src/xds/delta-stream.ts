import type { DeltaDiscoveryRequest } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import type { XdsResource } from './resource.js';
import { TypeUrl, WILDCARD_TYPES } from './resource-types.js';
import type { GatewayRole } from './roles.js';
import { XdsStream, type Composed, type TypeState } from './stream.js';
import { encodeDeltaDiscoveryResponse } from './wire.js';

/** What a delta stream still has to look at for one type. */
interface DeltaTracking {
  /** Cache sequence per role up to which changes were noted. */
  readonly seqs: Map<GatewayRole, number>;
  /** Names that may differ from what the gateway holds; 'all' after a first request or a journal overflow. */
  dirtyNames: Set<string> | 'all';
}

/**
 * Incremental ADS: only resources whose hash differs from what the gateway holds are sent, with their
 * hash as version, and names it holds that no longer exist go in removed_resources.
 */
export class DeltaStream extends XdsStream<DeltaDiscoveryRequest> {
  private readonly tracking = new Map<TypeState, DeltaTracking>();
  protected readonly sendsWhileIncomplete = true;

  protected handle(request: DeltaDiscoveryRequest, state: TypeState, first: boolean): void {
    if (first) {
      const initial = Object.entries(request.initialResourceVersions);
      for (const [name, version] of initial) state.known.set(name, version);
      state.wildcard = WILDCARD_TYPES.has(state.typeUrl) && request.resourceNamesSubscribe.length === 0;
      this.tracking.set(state, {
        seqs: new Map(this.roles.map((role) => [role, this.ctx.cache.seq(role, state.typeUrl)])),
        dirtyNames: 'all',
      });
      state.dirty = true;
    }
    const tracking = this.tracking.get(state)!;
    for (const name of request.resourceNamesSubscribe) {
      if (name === '*') {
        if (!state.wildcard) tracking.dirtyNames = 'all';
        state.wildcard = true;
      } else if (!state.subscribed.has(name)) {
        state.subscribed.add(name);
        if (tracking.dirtyNames !== 'all') tracking.dirtyNames.add(name);
      }
      state.dirty = true;
    }
    // A fresh gateway waits for the first wildcard answer; a reconnecting one already has its resources.
    if (first) state.initialResponseDue = state.wildcard && Object.keys(request.initialResourceVersions).length === 0;
    for (const name of request.resourceNamesUnsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        continue;
      }
      state.subscribed.delete(name);
      state.known.delete(name);
    }
    // Subscriptions count whatever the nonce; only an answer to the latest response is an ACK or NACK.
    if (request.responseNonce !== '' && request.responseNonce === state.sentNonce) this.answered(state, request.errorDetail);
    this.scheduleFlush();
  }

  protected noteChange(state: TypeState, role: GatewayRole): void {
    const tracking = this.tracking.get(state);
    if (!tracking) return;
    const since = tracking.seqs.get(role) ?? 0;
    tracking.seqs.set(role, this.ctx.cache.seq(role, state.typeUrl));
    if (tracking.dirtyNames === 'all') return;
    const changed = this.ctx.cache.changedSince(role, state.typeUrl, since);
    if (!changed) tracking.dirtyNames = 'all';
    else for (const name of changed) tracking.dirtyNames.add(name);
  }

  protected readonly canHoldBack = (): boolean => true;

  protected lookAgain(state: TypeState, names: readonly string[]): void {
    const tracking = this.tracking.get(state)!;
    if (tracking.dirtyNames !== 'all') for (const name of names) tracking.dirtyNames.add(name);
  }

  protected compose(state: TypeState, version: string, nonce: string): Composed | undefined {
    const tracking = this.tracking.get(state)!;
    const candidates = tracking.dirtyNames === 'all' ? this.everyName(state) : tracking.dirtyNames;
    tracking.dirtyNames = new Set();
    const sent: XdsResource[] = [];
    const removed: string[] = [];
    const complete = this.ctx.cache.isComplete;
    const single = this.oneAtATime(state);
    let carried = single && single.size > 0 ? this.firstChanged(state, single) : undefined;
    if (carried !== undefined) candidates.add(carried);
    let partial = false;
    for (const name of candidates) {
      const relevant = this.coveredByWildcard(state, name) || state.subscribed.has(name);
      const resource = relevant ? this.ctx.cache.get(this.roles, state.typeUrl, name) : undefined;
      if (resource) {
        if (state.known.get(name) === resource.hash) continue;
        if (single && carried !== undefined && carried !== name) {
          tracking.dirtyNames.add(name);
          partial = true;
          continue;
        }
        carried = name;
        sent.push(resource);
      } else if (state.known.has(name)) {
        // Not translated yet, perhaps: looked at again once the cache is complete.
        if (complete) removed.push(name);
        else tracking.dirtyNames.add(name);
      }
    }
    if (sent.length === 0 && removed.length === 0 && !(state.initialResponseDue && complete)) return undefined;
    return { bytes: encodeDeltaDiscoveryResponse(version, sent, removed, state.typeUrl, nonce), sent, removed, partial };
  }

  /** The first of `names` that the gateway does not hold as the cache has it; the others are no longer pending. */
  private firstChanged(state: TypeState, names: ReadonlySet<string>): string | undefined {
    for (const name of names) {
      const resource = this.ctx.cache.get(this.roles, state.typeUrl, name);
      if (resource && state.known.get(name) !== resource.hash) return name;
      state.probe?.pending.delete(name);
    }
    return undefined;
  }

  private everyName(state: TypeState): Set<string> {
    const names = new Set([...state.known.keys(), ...state.subscribed]);
    if (state.wildcard) for (const resource of this.ctx.cache.list(this.roles, state.typeUrl)) if (this.coveredByWildcard(state, resource.name)) names.add(resource.name);
    return names;
  }

  /** A wildcard subscription covers every resource of its type but the clusters that are sent on demand. */
  private coveredByWildcard(state: TypeState, name: string): boolean {
    return state.wildcard && !(state.typeUrl === TypeUrl.Cluster && this.ctx.onDemandCluster?.(name) === true);
  }
}
