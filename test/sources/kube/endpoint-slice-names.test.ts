import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../../src/model/kube.js';
import { EndpointSliceNames } from '../../../src/sources/kube/endpoint-slice-names.js';

function slice(name: string, service: string | undefined, namespace = 'ns'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', endpoints: [],
    metadata: { name, namespace, ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) },
  };
}

describe('the names of every EndpointSlice by its Service', () => {
  it('follows slices as they come, move to another Service, lose their label and go', () => {
    const names = new EndpointSliceNames();
    names.set(slice('a-1', 'a'));
    names.set(slice('a-2', 'a'));
    names.set(slice('b-1', 'b'));
    names.set(slice('a-1', 'a', 'other'));
    expect(names.of('ns/a')).toEqual(['a-1', 'a-2']);
    names.set(slice('a-2', 'b'));
    expect([names.of('ns/a'), names.of('ns/b')]).toEqual([['a-1'], ['b-1', 'a-2']]);
    names.set(slice('b-1', undefined));
    expect(names.of('ns/b')).toEqual(['a-2']);
    expect(names.delete('ns/a-2')).toBe('ns/b');
    expect(names.delete('ns/b-1')).toBeUndefined();
    expect(names.of('ns/b')).toEqual([]);
    expect(names.of('other/a')).toEqual(['a-1']);
  });

  it('takes a complete list as the whole truth', () => {
    const names = new EndpointSliceNames();
    names.set(slice('a-1', 'a'));
    names.set(slice('gone', 'a'));
    names.replace([slice('a-1', 'a'), slice('c-1', 'c')]);
    expect([names.of('ns/a'), names.of('ns/c')]).toEqual([['a-1'], ['c-1']]);
  });
});
