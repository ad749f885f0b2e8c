import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { TRANSLATE_FLAG_OPTIONS, translateConfigFromFlags } from '../../src/cli/translate-flags.js';

function configOf(args: string[]) {
  return translateConfigFromFlags(parseArgs({ args, options: TRANSLATE_FLAG_OPTIONS }).values);
}

describe('route table flags', () => {
  it('selects sharded route tables and their count per kind', () => {
    expect(configOf([])).toMatchObject({ routeTables: 'scoped', routeTableShards: 256 });
    expect(configOf(['--route-tables', 'sharded', '--route-table-shards', '512'])).toMatchObject({ routeTables: 'sharded', routeTableShards: 512 });
  });

  it('refuses an unknown layout or a shard count that is not a whole number from 1, naming the flag', () => {
    expect(() => configOf(['--route-tables', 'shards'])).toThrow(new UsageError('--route-tables shards: expected scoped, sharded or single'));
    for (const value of ['0', '2.5', 'many', '70000']) {
      expect(() => configOf(['--route-tables', 'sharded', '--route-table-shards', value])).toThrow(new UsageError(`--route-table-shards ${value}: expected a whole number from 1 to 65536`));
    }
  });
});

describe('cluster flag', () => {
  it('sends every cluster by default, and on demand when asked', () => {
    expect(configOf([])).toMatchObject({ clusters: 'all' });
    expect(configOf(['--clusters', 'on-demand'])).toMatchObject({ clusters: 'on-demand' });
  });

  it('refuses another value, naming the flag and the choices', () => {
    expect(() => configOf(['--clusters', 'lazy'])).toThrow(new UsageError('--clusters lazy: expected all or on-demand'));
  });
});
