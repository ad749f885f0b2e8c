import { parseArgs } from 'node:util';
import type { StatusReport } from '../status/views.js';
import { UsageError } from './args.js';
import { DEFAULT_ADMIN_ADDRESS, getAdminJson } from './admin-client.js';
import { formatStructured, formatTable, parseOutputFormat, type CommandResult, type OutputFormat } from './output.js';

export const STATUS_USAGE = `Usage: ferry status [--wait [--timeout 30s]] [-o json|yaml] [--admin HOST:PORT]

One row per gateway connected to a running Ferry: node id, role, address, and per xDS API whether the
gateway took what Ferry serves now: SYNCED (ACKed), STALE (sent, or to be sent, not ACKed yet) or NACKED
(rejected; Envoy's message is printed below the table, and the gateway keeps its last good version). Once
Ferry found which resources a gateway rejects, the API is SYNCED again and they are listed below the table
as rejected until their input is fixed; --wait counts them as not synced.

Flags:
  --wait                  wait until every gateway is SYNCED (exit 0), else print what is not (exit 1)
  --timeout DURATION      how long --wait waits (default 30s; e.g. 500ms, 2m)
  -o json|yaml            output format (default a table)
  --admin HOST:PORT       Ferry's admin address (default ${DEFAULT_ADMIN_ADDRESS})
`;

const APIS = ['CDS', 'EDS', 'SDS', 'LDS', 'SRDS', 'RDS'] as const;

/** The table of `ferry status`, then NACK messages, then manifest problems. */
export function renderStatus(report: StatusReport): string {
  if (report.gateways.length === 0) return `No gateway is connected to Ferry.\n${renderProblems(report)}`;
  const rows = report.gateways.map((gateway) => [
    gateway.nodeId, gateway.roles.join(','), gateway.address,
    ...APIS.map((api) => gateway.types.find((t) => t.api === api)?.state ?? '-'),
  ]);
  let text = formatTable(['NODE', 'ROLE', 'ADDRESS', ...APIS], rows);
  const nacked = report.gateways.flatMap((gateway) => gateway.types.filter((t) => t.state === 'NACKED').map((t) => ({ gateway, type: t })));
  if (nacked.length > 0) {
    text += '\nNACKs (the gateway keeps its last good version):\n';
    for (const { gateway, type } of nacked) {
      const resources = report.nacks.find((n) => n.nodeId === gateway.nodeId && n.type === type.type)?.resources ?? [];
      text += `  ${gateway.nodeId} ${type.api} version ${type.sentVersion}${resources.length > 0 ? ` (${resources.join(', ')})` : ''}: ${oneLine(type.error ?? '')}\n`;
    }
  }
  const rejected = rejectedResources(report);
  if (rejected.length > 0) {
    text += '\nRejected resources (the gateway keeps their last good version; everything else it took):\n';
    for (const nack of rejected) text += `  ${nack.nodeId} ${nack.type} ${nack.resources.join(', ')}: ${oneLine(nack.message)}\n`;
  }
  return text + renderProblems(report);
}

/** Rejections that Ferry tied to resources, while the rest of their type is synced (a NACKED type is shown as such). */
function rejectedResources(report: StatusReport): StatusReport['nacks'] {
  const nacked = new Set(report.gateways.flatMap((gateway) => gateway.types.filter((t) => t.state === 'NACKED').map((t) => `${gateway.nodeId}\n${t.type}`)));
  return report.nacks.filter((nack) => !nacked.has(`${nack.nodeId}\n${nack.type}`));
}

/** Envoy's messages may span lines (proto dumps); a table's notes keep one line each. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function renderProblems(report: StatusReport): string {
  if (report.problems.length === 0) return '';
  return `\nManifest problems:\n${report.problems.map((p) => `  ${p.severity}: ${p.message}\n`).join('')}`;
}

/** What is not synced, one line per gateway and API; empty when everything is. */
export function notSynced(report: StatusReport): string[] {
  if (report.gateways.length === 0) return ['no gateway is connected to Ferry'];
  return report.gateways.flatMap((gateway) => gateway.types.filter((t) => t.state !== 'SYNCED')
    .map((t) => `${gateway.nodeId} ${t.api}: ${t.state}${t.error ? `: ${oneLine(t.error)}` : ` (sent ${t.sentVersion || '-'}, acked ${t.ackedVersion || '-'}, current ${t.currentVersion})`}`))
    .concat(rejectedResources(report).map((nack) => `${nack.nodeId} ${nack.type} ${nack.resources.join(', ')}: REJECTED: ${oneLine(nack.message)}`));
}

export interface StatusOptions {
  admin: string;
  output: OutputFormat;
  /** Wait up to this many milliseconds for every gateway to be SYNCED. */
  waitMs?: number;
  pollMs?: number;
}

export async function runStatus(options: StatusOptions): Promise<CommandResult> {
  const fetchReport = (): Promise<StatusReport> => getAdminJson<StatusReport>(options.admin, '/debug/status');
  const print = (report: StatusReport): string => (options.output === 'table' ? renderStatus(report) : formatStructured(report, options.output));
  let report = await fetchReport();
  if (options.waitMs === undefined) return { stdout: print(report), exitCode: 0 };
  const deadline = Date.now() + options.waitMs;
  while (notSynced(report).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
    report = await fetchReport();
  }
  const pending = notSynced(report);
  if (pending.length === 0) return { stdout: print(report), exitCode: 0 };
  return { stdout: `${print(report)}\nNot synced after ${options.waitMs / 1000}s:\n${pending.map((line) => `  ${line}\n`).join('')}`, exitCode: 1 };
}

export function parseDuration(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  if (!match) throw new UsageError(`${flag} ${value}: expected a duration like 30s, 500ms or 2m`);
  const amount = Number(match[1]);
  return Math.round(match[2] === 'ms' ? amount : match[2] === 'm' ? amount * 60_000 : amount * 1000);
}

export async function status(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      wait: { type: 'boolean' }, timeout: { type: 'string', default: '30s' },
      output: { type: 'string', short: 'o' }, admin: { type: 'string', default: DEFAULT_ADMIN_ADDRESS },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { stdout: STATUS_USAGE, exitCode: 0 };
  return runStatus({
    admin: values.admin, output: parseOutputFormat(values.output),
    waitMs: values.wait ? parseDuration('--timeout', values.timeout) : undefined,
  });
}
