import { describe, expect, it } from 'vitest';
import { parseHostPort, UsageError } from '../../src/cli/args.js';

describe('parseHostPort', () => {
  it('reads HOST:PORT, bracketed IPv6, and the http URL Ferry prints for its admin endpoint', () => {
    expect(parseHostPort('--admin', '127.0.0.1:9901')).toEqual({ host: '127.0.0.1', port: 9901 });
    expect(parseHostPort('--admin', '[::1]:9901')).toEqual({ host: '::1', port: 9901 });
    expect(parseHostPort('--admin', 'http://127.0.0.1:24185/debug/status')).toEqual({ host: '127.0.0.1', port: 24185 });
    expect(parseHostPort('--admin', 'https://[::1]:9901/')).toEqual({ host: '::1', port: 9901 });
  });

  it('refuses what has no port, naming the flag and the expected form', () => {
    expect(() => parseHostPort('--admin', 'http://127.0.0.1/debug')).toThrow(new UsageError('--admin http://127.0.0.1/debug: expected HOST:PORT, e.g. 127.0.0.1:18001'));
    expect(() => parseHostPort('--xds-address', 'localhost')).toThrow(UsageError);
    expect(() => parseHostPort('--xds-address', 'a/b:80')).toThrow(UsageError);
  });
});
