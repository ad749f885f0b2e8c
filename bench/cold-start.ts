import { setTimeout as sleep } from 'node:timers/promises';
import type { FerryProcess } from './ferry-process.js';
import type { GatewayTarget } from './http-client.js';
import { processMemoryMb } from './proc.js';
import { waitAllServed } from './probe.js';
import { promByLabel } from './stats.js';

export interface ColdStartResult {
  /** Ferry process start until every sampled host answered 200 through Envoy. */
  allServedMs: number | undefined;
  firstServedMs: number | undefined;
  sampled: number;
  served: number;
  /** Milliseconds since Ferry's process start at which each step was seen (Ferry's logs, Envoy's stats). */
  timeline: Record<string, number | undefined>;
  /** Derived phase durations in ms. */
  phases: Record<string, number | undefined>;
  pushedBytesByType: Record<string, number>;
  pushesByType: Record<string, number>;
  /** Sum of push-to-ACK seconds by type, as Ferry measured it. */
  pushToAckSecondsByType: Record<string, number>;
  ferryRssMb: number | undefined;
  ferryPeakRssMb: number | undefined;
  envoyRssMb: number | undefined;
}

/** From Ferry's process start to Envoy serving every sampled host, with the phases in between. */
export async function measureColdStart(ferry: FerryProcess, targets: readonly GatewayTarget[], timeoutMs: number): Promise<ColdStartResult> {
  const since = performance.now() - (Date.now() - ferry.startedAt);
  const served = await waitAllServed(targets, since, timeoutMs);
  await ferry.waitSynced(Math.min(timeoutMs, 60_000));
  await sleep(200);

  const at = (msg: string): number | undefined => {
    const line = ferry.logs.find((l) => l.msg === msg);
    return line ? line.time - ferry.startedAt : undefined;
  };
  const reconciled = ferry.logs.find((l) => l.msg === 'reconciled');
  const envoyStats = await ferry.envoyAdmin.stats('^(cluster_manager\\.cds|listener_manager\\.lds|http\\..*\\.rds\\..*)\\.update_time$').catch(() => new Map<string, number>());
  const envoyAt = (predicate: (name: string) => boolean): number | undefined => {
    const times = [...envoyStats].filter(([name, value]) => predicate(name) && value > 0).map(([, value]) => value - ferry.startedAt);
    return times.length ? Math.max(...times) : undefined;
  };
  const timeline: Record<string, number | undefined> = {
    nodeStartedXdsListening: at('xDS server listening'),
    loadingManifests: at('loading manifests'),
    manifestsLoaded: at('manifests loaded'),
    configurationBuilt: at('configuration built; serving xDS'),
    envoyAdminUp: at('managed Envoy started (roles external and local)'),
    envoyLastCdsUpdate: envoyAt((n) => n.startsWith('cluster_manager.cds')),
    envoyLastLdsUpdate: envoyAt((n) => n.startsWith('listener_manager.lds')),
    envoyLastRdsUpdate: envoyAt((n) => n.includes('.rds.')),
    firstHostServed: served.firstOkMs,
    allHostsServed: served.allOkMs,
  };
  const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : b - a);
  // The gateway bootstrap drops the RDS stats of per-KIngress tables: then the first host served marks the routes.
  const envoyApplied = Math.max(timeline.envoyLastCdsUpdate ?? 0, timeline.envoyLastLdsUpdate ?? 0, timeline.envoyLastRdsUpdate ?? timeline.firstHostServed ?? 0) || undefined;
  const metrics = await ferry.metrics();
  const ferryMemory = processMemoryMb(ferry.pid);
  const envoyPid = ferry.envoyPid();
  return {
    allServedMs: served.allOkMs,
    firstServedMs: served.firstOkMs,
    sampled: targets.length,
    served: served.ok,
    timeline,
    phases: {
      nodeStartup: timeline.loadingManifests,
      load: diff(timeline.loadingManifests, timeline.manifestsLoaded),
      // The first pass hands its batches to Envoy as it goes: Envoy starts with the load and applies meanwhile.
      translateAndEncode: typeof reconciled?.ms === 'number' ? reconciled.ms : diff(timeline.manifestsLoaded, timeline.configurationBuilt),
      envoyProcessStart: diff(timeline.loadingManifests, timeline.envoyAdminUp),
      pushAndEnvoyApply: diff(timeline.configurationBuilt, envoyApplied),
      untilAllHostsServed: diff(envoyApplied, timeline.allHostsServed),
    },
    pushedBytesByType: promByLabel(metrics, 'ferry_xds_pushed_bytes_total', 'type'),
    pushesByType: promByLabel(metrics, 'ferry_xds_pushes_total', 'type'),
    pushToAckSecondsByType: promByLabel(metrics, 'ferry_xds_push_to_ack_seconds_sum', 'type'),
    ferryRssMb: ferryMemory.rssMb,
    ferryPeakRssMb: ferryMemory.peakRssMb,
    envoyRssMb: envoyPid ? processMemoryMb(envoyPid).rssMb : undefined,
  };
}
