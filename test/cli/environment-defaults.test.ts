import { describe, expect, it } from 'vitest';
import { UsageError, withEnvironmentDefaults } from '../../src/cli/args.js';

describe('flags from FERRY_* environment variables (how config-ferry reaches Ferry in a cluster)', () => {
  const options = { 'route-tables': { type: 'string', default: 'scoped' }, 'knative-translation': { type: 'boolean', default: false }, help: { type: 'boolean' } } as const;

  it('takes a default from FERRY_<FLAG>, booleans as true/false', () => {
    const out = withEnvironmentDefaults(options, { FERRY_ROUTE_TABLES: 'single', FERRY_KNATIVE_TRANSLATION: 'true', FERRY_HELP: 'true' });
    expect(out['route-tables'].default).toBe('single');
    expect(out['knative-translation'].default).toBe(true);
    expect(out.help).toEqual({ type: 'boolean' });
  });

  it('leaves defaults alone without the variable, and names the variable of a bad boolean', () => {
    expect(withEnvironmentDefaults(options, {})['route-tables'].default).toBe('scoped');
    expect(() => withEnvironmentDefaults(options, { FERRY_KNATIVE_TRANSLATION: 'yes' })).toThrow(new UsageError('FERRY_KNATIVE_TRANSLATION=yes: expected true or false'));
  });
});
