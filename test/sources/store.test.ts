import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../src/model/kube.js';
import type { ObjectChange } from '../../src/store/changes.js';
import { Store } from '../../src/store/store.js';

const slice = (name: string, service: string, address = '10.0.0.1'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', endpoints: [{ addresses: [address] }],
});

describe('Store', () => {
  it('reports added, updated and deleted objects once per batch, and nothing for an identical re-put', () => {
    const store = new Store();
    const batches: ObjectChange[][] = [];
    store.onChange((changes) => batches.push([...changes]));
    store.apply([{ kind: 'EndpointSlice', object: slice('a', 'svc') }, { kind: 'EndpointSlice', object: slice('b', 'svc') }]);
    store.apply([{ kind: 'EndpointSlice', object: slice('a', 'svc') }]);
    store.apply([{ kind: 'EndpointSlice', object: slice('a', 'svc', '10.0.0.2') }, { kind: 'EndpointSlice', key: 'default/b', delete: true }]);
    expect(batches.map((b) => b.map((c) => `${c.type} ${c.key}`))).toEqual([['added default/a', 'added default/b'], ['updated default/a', 'deleted default/b']]);
    expect(batches[1]![0]!.previous).toEqual(slice('a', 'svc'));
  });

  it('indexes EndpointSlices by Service and follows label changes', () => {
    const store = new Store();
    store.apply([{ kind: 'EndpointSlice', object: slice('a', 'one') }, { kind: 'EndpointSlice', object: slice('b', 'one') }]);
    expect(store.endpointSlicesForService('default', 'one').map((s) => s.metadata.name)).toEqual(['a', 'b']);
    store.apply([{ kind: 'EndpointSlice', object: slice('b', 'two') }]);
    expect(store.endpointSlicesForService('default', 'one').map((s) => s.metadata.name)).toEqual(['a']);
    expect(store.endpointSlicesForService('default', 'two').map((s) => s.metadata.name)).toEqual(['b']);
  });

  it('lists in key order, with the current object of each key, across adds, updates, deletes and re-adds', () => {
    const store = new Store();
    const listed = (): string[] => store.list('EndpointSlice').map((s) => `${s.metadata.name}:${s.endpoints[0]!.addresses[0]}`);
    store.apply([{ kind: 'EndpointSlice', object: slice('c', 'svc') }, { kind: 'EndpointSlice', object: slice('a', 'svc') }]);
    expect(listed()).toEqual(['a:10.0.0.1', 'c:10.0.0.1']);
    store.apply([{ kind: 'EndpointSlice', object: slice('c', 'svc', '10.0.0.3') }]);
    expect(listed()).toEqual(['a:10.0.0.1', 'c:10.0.0.3']);
    store.apply([{ kind: 'EndpointSlice', object: slice('b', 'svc') }]);
    expect(listed()).toEqual(['a:10.0.0.1', 'b:10.0.0.1', 'c:10.0.0.3']);
    store.apply([{ kind: 'EndpointSlice', key: 'default/a', delete: true }]);
    expect(listed()).toEqual(['b:10.0.0.1', 'c:10.0.0.3']);
    store.apply([{ kind: 'EndpointSlice', object: slice('a', 'svc', '10.0.0.9') }]);
    expect(listed()).toEqual(['a:10.0.0.9', 'b:10.0.0.1', 'c:10.0.0.3']);
    expect(store.list('Route')).toEqual([]);
  });
});
