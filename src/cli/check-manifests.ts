import { stat } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { silentLogger } from '../log.js';
import type { ObjectKind } from '../model/kinds.js';
import { describeObject, type ValidationError } from '../model/validation-error.js';
import { FERRY_CONFIG_MAP, FERRY_SYSTEM_NAMESPACE } from '../model/gateway-options.js';
import { followGatewayOptions } from '../serve/gateway-options-feed.js';
import { Reconciler, type ReconcileState } from '../serve/reconciler.js';
import { listManifestFiles, readErrorText, readManifestFile, type ManifestListing } from '../sources/manifest-files.js';
import { parseManifests, type ManifestObject, type ManifestProblem } from '../sources/parse-manifests.js';
import { Store } from '../store/store.js';
import type { StoreUpdate } from '../store/changes.js';
import type { TranslateConfig } from '../translate/envoy/index.js';
import type { ObjectReference } from '../translate/knative/index.js';
import { XdsCache } from '../xds/cache.js';

export interface ManifestCheck {
  /** Errors and warnings, in file order, then those of translation. */
  problems: ManifestProblem[];
  /** What Ferry would serve for these manifests. */
  cache: XdsCache;
  state: ReconcileState;
}

/**
 * Reads manifests as `ferry serve` would (the files source's parser and validation), then translates them, so
 * that mistakes only translation sees (a Route whose traffic names nothing, a host conflict) are reported too.
 */
export async function checkManifests(path: string, translateConfig: TranslateConfig, defaultNamespace = 'default'): Promise<ManifestCheck> {
  const { files, root, unreadable } = await manifestFiles(path);
  const name = (file: string): string => (root === undefined ? basename(file) : relative(root, file));
  const problems: ManifestProblem[] = unreadable.map((folder) => cannotRead(name(folder.path), folder.reason));
  const where = new Map<string, { file: string; object: ManifestObject }>();
  for (const file of files) {
    const read = await readManifestFile(file).catch((error: unknown) => ({ unreadable: readErrorText(error) }));
    if ('unreadable' in read) {
      problems.push(cannotRead(name(file), read.unreadable));
      continue;
    }
    const parsed = parseManifests(read.text, name(file), defaultNamespace);
    problems.push(...parsed.problems);
    for (const object of parsed.objects) {
      const first = where.get(object.id);
      if (first) {
        problems.push({ severity: 'error', file: name(file), document: object.document, object: describeManifestObject(object), field: '',
          message: `also defined in ${first.file} (document ${first.object.document}); remove one of them` });
      } else where.set(object.id, { file: name(file), object });
    }
  }
  const store = new Store();
  store.apply([...where.values()].map(({ object }) => ({ kind: object.kind, object: object.object }) as StoreUpdate));
  const cache = new XdsCache();
  const reconciler = new Reconciler({ store, cache, translateConfig, logger: silentLogger });
  followGatewayOptions(store, reconciler, `${FERRY_SYSTEM_NAMESPACE}/${FERRY_CONFIG_MAP}`, silentLogger)();
  const state = reconciler.reconcile();
  problems.push(...translationProblems(state, (ref) => {
    const found = where.get(`${OBJECT_KIND[ref.kind]}:${ref.namespace}/${ref.name}`);
    return found ? { file: found.file, document: found.object.document } : {};
  }));
  return { problems, cache, state };
}

const OBJECT_KIND: Record<ObjectReference['kind'], ObjectKind> = { Service: 'KnativeService', Route: 'Route', DomainMapping: 'DomainMapping', Ingress: 'KIngress' };

function translationProblems(state: ReconcileState, locate: (ref: ObjectReference) => Pick<ValidationError, 'file' | 'document'>): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const describe = (ref: ObjectReference): string => describeObject(ref.kind, ref);
  for (const status of state.statuses) {
    const ready = status.conditions.find((c) => c.type === 'Ready' && c.status === 'False');
    if (ready) problems.push({ severity: 'error', ...locate(status.object), object: describe(status.object), field: '', message: `${ready.reason}: ${ready.message ?? ''}` });
  }
  for (const served of state.ingresses.values()) {
    const origin = served.origin;
    for (const warning of served.warnings) problems.push({ severity: 'warning', ...locate(origin), object: describe(origin), field: '', message: warning });
    if (served.conflict) {
      problems.push({ severity: 'error', ...locate(origin), object: describe(origin), field: 'spec.rules[].hosts',
        message: `DomainConflict: ${served.conflict.hosts.join(', ')} already served by the older KIngress ${served.conflict.winner}; this one would not be served` });
    }
  }
  return problems;
}

function describeManifestObject(object: ManifestObject): string {
  return describeObject(object.object.kind, object.object.metadata);
}

function cannotRead(file: string, reason: string): ManifestProblem {
  return { severity: 'error', file, object: '', field: '', message: `cannot be read: ${reason}` };
}

/** The files `ferry serve` would read for this path: the file itself, or the manifests under a directory. */
async function manifestFiles(path: string): Promise<{ files: string[]; root: string | undefined; unreadable: ManifestListing['unreadable'] }> {
  const info = await stat(path).catch(() => {
    throw new Error(`${path}: no such file or directory; give a manifest file or a directory of them`);
  });
  if (!info.isDirectory()) return { files: [path], root: undefined, unreadable: [] };
  const { paths, unreadable } = await listManifestFiles(path);
  return { files: paths, root: path, unreadable };
}
