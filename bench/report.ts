import type { SizeResult } from './run.js';

interface Report {
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; envoy: string; loadAverage: string; ferry: string };
  results: SizeResult[];
}

type Row = [label: string, target: string, value: (r: SizeResult) => number | string | undefined];

const KB = 1024;
const MB = 1024 * 1024;

const ROWS: Row[] = [
  ['objects (files)', '', (r) => `${r.objects} (${r.files})`],
  ['cold start: all sampled hosts served (ms)', '', (r) => r.coldStart.allServedMs],
  ['floor: Envoy static bootstrap (ms)', '', (r) => r.floor.allServedMs],
  ['cold start / floor', '≤ 1.5', (r) => ratio(r.coldStart.allServedMs, r.floor.allServedMs)],
  ['  node start → loading manifests (ms)', '', (r) => r.coldStart.phases.nodeStartup],
  ['  load: read + parse + store (ms)', '', (r) => r.coldStart.phases.load],
  ['  first pass: translate, encode, hand over (ms)', '', (r) => r.coldStart.phases.translateAndEncode],
  ['  Envoy process start, during the load (ms)', '', (r) => r.coldStart.phases.envoyProcessStart],
  ['  Envoy still applying after the first pass (ms)', '', (r) => r.coldStart.phases.pushAndEnvoyApply],
  ['  then until all hosts answer (ms)', '', (r) => r.coldStart.phases.untilAllHostsServed],
  ['  pushed at cold start (MB)', '', (r) => sum(r.coldStart.pushedBytesByType) / MB],
  ['change end to end p50 (ms)', '≤ 30', (r) => r.changes.endToEndMs.p50],
  ['change end to end p99 (ms)', '≤ 100', (r) => r.changes.endToEndMs.p99],
  ['  split / header / host p50 (ms)', '', (r) => ['split', 'header', 'host'].map((k) => fmt(r.changes.byKind[k as 'split'].p50)).join(' / ')],
  ['  file write → store (watch debounce) p50', '', (r) => r.changes.untilStoreMs.p50],
  ['  store → seen through Envoy p50 (ms)', '', (r) => r.changes.afterStoreMs.p50],
  ['  reconcile pass p50 (ms)', '', (r) => r.changes.reconcileMs.p50],
  ['  changes observed / attempted', '', (r) => `${r.changes.observed}/${r.changes.attempted}`],
  ['bytes sent to Envoy per change (KB)', '≤ 20', (r) => r.changes.bytesPerChange / KB],
  ['Ferry CPU per change (ms)', '≤ 2', (r) => r.changes.ferryCpuMsPerChange],
  ['  the same in a second round, after the flips (warm V8)', '', (r) => r.warmChanges?.ferryCpuMsPerChange],
  ['Envoy CPU per change (ms)', '', (r) => r.changes.envoyCpuMsPerChange],
  ['Ferry CPU / Envoy CPU per change', '≤ 0.5', (r) => ratio(r.changes.ferryCpuMsPerChange, r.changes.envoyCpuMsPerChange)],
  ['  the same, warm round', '', (r) => ratio(r.warmChanges?.ferryCpuMsPerChange, r.warmChanges?.envoyCpuMsPerChange)],
  ['endpoint flip p50 (ms)', '≤ 20', (r) => r.flips.bothMs.p50],
  ['  to activator / back p50 (ms)', '', (r) => `${fmt(r.flips.toActivatorMs.p50)} / ${fmt(r.flips.backToPodsMs.p50)}`],
  ['Ferry RSS, end (peak) (MB)', '≤ 250', (r) => `${fmt(r.memory.ferryRssMb)} (${fmt(r.memory.ferryPeakRssMb)})`],
  ['Envoy RSS (MB), xDS / static', '', (r) => `${fmt(r.memory.envoyRssMb)} / ${fmt(r.floor.envoyRssMb)}`],
  ['in-process: load (ms)', '', (r) => r.inProcess.loadMs],
  ['in-process: cold reconcile (ms)', '', (r) => r.inProcess.coldReconcileMs],
  ['in-process: reconcile per change p50 (ms)', '', (r) => r.inProcess.reconcilePerChangeMs.p50],
  ['largest route configuration (KB)', '', (r) => r.inProcess.largestRouteConfigurationBytes / KB],
  ['served, all types (MB)', '', (r) => sum(r.inProcess.servedBytes) / MB],
];

/** The table for people: one column per size, the targets beside. */
export function formatReport(report: Report): string {
  const { machine, results } = report;
  const header = ['', 'target', ...results.map((r) => `N=${r.size}`)];
  const rows = ROWS.map(([label, target, value]) => [label, target, ...results.map((r) => fmt(value(r)))]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [
    `machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.memoryGb} GB, node ${machine.node}, envoy ${machine.envoy}, ferry ${machine.ferry}, load ${machine.loadAverage}`,
    line(header),
    ...rows.map(line),
  ];
  for (const r of results) {
    out.push('', `N=${r.size}: in-process profile of ${r.changes.attempted > 0 ? 'single changes' : 'changes'} (self time, top 8)`);
    for (const entry of r.inProcess.changeProfile.selfByFunction.slice(0, 8)) out.push(`  ${String(entry.percent).padStart(5)}%  ${entry.name}`);
    const loop = r.ferryChangesCpuProfile;
    if (loop) {
      out.push(`N=${r.size}: ferry serve during the change loop (--ferry-cpu-prof; ${loop.totalMs} ms sampled, idle included; self time, top 15)`);
      for (const entry of loop.selfByFunction.slice(0, 15)) out.push(`  ${String(entry.percent).padStart(5)}%  ${String(entry.ms).padStart(7)} ms  ${entry.name}`);
    }
    if (r.errors.length > 0) out.push(`N=${r.size} problems:`, ...r.errors.map((e) => `  ${e}`));
  }
  return out.join('\n');
}

function fmt(value: number | string | undefined): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

function ratio(a: number | undefined, b: number | undefined): string | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : (a / b).toFixed(2);
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
