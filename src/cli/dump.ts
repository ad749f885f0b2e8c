import { parseArgs } from 'node:util';
import type { EnvoyConfigDump } from '../admin/config-dump.js';
import { UsageError } from './args.js';
import { DEFAULT_ADMIN_ADDRESS, getAdminJson } from './admin-client.js';
import { formatStructured, type CommandResult } from './output.js';

export const DUMP_USAGE = `Usage: ferry dump [--role external|local] [--type TYPE] [--name NAME] [-o json|yaml] [--admin HOST:PORT]

Prints the Envoy configuration a running Ferry serves, in the shape of Envoy's own /config_dump.
With --role, exactly one ConfigDump (what that gateway's Envoy would print); without, one per role.
Private keys are always redacted.

Flags:
  --role external|local   one gateway role (default: both, keyed by role)
  --type TYPE             listeners, routes, clusters, endpoints or secrets (or lds, rds, cds, eds, sds)
  --name NAME             one resource by name (e.g. a route table, a cluster)
  -o json|yaml            output format (default json)
  --admin HOST:PORT       Ferry's admin address (default ${DEFAULT_ADMIN_ADDRESS})
`;

export interface DumpOptions {
  admin: string;
  role?: string;
  type?: string;
  name?: string;
  output: 'json' | 'yaml';
}

export async function runDump(options: DumpOptions): Promise<CommandResult> {
  const params = new URLSearchParams();
  for (const key of ['role', 'type', 'name'] as const) if (options[key] !== undefined) params.set(key, options[key]);
  const dump = await getAdminJson<Record<string, EnvoyConfigDump>>(options.admin, `/debug/config_dump?${params.toString()}`);
  const value = options.role !== undefined ? dump[options.role] : dump;
  return { stdout: formatStructured(value, options.output), exitCode: 0 };
}

export async function dump(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'json' }, admin: { type: 'string', default: DEFAULT_ADMIN_ADDRESS },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { stdout: DUMP_USAGE, exitCode: 0 };
  if (values.output !== 'json' && values.output !== 'yaml') throw new UsageError(`-o ${values.output}: expected json or yaml`);
  if (values.role !== undefined && values.role !== 'external' && values.role !== 'local') throw new UsageError(`--role ${values.role}: expected external or local`);
  return runDump({ admin: values.admin, role: values.role, type: values.type, name: values.name, output: values.output });
}
