import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { AnyObject, ObjectKind } from '../model/kinds.js';
import { objectKey } from '../model/meta.js';
import { formatValidationError } from '../model/validation-error.js';
import type { StoreUpdate } from '../store/changes.js';
import type { Store } from '../store/store.js';
import { parseManifests, type ManifestObject } from './parse-manifests.js';
import type { Source, SourceProblem } from './source.js';

export interface FilesSourceOptions {
  directory: string;
  store: Store;
  logger?: Logger;
  /** Namespace of objects that name none. */
  defaultNamespace?: string;
  /** Quiet time after a file event before the directory is rescanned, so an editor's burst of writes is read once. */
  debounceMs?: number;
  /** Watch the directory for changes after the initial load (default true). */
  watch?: boolean;
}

interface FileState {
  mtimeMs: number;
  size: number;
  objects: Map<string, ManifestObject>;
  problems: SourceProblem[];
}

const MANIFEST_FILE = /\.ya?ml$/i;
const PROGRESS_INTERVAL_MS = 1_000;

/**
 * Reads every .yaml/.yml file under a directory (recursively, several documents per file) into the Store, and
 * keeps it in step with the files. Bad input never removes good state: a file that stops parsing keeps its last
 * good objects, an object that fails validation keeps its last good version; both are reported with file,
 * document, object and field. Objects removed from the files are deleted from the Store.
 */
export class FilesSource extends EventEmitter implements Source {
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly defaultNamespace: string;
  private readonly debounceMs: number;
  private readonly watchEnabled: boolean;
  private readonly files = new Map<string, FileState>();
  /** What this source has put in the Store, by object id. */
  private readonly applied = new Map<string, { kind: ObjectKind; object: AnyObject }>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: FilesSourceOptions) {
    super();
    this.store = options.store;
    this.logger = (options.logger ?? silentLogger).child({ source: 'files', directory: options.directory });
    this.defaultNamespace = options.defaultNamespace ?? 'default';
    this.debounceMs = options.debounceMs ?? 100;
    this.watchEnabled = options.watch ?? true;
  }

  /** Loads the directory, emits 'synced', then watches it. Rejects only if the directory cannot be read at all. */
  async start(): Promise<void> {
    await stat(this.options.directory);
    if (this.watchEnabled) {
      // Watch before the first scan, so that a change made during it is not missed.
      this.watcher = watch(this.options.directory, { recursive: true }, () => this.scheduleRescan());
      this.watcher.on('error', (error) => this.logger.error({ err: error }, 'watching the manifest directory failed'));
    }
    await this.rescan();
    this.logger.info({ objects: this.applied.size, files: this.files.size }, 'manifests loaded');
    this.emit('synced');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.scanning;
  }

  /** Re-reads changed files and applies the difference to the Store. Scans never overlap. */
  rescan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scan()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'rescanning the manifest directory failed');
    });
    return this.scanning;
  }

  /** The problems of the current state of the files (errors and warnings), file by file. */
  problems(): SourceProblem[] {
    return [...this.files.keys()].sort().flatMap((file) => this.files.get(file)!.problems);
  }

  private scheduleRescan(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.rescan(), this.debounceMs);
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const paths = await listManifestFiles(this.options.directory);
    const present = new Set(paths);
    for (const file of [...this.files.keys()]) if (!present.has(file)) this.files.delete(file);
    let reported = Date.now();
    for (const [i, path] of paths.entries()) {
      await this.readIfChanged(path);
      // Start-up with many files shows progress, once a second.
      if (Date.now() - reported >= PROGRESS_INTERVAL_MS) {
        reported = Date.now();
        this.logger.info({ files: i + 1, of: paths.length }, 'reading manifests');
      }
    }
    this.applyToStore();
  }

  private async readIfChanged(path: string): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch {
      this.files.delete(path);
      return;
    }
    const previous = this.files.get(path);
    if (previous && previous.mtimeMs === info.mtimeMs && previous.size === info.size) return;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      this.files.delete(path);
      return;
    }
    const file = relative(this.options.directory, path);
    const parsed = parseManifests(text, file, this.defaultNamespace);
    const problems = [...parsed.problems];
    let objects: Map<string, ManifestObject>;
    if (parsed.syntaxError) {
      objects = previous?.objects ?? new Map();
      if (previous) problems.push({ severity: 'warning', file, object: '', field: '', message: `the last good version of this file (${objects.size} objects) keeps serving until it is fixed` });
    } else {
      objects = new Map();
      for (const object of parsed.objects) {
        if (objects.has(object.id)) {
          problems.push({ severity: 'error', file, document: object.document, object: describe(object), field: '', message: `defined twice in this file; document ${objects.get(object.id)!.document} is used` });
        } else objects.set(object.id, object);
      }
      // An object that failed validation keeps its last good version from this file.
      const invalid = new Set(parsed.problems.filter((p) => p.severity === 'error' && p.sourceId).map((p) => p.sourceId!));
      for (const old of previous?.objects.values() ?? []) {
        if (invalid.has(old.sourceId) && !objects.has(old.id)) objects.set(old.id, old);
      }
    }
    this.files.set(path, { mtimeMs: info.mtimeMs, size: info.size, objects, problems });
    for (const problem of problems) this.report(problem);
  }

  private applyToStore(): void {
    const desired = new Map<string, { object: ManifestObject; file: string }>();
    for (const file of [...this.files.keys()].sort()) {
      const state = this.files.get(file)!;
      for (const object of state.objects.values()) {
        const owner = desired.get(object.id);
        if (owner) {
          const problem: SourceProblem = { severity: 'error', file: relative(this.options.directory, file), document: object.document, object: describe(object), field: '', message: `also defined in ${relative(this.options.directory, owner.file)}, which is used; remove one of them` };
          if (!state.problems.some((p) => p.message === problem.message && p.document === problem.document)) {
            state.problems.push(problem);
            this.report(problem);
          }
          continue;
        }
        desired.set(object.id, { object, file });
      }
    }
    const updates: StoreUpdate[] = [];
    for (const [id, { object }] of desired) {
      if (this.applied.get(id)?.object === object.object) continue;
      updates.push({ kind: object.kind, object: object.object } as StoreUpdate);
      this.applied.set(id, { kind: object.kind, object: object.object });
    }
    for (const [id, { kind, object }] of this.applied) {
      if (desired.has(id)) continue;
      updates.push({ kind, key: objectKey(object), delete: true });
      this.applied.delete(id);
    }
    if (updates.length === 0) return;
    const changes = this.store.apply(updates);
    this.logger.debug({ changes: changes.length }, 'manifests applied');
  }

  private report(problem: SourceProblem): void {
    const message = formatValidationError(problem);
    if (problem.severity === 'error') this.logger.error({ file: problem.file, document: problem.document, object: problem.object, field: problem.field }, message);
    else this.logger.warn({ file: problem.file, document: problem.document, object: problem.object }, message);
    this.emit('problem', problem);
  }
}

function describe(object: ManifestObject): string {
  return `${object.object.kind} ${objectKey(object.object)}`;
}

async function listManifestFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && MANIFEST_FILE.test(entry.name) && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
