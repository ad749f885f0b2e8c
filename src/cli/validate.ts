import { parseArgs } from 'node:util';
import type { EnvoyConfigDump } from '../admin/config-dump.js';
import type { TranslateConfig } from '../translate/envoy/index.js';
import type { GatewayRole } from '../xds/roles.js';
import { formatValidationError } from '../model/validation-error.js';
import { UsageError } from './args.js';
import { DEFAULT_ADMIN_ADDRESS, getAdminJson } from './admin-client.js';
import { checkManifests } from './check-manifests.js';
import { diffResources } from './config-diff.js';
import type { CommandResult } from './output.js';
import { TRANSLATE_FLAG_OPTIONS, TRANSLATE_FLAGS_USAGE, translateConfigFromFlags } from './translate-flags.js';

export const VALIDATE_USAGE = `Usage: ferry validate PATH [--diff [--admin HOST:PORT]] [translation flags]

Checks manifests (a file, or a directory of .yaml files) without serving them: parsing, Knative's validation,
and translation to Envoy resources. Prints each problem as  file (document N) Kind ns/name: field: message
and exits 1 when there is an error (warnings alone exit 0).

With --diff, also translates them and prints the Envoy resources that would be added, changed or removed in
the running Ferry (by role, type and name). Give the same translation flags as its \`ferry serve\`.

Flags:
  --diff                     compare with a running Ferry
  --admin HOST:PORT          Ferry's admin address (default ${DEFAULT_ADMIN_ADDRESS})
  --envoy managed|none       as given to \`ferry serve\` (default managed)
${TRANSLATE_FLAGS_USAGE}`;

export interface ValidateOptions {
  path: string;
  translateConfig: TranslateConfig;
  /** Compare with the Ferry whose admin endpoint is at this address. */
  diffAgainst?: string;
}

export async function runValidate(options: ValidateOptions): Promise<CommandResult> {
  const check = await checkManifests(options.path, options.translateConfig);
  const errors = check.problems.filter((p) => p.severity === 'error');
  const lines = check.problems.map((p) => `${p.severity === 'warning' ? 'warning: ' : ''}${formatValidationError(p)}`);
  if (errors.length === 0) lines.push(`${options.path}: valid (${check.state.ingresses.size} KIngresses)`);
  if (options.diffAgainst !== undefined) {
    const running = await getAdminJson<Partial<Record<GatewayRole, EnvoyConfigDump>>>(options.diffAgainst, '/debug/config_dump');
    const changes = diffResources(check.cache, running);
    lines.push('', changes.length === 0 ? 'No change against the running Ferry.' : `Changes against the running Ferry (${changes.length}):`);
    const symbol = { added: '+', changed: '~', removed: '-' } as const;
    for (const c of changes) lines.push(`${symbol[c.change]} ${c.role} ${c.type} ${c.name} (${c.change})`);
  }
  return { stdout: `${lines.join('\n')}\n`, exitCode: errors.length > 0 ? 1 : 0 };
}

export async function validate(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      diff: { type: 'boolean' }, admin: { type: 'string', default: DEFAULT_ADMIN_ADDRESS },
      ...TRANSLATE_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { stdout: VALIDATE_USAGE, exitCode: 0 };
  if (positionals.length !== 1) throw new UsageError('expected one PATH (a manifest file or directory)');
  return runValidate({ path: positionals[0]!, translateConfig: translateConfigFromFlags(values), diffAgainst: values.diff ? values.admin : undefined });
}
