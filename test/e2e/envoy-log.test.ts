import { describe, expect, it } from 'vitest';
import { parseEnvoyLogLine } from '../../src/envoy/envoy-log.js';

describe('parseEnvoyLogLine', () => {
  it('maps Envoy levels to pino levels and keeps the logger name and message', () => {
    expect(parseEnvoyLogLine('[warning][config] delta config for x rejected: bad')).toEqual({ level: 'warn', source: 'config', message: 'delta config for x rejected: bad' });
    expect(parseEnvoyLogLine('[critical][main] error initializing configuration')).toEqual({ level: 'fatal', source: 'main', message: 'error initializing configuration' });
    expect(parseEnvoyLogLine('[info][upstream] cds: added 2 cluster(s)').level).toBe('info');
  });

  it('gives continuation lines of a multi-line message the level of the line they continue', () => {
    const first = parseEnvoyLogLine('[error][config] rejected: Invalid duration:');
    expect(parseEnvoyLogLine('seconds: -1', first)).toEqual({ level: 'error', source: 'config', message: 'seconds: -1' });
    expect(parseEnvoyLogLine('no level here')).toEqual({ level: 'info', source: 'envoy', message: 'no level here' });
  });
});

describe('the stop notice', () => {
  it('is information, not a warning: Ferry stopping its own Envoy is expected', () => {
    expect(parseEnvoyLogLine('[warning][main] caught ENVOY_SIGTERM')).toEqual({ level: 'info', source: 'main', message: 'caught ENVOY_SIGTERM' });
    expect(parseEnvoyLogLine('[warning][main] caught ENVOY_SIGTERM twice').level).toBe('warn');
  });
});
