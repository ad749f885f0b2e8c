import { isDeepStrictEqual } from 'node:util';
import type { EndpointSlice } from '../model/kube.js';
import { SERVICE_NAME_LABEL } from '../model/kube.js';
import { OBJECT_KINDS, type AnyObject, type ObjectKind, type ObjectsByKind } from '../model/kinds.js';
import { flatJoin, objectKey } from '../model/meta.js';
import type { ObjectChange, StoreUpdate } from './changes.js';
import { ObjectIndex } from './index.js';

export type ChangeListener = (changes: readonly ObjectChange[]) => void;

/**
 * Every object Ferry knows, by kind and 'namespace/name' (cluster-scoped objects by name), with the index
 * translation needs. Objects are treated as immutable: a source replaces an object, never edits it in place.
 * Listeners hear, per applied batch, exactly which objects were added, updated (content changed) or deleted.
 */
export class Store {
  private readonly objects = new Map<ObjectKind, Map<string, ObjectsByKind[ObjectKind]>>(OBJECT_KINDS.map((kind) => [kind, new Map()]));
  private readonly listeners = new Set<ChangeListener>();
  /** list()'s key order per kind; dropped when a key of the kind is added or removed. */
  private readonly sortedKeys = new Map<ObjectKind, string[]>();
  private readonly slicesByService = new ObjectIndex<EndpointSlice>((slice) => {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    return service ? [flatJoin('/', slice.metadata.namespace ?? '', service)] : [];
  });

  /** Applies a batch and notifies listeners once with what really changed (an identical re-put is no change). */
  apply(updates: readonly StoreUpdate[]): ObjectChange[] {
    const changes: ObjectChange[] = [];
    for (const update of updates) {
      const change = 'delete' in update ? this.remove(update.kind, update.key) : this.put(update.kind, update.object);
      if (change) changes.push(change);
    }
    if (changes.length > 0) for (const listener of this.listeners) listener(changes);
    return changes;
  }

  get<K extends ObjectKind>(kind: K, key: string): ObjectsByKind[K] | undefined {
    return this.bucket(kind).get(key);
  }

  /**
   * All objects of a kind, in key order so that results are deterministic. The order is kept between calls and
   * sorted again only after a key came or went: an update (the usual change) leaves it, so Knative translation, which
   * lists every KIngress and Service on each of its passes, no longer sorts ~40k keys at 10k Knative Services.
   */
  list<K extends ObjectKind>(kind: K): ObjectsByKind[K][] {
    const bucket = this.bucket(kind);
    let keys = this.sortedKeys.get(kind);
    if (keys === undefined) {
      keys = [...bucket.keys()].sort();
      this.sortedKeys.set(kind, keys);
    }
    return keys.map((key) => bucket.get(key)!);
  }

  count(kind: ObjectKind): number {
    return this.bucket(kind).size;
  }

  /** EndpointSlices labelled kubernetes.io/service-name=<service> in the Service's namespace. */
  endpointSlicesForService(namespace: string, service: string): EndpointSlice[] {
    const slices = this.bucket('EndpointSlice');
    return this.slicesByService.keys(`${namespace}/${service}`).sort().map((key) => slices.get(key)!);
  }

  /** Returns a function that removes the listener. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket<K extends ObjectKind>(kind: K): Map<string, ObjectsByKind[K]> {
    return this.objects.get(kind) as Map<string, ObjectsByKind[K]>;
  }

  private put<K extends ObjectKind>(kind: K, object: ObjectsByKind[K]): ObjectChange | undefined {
    const key = objectKey(object);
    const bucket = this.bucket(kind);
    const previous = bucket.get(key);
    if (previous !== undefined && isDeepStrictEqual(previous, object)) return undefined;
    if (previous !== undefined) this.unindex(kind, key, previous);
    else this.sortedKeys.delete(kind);
    bucket.set(key, object);
    this.index(kind, key, object);
    return { kind, key, type: previous === undefined ? 'added' : 'updated', object, previous } as ObjectChange;
  }

  private remove(kind: ObjectKind, key: string): ObjectChange | undefined {
    const bucket = this.bucket(kind);
    const previous = bucket.get(key);
    if (previous === undefined) return undefined;
    bucket.delete(key);
    this.sortedKeys.delete(kind);
    this.unindex(kind, key, previous);
    return { kind, key, type: 'deleted', previous } as ObjectChange;
  }

  /** The one index translation needs; other kinds are looked up by key. */
  private index(kind: ObjectKind, key: string, object: AnyObject): void {
    if (kind === 'EndpointSlice') this.slicesByService.add(key, object as EndpointSlice);
  }

  private unindex(kind: ObjectKind, key: string, object: AnyObject): void {
    if (kind === 'EndpointSlice') this.slicesByService.remove(key, object as EndpointSlice);
  }
}
