import { describe, expect, it } from 'vitest';
import { compactVirtualHosts, encodeVirtualHost, type EncodedVirtualHost } from '../../src/translate/envoy/virtual-host.js';

describe('virtual host bytes', () => {
  it('share slabs, and compaction moves the kept ones out of mostly dead slabs without changing their bytes', () => {
    // ~4 KB each: 20 MB of virtual hosts, past the compaction threshold; only every 100th is kept.
    const hosts = Array.from({ length: 90 }, (_, i) => `host-${String(i).padStart(3, '0')}.example.com`);
    const kept: EncodedVirtualHost[] = [];
    for (let i = 0; i < 5000; i++) {
      const virtualHost = encodeVirtualHost(`vh-${i}`, hosts, []);
      if (i % 100 === 0) kept.push(virtualHost);
    }
    expect(kept[0]!.bytes.buffer.byteLength).toBeGreaterThan(kept[0]!.bytes.length); // in a shared slab
    const before = kept.map((virtualHost) => ({ buffer: virtualHost.bytes.buffer, bytes: Buffer.from(virtualHost.bytes), hash: virtualHost.hash }));
    compactVirtualHosts(() => kept);
    for (const [i, virtualHost] of kept.entries()) {
      expect(virtualHost.bytes.buffer).not.toBe(before[i]!.buffer);
      expect(Buffer.from(virtualHost.bytes).equals(before[i]!.bytes)).toBe(true);
      expect(virtualHost.hash).toBe(before[i]!.hash);
    }
  });
});
