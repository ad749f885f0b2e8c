import { describe, expect, it } from 'vitest';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { withEncoded } from '../../src/xds/reused-writer.js';

const cluster = (name: string): Cluster => Cluster.fromPartial({ name, edsClusterConfig: { serviceName: name } });
const fresh = (message: Cluster): Uint8Array => Cluster.encode(message).finish();
const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);

describe('withEncoded', () => {
  it('gives the bytes a fresh writer makes, call after call, a long message then a short one', () => {
    const long = cluster(`default/${'x'.repeat(3000)}`);
    const short = cluster('default/hello');
    expect(withEncoded((writer) => Cluster.encode(long, writer), copy)).toEqual(fresh(long));
    expect(withEncoded((writer) => Cluster.encode(short, writer), copy)).toEqual(fresh(short));
  });

  it('gives a nested call its own writer', () => {
    const outer = cluster('default/outer');
    const inner = cluster('default/inner');
    let innerBytes: Uint8Array | undefined;
    const outerBytes = withEncoded((writer) => {
      Cluster.encode(outer, writer);
      innerBytes = withEncoded((nested) => Cluster.encode(inner, nested), copy);
    }, copy);
    expect(outerBytes).toEqual(fresh(outer));
    expect(innerBytes).toEqual(fresh(inner));
  });

  it('starts clean after an encode that threw', () => {
    expect(() => withEncoded((writer) => {
      writer.fork().string('half written');
      throw new Error('broken message');
    }, copy)).toThrow('broken message');
    const message = cluster('default/after');
    expect(withEncoded((writer) => Cluster.encode(message, writer), copy)).toEqual(fresh(message));
  });

  it('writes messages larger than the buffer it keeps (1 MB), and the next one after', () => {
    const big = new BinaryWriter();
    const payload = 'y'.repeat(3 << 20);
    expect(withEncoded((writer) => writer.uint32(10).string(payload), copy)).toEqual(big.uint32(10).string(payload).finish());
    const message = cluster('default/small');
    expect(withEncoded((writer) => Cluster.encode(message, writer), copy)).toEqual(fresh(message));
  });
});
