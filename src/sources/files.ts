import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { objectKey } from '../model/meta.js';
import { formatValidationError } from '../model/validation-error.js';
import type { StoreUpdate } from '../store/changes.js';
import type { Store } from '../store/store.js';
import { manifestDocuments, parseManifests, type ManifestObject, type ParsedDocument, type Preparsed } from './parse-manifests.js';
import { MANIFEST_FILE, listManifestFiles, readErrorText, readManifestFile, readManifestFileSync, type FileInfo, type ReadFile, type UnreadableFile } from './manifest-files.js';
import { ParseWorker } from './parse-worker.js';
import type { Source, SourceProblem } from './source.js';

export interface FilesSourceOptions {
  directory: string;
  store: Store;
  logger?: Logger;
  /** Namespace of objects that name none. */
  defaultNamespace?: string;
  /** Quiet time after a file event before the directory is rescanned, so an editor's burst of writes is read once. */
  debounceMs?: number;
  /** Longest a rescan waits while events keep coming closer together than debounceMs (default 100 ms). */
  maxDelayMs?: number;
  /** Watch the directory for changes after the initial load (default true). */
  watch?: boolean;
  /**
   * How long a file read with fewer objects than it had (emptied, cut short) keeps its objects, in case it is being
   * written in place: `cp` and editors that save in place truncate the file before they fill it (default 500 ms).
   */
  settleMs?: number;
}

interface FileState {
  mtimeMs: number;
  size: number;
  /** A file replaced by a rename has a new inode, even when its time and size look the same. */
  ino: number;
  objects: Map<string, ManifestObject>;
  problems: SourceProblem[];
  /** The file's documents by a digest of their text, so that the next reading parses only the documents that changed. */
  documents: Map<string, ParsedDocument>;
}

const PROGRESS_INTERVAL_MS = 1_000;
/**
 * A first load of at least this many files parses on a worker thread (starting one costs ~30 ms). At 10k KIngresses
 * (501 files) the load takes 0.84 s instead of 1.13 s.
 */
const PARSE_WORKER_MIN_FILES = 16;
/** Files read and handed to the worker ahead of the one the main thread ingests, so that the worker never waits. */
const FILES_AHEAD = 8;

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
  private readonly maxDelayMs: number;
  /** When the first event not yet scanned came. */
  private pendingSince: number | undefined;
  private readonly watchEnabled: boolean;
  private readonly files = new Map<string, FileState>();
  /** What this source has put in the Store, by object id (the files' own objects, not copies nor wrappers). */
  private applied = new Map<string, ManifestObject>();
  /** The object ids each file put in the Store: which file an applied object came from. */
  private appliedByFile = new Map<string, Set<string>>();
  /** True while some object is defined in two files: then every change is applied over all files. */
  private duplicates = false;
  /** One non-recursive watch per directory: Node's recursive watch on Linux loses files replaced by a rename. */
  private readonly watchers = new Map<string, FSWatcher>();
  /** Files named by watch events since the last scan; undefined means "rescan everything". */
  private changedFiles: Set<string> | undefined = new Set();
  private timer: NodeJS.Timeout | undefined;
  /** Files read with objects missing, kept as they were until they are read whole again or the settle time is over. */
  private readonly settling = new Map<string, { timer: NodeJS.Timeout; over: boolean }>();
  private readonly settleMs: number;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: FilesSourceOptions) {
    super();
    this.store = options.store;
    this.logger = (options.logger ?? silentLogger).child({ source: 'files', directory: options.directory });
    this.defaultNamespace = options.defaultNamespace ?? 'default';
    this.debounceMs = options.debounceMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 100;
    this.watchEnabled = options.watch ?? true;
    this.settleMs = options.settleMs ?? 500;
  }

  /** Loads the directory, emits 'synced', then watches it. Rejects only if the directory cannot be read at all. */
  async start(): Promise<void> {
    await stat(this.options.directory);
    // Watch before the first scan, so that a change made during it is not missed.
    if (this.watchEnabled) this.watchDirectory(this.options.directory);
    await this.rescan();
    this.logger.info({ objects: this.applied.size, files: this.files.size }, 'manifests loaded');
    this.emit('synced');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const { timer } of this.settling.values()) clearTimeout(timer);
    this.settling.clear();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.scanning;
  }

  /** Re-reads every changed file and applies the difference to the Store. Scans never overlap. */
  rescan(): Promise<void> {
    this.changedFiles = undefined;
    return this.scanSoon();
  }

  private scanSoon(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scan()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'rescanning the manifest directory failed');
    });
    return this.scanning;
  }

  /** The problems of the current state of the files (errors and warnings), file by file. */
  problems(): SourceProblem[] {
    return [...this.files.keys()].sort().flatMap((file) => this.files.get(file)!.problems);
  }

  private watchDirectory(directory: string): void {
    if (this.watchers.has(directory)) return;
    try {
      const watcher = watch(directory, (_event, name) => this.fileEvent(directory, name));
      watcher.on('error', (error) => {
        // A removed folder ends its watch; anything else is worth a word.
        this.watchers.delete(directory);
        if ((error as NodeJS.ErrnoException).code !== 'EPERM') this.logger.warn({ err: error, folder: directory }, 'watching a manifest folder failed');
        this.fileEvent(directory, null);
      });
      this.watchers.set(directory, watcher);
    } catch (error) {
      this.logger.warn({ err: error, folder: directory }, 'cannot watch a manifest folder; its changes are seen at the next rescan');
    }
  }

  /** A manifest file event names the file to read again; anything else (a folder, a symlink swap) rescans all. */
  private fileEvent(directory: string, name: string | Buffer | null): void {
    if (this.stopped) return;
    const file = name === null ? undefined : String(name);
    if (file !== undefined && MANIFEST_FILE.test(file) && !file.startsWith('.')) this.changedFiles?.add(join(directory, file));
    else this.changedFiles = undefined;
    // Each event restarts the hold-off, but never past maxDelayMs after the first: a file written without pause
    // is still read, at least every maxDelayMs.
    const now = Date.now();
    this.pendingSince ??= now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pendingSince = undefined;
      void this.scanSoon();
    }, Math.max(0, Math.min(this.debounceMs, this.pendingSince + this.maxDelayMs - now)));
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const changed = this.changedFiles;
    this.changedFiles = new Set();
    if (changed !== undefined) {
      if (changed.size === 0) return;
      for (const path of changed) this.readChanged(path);
      this.applyFiles([...changed]);
      return;
    }
    const { paths, directories, unreadable } = await listManifestFiles(this.options.directory);
    if (this.watchEnabled) {
      for (const directory of directories) this.watchDirectory(directory);
      const listed = new Set(directories);
      for (const [directory, watcher] of this.watchers) {
        if (listed.has(directory)) continue;
        watcher.close();
        this.watchers.delete(directory);
      }
    }
    // The first load of many files: their YAML is parsed on a worker thread while this one validates and stores what
    // came back. A later full rescan reads only the files that changed, usually few: no worker for it.
    const worker = this.files.size === 0 && paths.length >= PARSE_WORKER_MIN_FILES ? ParseWorker.start(this.logger) : undefined;
    // A folder that cannot be listed keeps the files last read in it (and is reported as a file that cannot be read).
    const present = new Set(paths);
    for (const folder of unreadable) {
      present.add(folder.path);
      for (const file of this.files.keys()) if (file.startsWith(`${folder.path}${sep}`)) present.add(file);
    }
    for (const file of [...this.files.keys()]) if (!present.has(file)) this.files.delete(file);
    for (const folder of unreadable) this.keepUnreadable(folder.path, folder.reason);
    let reported = Date.now();
    // Files are read (and parsed ahead) up to FILES_AHEAD at a time, and taken in order: problems are reported file
    // by file as before.
    const ahead: Array<Promise<ReadFile | UnreadableFile | undefined>> = [];
    try {
      for (const [i, path] of paths.entries()) {
        for (let j = ahead.length; j < Math.min(paths.length, i + (worker ? FILES_AHEAD : 1)); j++) ahead.push(this.readIfChanged(paths[j]!, worker));
        const read = await ahead[i]!;
        if (read) this.take(path, read);
        // Start-up with many files shows progress, once a second.
        if (Date.now() - reported >= PROGRESS_INTERVAL_MS) {
          reported = Date.now();
          this.logger.info({ files: i + 1, of: paths.length }, 'reading manifests');
        }
      }
    } finally {
      await Promise.allSettled(ahead);
      await worker?.close();
    }
    this.applyToStore();
  }

  /**
   * A full scan reads asynchronously: between files, the event loop serves gateways and admin requests. Undefined
   * when the file is as it was, or gone.
   */
  private async readIfChanged(path: string, worker: ParseWorker | undefined): Promise<ReadFile | UnreadableFile | undefined> {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      return this.readFailed(path, error);
    }
    const previous = this.files.get(path);
    if (previous && previous.mtimeMs === info.mtimeMs && previous.size === info.size && previous.ino === info.ino) return undefined;
    let read: ReadFile | UnreadableFile;
    try {
      read = await readManifestFile(path);
    } catch (error) {
      return this.readFailed(path, error);
    }
    if ('unreadable' in read || !worker) return read;
    // A worker that fails leaves the file to this thread (ingest parses what comes without `preparsed`).
    const preparsed = await worker.parse(relative(this.options.directory, path), manifestDocuments(read.text)).catch(() => undefined);
    return { ...read, preparsed };
  }

  /**
   * A file named by a watch event is read whatever its time and size (file times move in clock ticks of several
   * milliseconds, so two same-sized writes within one tick look identical), synchronously: parsing blocks far longer
   * than reading, and each asynchronous step (stat, open, read, close) is a round trip through libuv's thread pool
   * that costs more CPU than the read itself.
   */
  private readChanged(path: string): void {
    let read: ReadFile | UnreadableFile | undefined;
    try {
      read = readManifestFileSync(path);
    } catch (error) {
      read = this.readFailed(path, error);
    }
    if (read) this.take(path, read);
  }

  /** A file gone is forgotten (its objects leave); any other failure makes it unreadable (its objects stay). */
  private readFailed(path: string, error: unknown): UnreadableFile | undefined {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      this.settled(path);
      this.files.delete(path);
      return undefined;
    }
    return { unreadable: readErrorText(error) };
  }

  private take(path: string, read: ReadFile | UnreadableFile): void {
    if ('unreadable' in read) this.keepUnreadable(path, read.unreadable);
    else this.ingest(path, read.info, read.text, read.preparsed);
  }

  /**
   * A file that is there but cannot be read (too large, not a regular file, a symlink loop, no permission) keeps its
   * last good objects, as a file that stops parsing does, and is read again at the next scan.
   */
  private keepUnreadable(path: string, reason: string): void {
    const previous = this.files.get(path);
    const file = relative(this.options.directory, path);
    const objects = previous?.objects ?? new Map<string, ManifestObject>();
    const problems: SourceProblem[] = [{ severity: 'error', file, object: '', field: '', message: `cannot be read: ${reason}` }];
    if (objects.size > 0) problems.push(lastGoodVersionKept(file, objects.size));
    this.files.set(path, { mtimeMs: Number.NaN, size: -1, ino: -1, objects, problems, documents: previous?.documents ?? new Map() });
    for (const problem of problems) this.report(problem);
  }

  /** Parses a file's text (only its changed documents) and records its objects and problems. */
  private ingest(path: string, info: FileInfo, text: string, preparsed?: readonly Preparsed[]): void {
    const previous = this.files.get(path);
    const file = relative(this.options.directory, path);
    const documents = new Map<string, ParsedDocument>();
    const parsed = parseManifests(text, file, this.defaultNamespace, { previous: previous?.documents ?? new Map(), next: documents }, preparsed);
    const problems = [...parsed.problems];
    let objects: Map<string, ManifestObject>;
    if (parsed.syntaxError) {
      objects = previous?.objects ?? new Map();
      if (previous) problems.push(lastGoodVersionKept(file, objects.size));
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
      if (previous && this.stillSettling(path, file, previous.objects, objects)) return;
    }
    this.files.set(path, { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino, objects, problems, documents });
    for (const problem of problems) this.report(problem);
  }

  /**
   * Whether a file read with objects missing keeps what it had for now. A file written in place is empty between its
   * truncation and its write: read then, its objects would leave the gateway (404s) until the next read. It keeps
   * them until it is read with them again, or for settleMs, then it is read once more and taken as it is. Deleting a
   * file removes its objects at once.
   */
  private stillSettling(path: string, file: string, had: ReadonlyMap<string, ManifestObject>, has: ReadonlyMap<string, ManifestObject>): boolean {
    let missing = 0;
    for (const id of had.keys()) if (!has.has(id)) missing++;
    const entry = this.settling.get(path);
    if (missing === 0 || entry?.over) {
      this.settled(path);
      return false;
    }
    if (entry) return true;
    this.logger.debug({ file, missing, settleMs: this.settleMs }, 'a manifest file was read with objects missing; they stay until it is read whole again or stays so');
    const timer = setTimeout(() => {
      const current = this.settling.get(path);
      if (this.stopped || !current) return;
      current.over = true;
      this.changedFiles?.add(path);
      void this.scanSoon();
    }, this.settleMs);
    this.settling.set(path, { timer, over: false });
    return true;
  }

  private settled(path: string): void {
    clearTimeout(this.settling.get(path)?.timer);
    this.settling.delete(path);
  }

  /**
   * Applies what a few files now hold, touching only their objects; when objects are defined in several files
   * (ownership may move), everything is applied again instead.
   */
  private applyFiles(paths: readonly string[]): void {
    if (this.duplicates) {
      this.applyToStore();
      return;
    }
    // One look-up per object finds both an object another file defines (then ownership may move: apply everything)
    // and the objects that changed.
    const changedByPath = new Map<string, ManifestObject[]>(paths.map((path) => [path, []]));
    // Objects the file had applied already: when that is all it had, none was removed (the usual edit).
    const keptByPath = new Map<string, number>();
    for (const path of paths) {
      let kept = 0;
      const own = this.appliedByFile.get(path);
      for (const object of this.files.get(path)?.objects.values() ?? []) {
        const applied = this.applied.get(object.id);
        if (applied !== undefined && !own?.has(object.id)) {
          this.applyToStore();
          return;
        }
        if (applied !== undefined) kept++;
        if (applied?.object !== object.object) changedByPath.get(path)!.push(object);
      }
      keptByPath.set(path, kept);
    }
    const updates: StoreUpdate[] = [];
    for (const path of paths) {
      const had = this.appliedByFile.get(path)?.size ?? 0;
      for (const object of changedByPath.get(path)!) {
        updates.push({ kind: object.kind, object: object.object } as StoreUpdate);
        this.record(object, path);
      }
      if (keptByPath.get(path) === had) continue;
      const objects = this.files.get(path)?.objects ?? new Map<string, ManifestObject>();
      for (const id of [...(this.appliedByFile.get(path) ?? [])]) {
        if (objects.has(id)) continue;
        const { kind, object } = this.applied.get(id)!;
        updates.push({ kind, key: objectKey(object), delete: true });
        this.forget(id, path);
      }
    }
    this.applyUpdates(updates);
  }

  /** An object of this file is in the Store (one moved from another file is recorded by applyToStore alone). */
  private record(object: ManifestObject, file: string): void {
    this.applied.set(object.id, object);
    const ids = this.appliedByFile.get(file) ?? new Set<string>();
    ids.add(object.id);
    this.appliedByFile.set(file, ids);
  }

  private forget(id: string, file: string): void {
    this.applied.delete(id);
    const ids = this.appliedByFile.get(file);
    ids?.delete(id);
    if (ids?.size === 0) this.appliedByFile.delete(file);
  }

  private applyUpdates(updates: StoreUpdate[]): void {
    if (updates.length === 0) return;
    const changes = this.store.apply(updates);
    // One line per applied edit: the operator sees that Ferry took it (Knative's controllers log each reconcile too).
    this.logger.info({ changes: changes.length }, 'manifests applied');
  }

  private applyToStore(): void {
    let duplicates = false;
    const desired = new Map<string, { object: ManifestObject; file: string }>();
    for (const file of [...this.files.keys()].sort()) {
      const state = this.files.get(file)!;
      for (const object of state.objects.values()) {
        const owner = desired.get(object.id);
        if (owner) {
          duplicates = true;
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
    this.duplicates = duplicates;
    const updates: StoreUpdate[] = [];
    const previous = this.applied;
    this.applied = new Map();
    this.appliedByFile = new Map();
    for (const [id, { object, file }] of desired) {
      if (previous.get(id)?.object !== object.object) updates.push({ kind: object.kind, object: object.object } as StoreUpdate);
      this.record(object, file);
    }
    for (const [id, { kind, object }] of previous) if (!desired.has(id)) updates.push({ kind, key: objectKey(object), delete: true });
    this.applyUpdates(updates);
  }

  private report(problem: SourceProblem): void {
    const message = formatValidationError(problem);
    if (problem.severity === 'error') this.logger.error({ file: problem.file, document: problem.document, object: problem.object, field: problem.field }, message);
    else this.logger.warn({ file: problem.file, document: problem.document, object: problem.object }, message);
    this.emit('problem', problem);
  }
}

function lastGoodVersionKept(file: string, objects: number): SourceProblem {
  return { severity: 'warning', file, object: '', field: '', message: `the last good version of this file (${objects} objects) keeps serving until it is fixed` };
}

function describe(object: ManifestObject): string {
  return `${object.object.kind} ${objectKey(object.object)}`;
}
