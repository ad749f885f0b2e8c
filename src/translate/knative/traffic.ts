import type { Route, TrafficTarget } from '../../model/serving.js';

export type RevisionProtocol = 'http1' | 'h2c';

/** A traffic target resolved to a revision (Knative's traffic.RevisionTarget). */
export interface RevisionTarget {
  tag?: string;
  revisionName: string;
  configurationName?: string;
  latestRevision: boolean;
  percent: number;
  protocol: RevisionProtocol;
}

/** What traffic resolution needs to know about revisions, which files mode has no controller for. */
export interface RevisionResolver {
  /** The latest revision of a configuration (in files mode: of the Knative Service of that name). */
  latestRevision(namespace: string, configurationName: string): string | undefined;
  protocol(namespace: string, revisionName: string): RevisionProtocol;
}

export interface TrafficConfig {
  /** Targets by tag; '' is the default target, which carries every split. */
  targets: Map<string, RevisionTarget[]>;
}

export class TrafficError extends Error {
  constructor(readonly reason: 'ConfigurationMissing' | 'RevisionMissing', message: string) {
    super(message);
  }
}

/**
 * Knative's traffic.BuildTrafficConfiguration: every target goes to the default target; a tagged target also gets
 * its own target at 100%. Targets to the same revision are then merged, percents added.
 */
export function buildTrafficConfig(route: Route, resolver: RevisionResolver): TrafficConfig {
  const namespace = route.metadata.namespace ?? '';
  const targets = new Map<string, RevisionTarget[]>();
  const add = (tag: string, target: RevisionTarget): void => {
    const list = targets.get(tag) ?? [];
    list.push(target);
    targets.set(tag, list);
  };
  for (const target of route.spec.traffic ?? []) {
    const resolved = resolveTarget(namespace, target, resolver);
    add('', resolved);
    if (target.tag) add(target.tag, { ...resolved, percent: 100 });
  }
  for (const [tag, list] of targets) targets.set(tag, consolidate(list));
  return { targets };
}

function resolveTarget(namespace: string, target: TrafficTarget, resolver: RevisionResolver): RevisionTarget {
  let revisionName = target.revisionName;
  const latestRevision = !revisionName;
  if (!revisionName) {
    const configurationName = target.configurationName ?? '';
    revisionName = resolver.latestRevision(namespace, configurationName);
    if (!revisionName) throw new TrafficError('ConfigurationMissing', `Configuration "${configurationName}" referenced in traffic not found`);
  }
  return {
    ...(target.tag ? { tag: target.tag } : {}),
    revisionName,
    ...(target.configurationName ? { configurationName: target.configurationName } : {}),
    latestRevision,
    percent: target.percent ?? 0,
    protocol: resolver.protocol(namespace, revisionName),
  };
}

function consolidate(targets: RevisionTarget[]): RevisionTarget[] {
  const byRevision = new Map<string, RevisionTarget>();
  for (const target of targets) {
    const existing = byRevision.get(target.revisionName);
    if (existing) existing.percent += target.percent;
    else byRevision.set(target.revisionName, { ...target });
  }
  const merged = [...byRevision.values()];
  if (merged.length === 1) merged[0]!.percent = 100;
  return merged;
}
