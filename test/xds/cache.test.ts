import { describe, expect, it } from 'vitest';
import { XdsCache } from '../../src/xds/cache.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import type { GatewayRole } from '../../src/xds/roles.js';
import { endpoints, route, secret, staticCluster } from './fixtures.js';

function recordChanges(cache: XdsCache): Array<[GatewayRole, TypeUrl[]]> {
  const seen: Array<[GatewayRole, TypeUrl[]]> = [];
  cache.onChange((role, types) => seen.push([role, types]));
  return seen;
}

const names = (cache: XdsCache, roles: GatewayRole[], typeUrl: TypeUrl): string[] => cache.list(roles, typeUrl).map((r) => r.name).sort();

describe('XdsCache', () => {
  it('replaces a set, reports whether it changed, and notifies only on change', () => {
    const cache = new XdsCache();
    const seen = recordChanges(cache);
    expect(cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')])).toBe(true);
    expect(cache.setResources('external', TypeUrl.Cluster, [staticCluster('b'), staticCluster('a')])).toBe(false);
    expect(seen).toEqual([['external', [TypeUrl.Cluster]]]);
    expect(cache.setResources('external', TypeUrl.Cluster, [staticCluster('a', 1), staticCluster('b')])).toBe(true);
    expect(cache.get(['external'], TypeUrl.Cluster, 'a')?.hash).toBe(staticCluster('a', 1).hash);
    expect(seen).toHaveLength(2);
  });

  it('applies incremental changes', () => {
    const cache = new XdsCache();
    const seen = recordChanges(cache);
    expect(cache.applyChanges('local', TypeUrl.Route, [route('r1', 'a'), route('r2', 'b')], [])).toBe(true);
    expect(cache.applyChanges('local', TypeUrl.Route, [route('r1', 'a')], ['missing'])).toBe(false);
    expect(cache.applyChanges('local', TypeUrl.Route, [], ['r2'])).toBe(true);
    expect(names(cache, ['local'], TypeUrl.Route)).toEqual(['r1']);
    expect(names(cache, ['external'], TypeUrl.Route)).toEqual([]);
    expect(seen).toEqual([['local', [TypeUrl.Route]], ['local', [TypeUrl.Route]]]);
  });

  it('derives versions from content only: order, instance and history do not matter', () => {
    const one = new XdsCache();
    const two = new XdsCache();
    const emptyVersion = one.version(['external'], TypeUrl.Cluster);
    expect(two.version(['local'], TypeUrl.Route)).toBe(emptyVersion);
    one.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')]);
    two.applyChanges('external', TypeUrl.Cluster, [staticCluster('b'), staticCluster('x')], []);
    two.applyChanges('external', TypeUrl.Cluster, [staticCluster('a')], ['x']);
    expect(one.version(['external'], TypeUrl.Cluster)).toBe(two.version(['external'], TypeUrl.Cluster));
    expect(one.version(['external'], TypeUrl.Cluster)).not.toBe(emptyVersion);
    one.setResources('external', TypeUrl.Cluster, []);
    expect(one.version(['external'], TypeUrl.Cluster)).toBe(emptyVersion);
    // The same content under another name is another version.
    two.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    const renamed = new XdsCache();
    renamed.setResources('external', TypeUrl.Cluster, [{ ...staticCluster('a'), name: 'z' }]);
    expect(renamed.version(['external'], TypeUrl.Cluster)).not.toBe(two.version(['external'], TypeUrl.Cluster));
  });

  it('serves a view of both roles as the union, with its own version', () => {
    const cache = new XdsCache();
    cache.setResources('external', TypeUrl.Cluster, [staticCluster('ext'), staticCluster('shared')]);
    cache.setResources('local', TypeUrl.Cluster, [staticCluster('loc'), staticCluster('shared')]);
    expect(names(cache, ['external', 'local'], TypeUrl.Cluster)).toEqual(['ext', 'loc', 'shared']);
    expect(cache.version(['local', 'external'], TypeUrl.Cluster)).toBe(cache.version(['external', 'local'], TypeUrl.Cluster));
    const both = cache.version(['external', 'local'], TypeUrl.Cluster);
    expect(both).not.toBe(cache.version(['external'], TypeUrl.Cluster));
    cache.setResources('local', TypeUrl.Cluster, [staticCluster('loc', 1), staticCluster('shared')]);
    expect(cache.version(['external', 'local'], TypeUrl.Cluster)).not.toBe(both);
  });

  it('tells which names changed since a sequence number', () => {
    const cache = new XdsCache();
    cache.setResources('external', TypeUrl.Endpoint, [endpoints('e1', 1), endpoints('e2', 2)]);
    const seq = cache.seq('external', TypeUrl.Endpoint);
    cache.applyChanges('external', TypeUrl.Endpoint, [endpoints('e2', 3)], ['e1']);
    expect([...cache.changedSince('external', TypeUrl.Endpoint, seq)!].sort()).toEqual(['e1', 'e2']);
    expect(cache.changedSince('external', TypeUrl.Endpoint, cache.seq('external', TypeUrl.Endpoint))!.size).toBe(0);
  });

  it('refuses a resource given under another type', () => {
    const cache = new XdsCache();
    expect(() => cache.setResources('external', TypeUrl.Route, [staticCluster('a')])).toThrow(/resource a has type .*Cluster/);
  });
});

describe('XdsCache make-before-break removals', () => {
  /** A cache whose external role has route r1 → a, clusters a and b, and one stream that ACKed all of it. */
  function withAckedStream(): XdsCache {
    const cache = new XdsCache();
    cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'a')], [TypeUrl.Cluster]: [staticCluster('a'), staticCluster('b')] });
    cache.streamAcked('s1', ['external'], TypeUrl.Cluster, cache.version(['external'], TypeUrl.Cluster));
    cache.streamAcked('s1', ['external'], TypeUrl.Route, cache.version(['external'], TypeUrl.Route));
    return cache;
  }

  it('removes at once when no stream has ACKed routes or listeners', () => {
    const cache = new XdsCache();
    cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    cache.streamAcked('s1', ['external'], TypeUrl.Cluster, cache.version(['external'], TypeUrl.Cluster));
    cache.setResources('external', TypeUrl.Cluster, []);
    expect(cache.list(['external'], TypeUrl.Cluster)).toEqual([]);
  });

  it('keeps a removed cluster until the stream ACKs the routes current at removal', () => {
    const cache = withAckedStream();
    const seen = recordChanges(cache);
    const before = cache.version(['external'], TypeUrl.Cluster);
    expect(cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'b')], [TypeUrl.Cluster]: [staticCluster('b')] })).toBe(true);
    expect(seen).toEqual([['external', [TypeUrl.Route]]]);
    expect(cache.isRetained('external', TypeUrl.Cluster, 'a')).toBe(true);
    expect(names(cache, ['external'], TypeUrl.Cluster)).toEqual(['a', 'b']);
    expect(cache.version(['external'], TypeUrl.Cluster)).toBe(before);
    expect(cache.pendingRemovals).toBe(1);

    cache.streamAcked('s1', ['external'], TypeUrl.Route, 'some-older-version');
    expect(cache.isRetained('external', TypeUrl.Cluster, 'a')).toBe(true);
    cache.streamAcked('s1', ['external'], TypeUrl.Route, cache.version(['external'], TypeUrl.Route));
    expect(names(cache, ['external'], TypeUrl.Cluster)).toEqual(['b']);
    expect(seen.at(-1)).toEqual(['external', [TypeUrl.Cluster]]);
    expect(cache.pendingRemovals).toBe(0);
  });

  it('releases a removal when the stream that held it closes', () => {
    const cache = withAckedStream();
    cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'b')], [TypeUrl.Cluster]: [staticCluster('b')] });
    expect(cache.isRetained('external', TypeUrl.Cluster, 'a')).toBe(true);
    cache.streamClosed('s1');
    expect(cache.get(['external'], TypeUrl.Cluster, 'a')).toBeUndefined();
  });

  it('is not held by a stream of another role', () => {
    const cache = new XdsCache();
    cache.setAll('local', { [TypeUrl.Route]: [route('r1', 'a')] });
    cache.streamAcked('s-local', ['local'], TypeUrl.Route, cache.version(['local'], TypeUrl.Route));
    cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'a')], [TypeUrl.Secret]: [secret('tls')] });
    cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'b')], [TypeUrl.Secret]: [] });
    expect(cache.get(['external'], TypeUrl.Secret, 'tls')).toBeUndefined();
  });

  it('cancels the removal when the resource comes back', () => {
    const cache = withAckedStream();
    cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'b')], [TypeUrl.Cluster]: [staticCluster('b')] });
    const seen = recordChanges(cache);
    expect(cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')])).toBe(false);
    cache.streamAcked('s1', ['external'], TypeUrl.Route, cache.version(['external'], TypeUrl.Route));
    expect(names(cache, ['external'], TypeUrl.Cluster)).toEqual(['a', 'b']);
    expect(cache.isRetained('external', TypeUrl.Cluster, 'a')).toBe(false);
    expect(seen).toEqual([]);
  });

  it('removes listeners and routes at once: nothing refers to them', () => {
    const cache = withAckedStream();
    cache.setResources('external', TypeUrl.Route, []);
    expect(cache.list(['external'], TypeUrl.Route)).toEqual([]);
  });
});
