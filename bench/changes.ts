import type { FerryLogLine, FerryProcess, GatewayPorts } from './ferry-process.js';
import { rewriteAppFile, revisionSlice, type BenchApp, type BenchManifests } from './generate.js';
import type { GatewayResponse } from './http-client.js';
import { processCpuSeconds } from './proc.js';
import { appTarget, pollUntil } from './probe.js';
import type { Random } from './random.js';
import { distribution, promByLabel, type Distribution } from './stats.js';

export type ChangeKind = 'split' | 'header' | 'host';

export interface ChangeSample {
  kind: ChangeKind;
  app: string;
  /** File write until a request through Envoy showed the change (ms); undefined when it never did. */
  endToEndMs: number | undefined;
  /** File write until Ferry applied the file to its store (the file-watch debounce and parse). */
  untilStoreMs: number | undefined;
  /** Ferry's reconcile pass time, from its debug log. */
  reconcileMs: number | undefined;
}

export interface ChangesResult {
  attempted: number;
  observed: number;
  endToEndMs: Distribution;
  byKind: Record<ChangeKind, Distribution>;
  untilStoreMs: Distribution;
  afterStoreMs: Distribution;
  reconcileMs: Distribution;
  bytesPerChange: number;
  bytesPerChangeByType: Record<string, number>;
  ferryCpuMsPerChange: number;
  envoyCpuMsPerChange: number | undefined;
  samples: ChangeSample[];
}

export interface LoopBounds {
  count: number;
  timeBudgetMs: number;
  perChangeTimeoutMs: number;
}

/**
 * Single-KIngress changes, one at a time: a split shift, an appended header, or a new host, each written to
 * the app's manifest file; timed until a request through Envoy shows the new behaviour, then the next one. Once
 * all are done, waited until Ferry reports every gateway SYNCED.
 */
export async function measureChanges(ferry: FerryProcess, manifests: BenchManifests, directory: string, random: Random, bounds: LoopBounds): Promise<ChangesResult> {
  const samples: ChangeSample[] = [];
  const kinds: ChangeKind[] = ['split', 'header', 'host'];
  const multiRevision = manifests.apps.filter((app) => app.revisions.length > 1);
  const metricsBefore = await ferry.metrics();
  const envoyPid = ferry.envoyPid();
  const cpuBefore = processCpuSeconds(ferry.pid);
  const envoyCpuBefore = envoyPid ? processCpuSeconds(envoyPid) : undefined;
  const deadline = performance.now() + bounds.timeBudgetMs;
  for (let seq = 0; seq < bounds.count && performance.now() < deadline; seq++) {
    const kind = kinds[seq % kinds.length]!;
    const app = kind === 'split' && multiRevision.length > 0 ? random.pick(multiRevision) : random.pick(manifests.apps);
    const { target, matches, streak } = applyChange(kind, app, manifests, seq, ferry.ports);
    samples.push(await timeFileChange(ferry, directory, manifests, app, kind, () => pollUntil(target, matches, { timeoutMs: bounds.perChangeTimeoutMs, streak })));
  }
  // Every change has shown through Envoy; its ACKs are waited for once, at the end, so that the CPU read below holds
  // them. (Polling `/debug/synced` after each change made Ferry answer ~0.3 ms of HTTP per change for the runner.)
  await ferry.waitSynced(bounds.perChangeTimeoutMs);
  const cpuAfter = processCpuSeconds(ferry.pid);
  const envoyCpuAfter = envoyPid ? processCpuSeconds(envoyPid) : undefined;
  const metricsAfter = await ferry.metrics();
  const bytesBefore = promByLabel(metricsBefore, 'ferry_xds_pushed_bytes_total', 'type');
  const bytesAfter = promByLabel(metricsAfter, 'ferry_xds_pushed_bytes_total', 'type');
  const n = Math.max(1, samples.length);
  const bytesPerChangeByType = Object.fromEntries(Object.entries(bytesAfter).map(([type, bytes]) => [type, Math.round((bytes - (bytesBefore[type] ?? 0)) / n)]));
  const observed = samples.filter((s) => s.endToEndMs !== undefined);
  const values = (pick: (s: ChangeSample) => number | undefined, among = samples): number[] => among.map(pick).filter((v): v is number => v !== undefined);
  return {
    attempted: samples.length,
    observed: observed.length,
    endToEndMs: distribution(values((s) => s.endToEndMs)),
    byKind: Object.fromEntries(kinds.map((kind) => [kind, distribution(values((s) => s.endToEndMs, samples.filter((s) => s.kind === kind)))])) as Record<ChangeKind, Distribution>,
    untilStoreMs: distribution(values((s) => s.untilStoreMs)),
    afterStoreMs: distribution(values((s) => (s.endToEndMs !== undefined && s.untilStoreMs !== undefined ? s.endToEndMs - s.untilStoreMs : undefined))),
    reconcileMs: distribution(values((s) => s.reconcileMs)),
    bytesPerChange: Object.values(bytesPerChangeByType).reduce((a, b) => a + b, 0),
    bytesPerChangeByType,
    ferryCpuMsPerChange: ((cpuAfter - cpuBefore) * 1000) / n,
    envoyCpuMsPerChange: envoyCpuBefore !== undefined && envoyCpuAfter !== undefined ? ((envoyCpuAfter - envoyCpuBefore) * 1000) / n : undefined,
    samples,
  };
}

/** Mutates the app in memory; returns how to recognise the new behaviour through Envoy. */
function applyChange(kind: ChangeKind, app: BenchApp, manifests: BenchManifests, seq: number, ports: GatewayPorts): { target: ReturnType<typeof appTarget>; matches: (r: GatewayResponse) => boolean; streak: number } {
  const ingress = app.ingress;
  ingress.metadata.generation = (ingress.metadata.generation ?? 1) + 1;
  const mainPath = ingress.spec.rules![0]!.http!.paths.at(-1)!;
  if (kind === 'split') {
    // All traffic to the revision that had the least: several answers in a row, since it may have had some before.
    const target = mainPath.splits.reduce((min, split) => ((split.percent ?? 0) < (min.percent ?? 0) ? split : min));
    for (const split of mainPath.splits) split.percent = split === target ? 100 : 0;
    return { target: appTarget(app, ports), matches: (r) => r.answer?.revision === target.serviceName, streak: 8 };
  }
  if (kind === 'header') {
    const value = `change-${seq}`;
    mainPath.appendHeaders = { 'X-Bench-Change': value };
    return { target: appTarget(app, ports), matches: (r) => r.answer?.change === value, streak: 1 };
  }
  const host = app.visibility === 'ClusterLocal' ? `n${seq}.${app.name}.${app.namespace}.svc.cluster.local` : `n${seq}-${app.name}.${manifests.domain}`;
  ingress.spec.rules![0]!.hosts!.push(host);
  return { target: appTarget(app, ports, host), matches: (r) => r.status === 200 && r.answer !== undefined, streak: 1 };
}

/** Writes the app's file, then times the observation, the store update and the reconcile that followed it. */
export async function timeFileChange(ferry: FerryProcess, directory: string, manifests: BenchManifests, app: BenchApp, kind: ChangeKind, observe: () => Promise<number | undefined>): Promise<ChangeSample> {
  const applied: FerryLogLine[] = [];
  const reconciled: FerryLogLine[] = [];
  const off = ferry.onLog((line) => {
    if (line.msg === 'manifests applied') applied.push(line);
    else if (line.msg === 'reconciled') reconciled.push(line);
  });
  const writtenAtEpoch = Date.now();
  const writtenAt = performance.now();
  rewriteAppFile(directory, manifests, app);
  const seenAt = await observe();
  off();
  const storeLine = applied[0];
  const reconcileLine = reconciled.find((line) => !storeLine || line.time >= storeLine.time);
  return {
    kind,
    app: `${app.namespace}/${app.name}`,
    endToEndMs: seenAt === undefined ? undefined : seenAt - writtenAt,
    untilStoreMs: storeLine ? storeLine.time - writtenAtEpoch : undefined,
    reconcileMs: typeof reconcileLine?.ms === 'number' ? reconcileLine.ms : undefined,
  };
}

export interface FlipResult {
  attempted: number;
  toActivatorMs: Distribution;
  backToPodsMs: Distribution;
  bothMs: Distribution;
  untilStoreMs: Distribution;
}

/**
 * Endpoint flips: a revision's EndpointSlice loses its ready endpoint (scale to zero), so traffic must go to
 * the activator; then it gets it back. Timed from the file write to the first request answered by the
 * activator, and back by the pod.
 */
export async function measureEndpointFlips(ferry: FerryProcess, manifests: BenchManifests, directory: string, random: Random, bounds: LoopBounds): Promise<FlipResult> {
  const candidates = manifests.apps.filter((app) => app.revisions.length === 1 && !app.tls);
  const toActivator: ChangeSample[] = [];
  const back: ChangeSample[] = [];
  const deadline = performance.now() + bounds.timeBudgetMs;
  for (let i = 0; i < bounds.count && performance.now() < deadline && candidates.length > 0; i++) {
    const app = random.pick(candidates);
    const revision = app.revisions[0]!;
    const port = app.revisionPorts.get(revision)!;
    const target = appTarget(app, ferry.ports);
    app.slices[0] = revisionSlice(app.namespace, revision, port, false);
    toActivator.push(await timeFileChange(ferry, directory, manifests, app, 'split', () => pollUntil(target, (r) => r.answer?.backend === 'activator', { timeoutMs: bounds.perChangeTimeoutMs })));
    await ferry.waitSynced(bounds.perChangeTimeoutMs);
    app.slices[0] = revisionSlice(app.namespace, revision, port, true);
    back.push(await timeFileChange(ferry, directory, manifests, app, 'split', () => pollUntil(target, (r) => r.answer !== undefined && r.answer.backend !== 'activator', { timeoutMs: bounds.perChangeTimeoutMs })));
    await ferry.waitSynced(bounds.perChangeTimeoutMs);
  }
  const ms = (samples: ChangeSample[]): number[] => samples.map((s) => s.endToEndMs).filter((v): v is number => v !== undefined);
  return {
    attempted: toActivator.length,
    toActivatorMs: distribution(ms(toActivator)),
    backToPodsMs: distribution(ms(back)),
    bothMs: distribution([...ms(toActivator), ...ms(back)]),
    untilStoreMs: distribution([...toActivator, ...back].map((s) => s.untilStoreMs).filter((v): v is number => v !== undefined)),
  };
}
