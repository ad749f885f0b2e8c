import { parseArgs } from 'node:util';
import type { ObjectRow } from '../status/views.js';
import { UsageError } from './args.js';
import { DEFAULT_ADMIN_ADDRESS, getAdminJson } from './admin-client.js';
import { formatStructured, formatTable, parseOutputFormat, type CommandResult, type OutputFormat } from './output.js';

export const GET_USAGE = `Usage: ferry get ingresses|routes|domainmappings [-n NAMESPACE | -A] [-o json|yaml] [--admin HOST:PORT | --kubeconfig PATH]

Lists the objects a running Ferry serves with their readiness, like kn: NAME, URL, READY, REASON.
"routes" lists Routes and the Routes of Knative Services; READY is the KIngress's readiness: its gateways ACKed it.
With --kubeconfig, the objects come from the cluster's API server instead: KIngresses of Ferry's class with the
status Ferry wrote to them, Routes and DomainMappings with the status Knative Serving wrote.

Flags:
  -n, --namespace NS      only this namespace (default: default; with --kubeconfig, the context's namespace)
  -A, --all-namespaces    every namespace (adds a NAMESPACE column)
  -o json|yaml            the whole status instead of a table
  --admin HOST:PORT       Ferry's admin address (default ${DEFAULT_ADMIN_ADDRESS})
  --kubeconfig PATH       read the objects from the API server of this kubeconfig's current context
`;

const KINDS: Record<string, 'ingresses' | 'routes' | 'domainmappings'> = {
  ingresses: 'ingresses', ingress: 'ingresses', ing: 'ingresses', kingress: 'ingresses', kingresses: 'ingresses',
  routes: 'routes', route: 'routes', rt: 'routes',
  domainmappings: 'domainmappings', domainmapping: 'domainmappings', dm: 'domainmappings',
};

export function parseKind(value: string | undefined): 'ingresses' | 'routes' | 'domainmappings' {
  const kind = value === undefined ? undefined : KINDS[value.toLowerCase()];
  if (!kind) throw new UsageError(`${value === undefined ? 'missing kind' : `unknown kind "${value}"`}: expected ingresses, routes or domainmappings`);
  return kind;
}

/** The kn-like table; a NAMESPACE column first when several namespaces are listed. */
export function renderObjects(rows: readonly ObjectRow[], allNamespaces: boolean): string {
  if (rows.length === 0) return 'No resources found.\n';
  const headers = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'URL', 'READY', 'REASON'];
  return formatTable(headers, rows.map((row) => [...(allNamespaces ? [row.namespace] : []), row.name, row.url, row.ready, row.reason]));
}

export interface GetOptions {
  admin: string;
  kind: 'ingresses' | 'routes' | 'domainmappings';
  /** undefined: all namespaces. */
  namespace: string | undefined;
  output: OutputFormat;
  /** Read from this kubeconfig's API server instead of Ferry's admin endpoint. */
  kubeconfig?: string;
}

/**
 * `ferry get --kubeconfig` reads through @kubernetes/client-node, loaded only then: every process that loads it
 * (`ferry serve` too, since every command is imported by main) holds ~75 MB more resident memory.
 */
function kubeGet(): Promise<typeof import('./kube-get.js')> {
  return import('./kube-get.js');
}

export async function runGet(options: GetOptions): Promise<CommandResult> {
  const all = options.kubeconfig !== undefined
    ? await (await kubeGet()).listFromApiServer({ kubeconfig: options.kubeconfig, kind: options.kind, namespace: options.namespace })
    : await getAdminJson<ObjectRow[]>(options.admin, `/debug/objects?kind=${options.kind}`);
  const rows = all
    .filter((row) => options.namespace === undefined || row.namespace === options.namespace)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  if (options.output !== 'table') return { stdout: formatStructured(rows, options.output), exitCode: 0 };
  if (rows.length === 0 && options.namespace !== undefined) return { stdout: `No resources found in ${options.namespace} namespace.\n`, exitCode: 0 };
  return { stdout: renderObjects(rows, options.namespace === undefined), exitCode: 0 };
}

export async function get(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' }, admin: { type: 'string', default: DEFAULT_ADMIN_ADDRESS }, kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { stdout: GET_USAGE, exitCode: 0 };
  if (positionals.length > 1) throw new UsageError(`expected one kind, got ${positionals.join(' ')}`);
  const kind = parseKind(positionals[0]);
  const output = parseOutputFormat(values.output);
  const { kubeconfig } = values;
  // Like kubectl: without -n, the kubeconfig context's namespace.
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? (kubeconfig !== undefined ? (await kubeGet()).loadKubeconfig(kubeconfig).namespace : 'default');
  return runGet({ admin: values.admin, kind, namespace, output, kubeconfig });
}
