import { relative } from 'node:path';
import type { Profiler, Runtime } from 'node:inspector';
import { repositoryRoot } from '../src/envoy/bootstrap.js';

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

/** Where the samples of a V8 CPU profile fall: by function (self and inclusive) and by source file (self). */
export interface ProfileSummary {
  totalMs: number;
  selfByFunction: ProfileEntry[];
  inclusiveByFunction: ProfileEntry[];
  selfByFile: ProfileEntry[];
}

const ROOT = repositoryRoot();

/** A time window in microseconds of CLOCK_MONOTONIC (process.hrtime in any process; V8's profile clock on Linux). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function summarizeProfile(profile: Profiler.Profile, top = 20, window?: ProfileWindow): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byFile = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let totalUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const us = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    totalUs += us;
    const node = nodes.get(samples[i]!);
    if (!node) continue;
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const file = fileKey(node.callFrame);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frameKey = functionKey(nodes.get(id)!.callFrame);
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + us);
    }
  }
  const entries = (map: Map<string, number>): ProfileEntry[] => [...map.entries()]
    .filter(([name]) => name !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: totalUs === 0 ? 0 : Math.round((1000 * us) / totalUs) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), selfByFunction: entries(self), inclusiveByFunction: entries(inclusive), selfByFile: entries(byFile) };
}

function functionKey(frame: Runtime.CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function fileKey(frame: Runtime.CallFrame): string {
  return frame.url ? shortUrl(frame.url) : frame.functionName || '(native)';
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}
