import type { EndpointSlice } from '../../model/kube.js';
import { SERVICE_NAME_LABEL } from '../../model/kube.js';
import { flatJoin, objectKey } from '../../model/meta.js';
import { StringSets } from '../../string-sets.js';

/**
 * The names of the cluster's EndpointSlices by the Service they belong to ('ns/name'), kept from the EndpointSlice
 * watch whether Ferry keeps the slice or not (it is dropped while no KIngress names its Service). A KIngress that
 * names a Service for the first time then has its slices read by name: a label-selected list instead makes the API
 * server look at every slice of the namespace, for each new KIngress (10^8 slices looked at for 10k KIngresses in
 * one namespace). Names only: a few dozen bytes per slice.
 */
export class EndpointSliceNames {
  private readonly byService = new StringSets();
  /** Each slice's Service, by the slice's 'ns/name': to move or drop it when its label changes or it goes. */
  private readonly serviceOf = new Map<string, string>();

  /** The slices of a Service, by name. */
  of(service: string): string[] {
    return [...this.byService.members(service)];
  }

  set(slice: EndpointSlice): void {
    const namespace = slice.metadata.namespace ?? '';
    const key = objectKey(slice);
    const label = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const service = label === undefined ? undefined : flatJoin('/', namespace, label);
    const before = this.serviceOf.get(key);
    if (before === service) return;
    if (before !== undefined) this.byService.delete(before, slice.metadata.name);
    if (service === undefined) {
      this.serviceOf.delete(key);
      return;
    }
    this.serviceOf.set(key, service);
    this.byService.add(service, slice.metadata.name);
  }

  /** A slice that is gone, by its 'ns/name'; returns the Service it belonged to. */
  delete(key: string): string | undefined {
    const service = this.serviceOf.get(key);
    if (service === undefined) return undefined;
    this.serviceOf.delete(key);
    this.byService.delete(service, key.slice(key.indexOf('/') + 1));
    return service;
  }

  /** A complete list: what is not in it is gone. */
  replace(slices: Iterable<EndpointSlice>): void {
    const listed = new Set<string>();
    for (const slice of slices) {
      this.set(slice);
      listed.add(objectKey(slice));
    }
    for (const key of [...this.serviceOf.keys()]) if (!listed.has(key)) this.delete(key);
  }
}
