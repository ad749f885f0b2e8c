import { hash } from 'node:crypto';
import jsYaml from 'js-yaml';
import type { Endpoints, Secret } from '../model/kube.js';
import { TLS_SECRET_TYPE } from '../model/kube.js';
import { KNATIVE_CONFIG_MAPS, KNATIVE_NAMESPACE } from '../model/config.js';
import { FERRY_CONFIG_MAP, FERRY_SYSTEM_NAMESPACE } from '../model/gateway-options.js';
import { CLUSTER_SCOPED_KINDS, acceptedManifestKinds, manifestKind, type AnyObject, type ObjectKind } from '../model/kinds.js';
import { flatJoin, objectKey } from '../model/meta.js';
import { quoted } from '../model/names.js';
import { manifestKindName, validateObject } from '../model/validate.js';
import { describeObject, type ValidationError } from '../model/validation-error.js';
import { endpointsToSlices } from './endpoints-to-slices.js';
import { MANIFEST_LIMITS, fieldPath, formatMiB, measureValue, type ValueMeasure } from './parse-limits.js';

/** One object read from a manifest, with its identity in the store: `<kind>:<namespace/name>`. */
export interface ManifestObject {
  id: string;
  /** The identity of the manifest object it came from; differs from `id` only for Endpoints turned into slices. */
  sourceId: string;
  kind: ObjectKind;
  object: AnyObject;
  document: number;
}

export interface ManifestProblem extends ValidationError {
  severity: 'error' | 'warning';
  /** For an invalid object whose identity is known (so that its last good version can stay). */
  sourceId?: string;
}

export interface ParsedManifest {
  objects: ManifestObject[];
  problems: ManifestProblem[];
  /** True when the file is not valid YAML: nothing in it can be trusted. */
  syntaxError: boolean;
}

function objectId(kind: ObjectKind | 'Endpoints', key: string): string {
  return flatJoin(':', kind, key);
}

/** What one document of a file gave: a file's result in small. */
type DocumentResult = ParsedManifest;

/**
 * What the memo keeps of one document, by its text, so that an unchanged document is not parsed again. Nearly every
 * document gives one object and no problem: that is kept as the object alone (a result and its array for each of
 * ~43k documents at 10k KIngresses would add 4 MB).
 */
export type ParsedDocument = DocumentResult | ManifestObject;

/**
 * Documents of a file's previous reading and, filled by parseManifests, those of this one, by a digest of their text
 * (keeping the texts themselves would keep every manifest's text in memory).
 */
export interface DocumentMemo {
  previous: ReadonlyMap<string, ParsedDocument>;
  next: Map<string, ParsedDocument>;
}

/**
 * A document parsed elsewhere (ParseWorker): the digest of its text and, when JSON carries its value exactly, that
 * value as JSON text; without `json` the document is parsed here.
 */
export interface Preparsed {
  digest: string;
  json?: string;
}

/** The texts of a file's documents, in the order parseManifests numbers them (what a ParseWorker is given). */
export function manifestDocuments(text: string): string[] {
  return splitDocuments(text).map((document) => document.text);
}

/** The digest of a document's text that the memo keys it by. */
function documentDigest(text: string): string {
  // crypto.hash: one call instead of a Hash object per document (half the time for the ~90 documents of a file).
  return hash('sha1', text, 'base64');
}

/**
 * Parses one manifest file (several YAML documents) into validated, normalised objects. Pure. With a memo, a
 * document whose text is unchanged gives back its previous objects (the very same objects, so that the store
 * sees no change) without being parsed or validated again: editing one object of a large file costs one object.
 * `preparsed`, one entry per document of manifestDocuments(text), spares parsing the YAML (ignored if its length
 * differs).
 */
export function parseManifests(text: string, file: string, defaultNamespace: string, memo?: DocumentMemo, preparsed?: readonly Preparsed[]): ParsedManifest {
  const result: ParsedManifest = { objects: [], problems: [], syntaxError: false };
  const strings = new Map<string, string>();
  const documents = splitDocuments(text);
  const ahead = preparsed?.length === documents.length ? preparsed : undefined;
  documents.forEach(({ text: documentText, lineStart }, i) => {
    const document = i + 1;
    const digest = ahead ? ahead[i]!.digest : memo ? documentDigest(documentText) : '';
    const known = memo?.previous.get(digest);
    if (known !== undefined && !('objects' in known) && known.document === document) {
      // The common case of an edit, ~90 times per file: an unchanged document of one object, still in its place.
      memo!.next.set(digest, known);
      result.objects.push(known);
      return;
    }
    const parsed = known ? renumber(expand(known), document)
      : parseDocument(documentText, () => countNewlines(text, 0, lineStart), file, document, defaultNamespace, strings, ahead?.[i]!.json);
    memo?.next.set(digest, condense(parsed));
    result.objects.push(...parsed.objects);
    result.problems.push(...parsed.problems);
    result.syntaxError ||= parsed.syntaxError;
  });
  return result;
}

/** `firstLine` is counted only for an error message: most documents parse. */
function parseDocument(text: string, firstLine: () => number, file: string, document: number, defaultNamespace: string, strings: Map<string, string>, json?: string): DocumentResult {
  const parsed: DocumentResult = { objects: [], problems: [], syntaxError: false };
  // A document that cannot be read leaves nothing of the file to trust: its last good version stays (syntaxError).
  const reject = (object: string, field: string, message: string): DocumentResult => {
    parsed.syntaxError = true;
    parsed.problems.push({ severity: 'error', file, document, object, field, message });
    return parsed;
  };
  let value: unknown;
  if (json !== undefined) {
    // What detachFromText makes of the parsed value, already as JSON text (measured by the worker): only the copy is left to make.
    value = shareStrings(JSON.parse(json), strings);
  } else {
    if (text.length > MANIFEST_LIMITS.documentChars) {
      return reject('', '', `document is ${formatMiB(text.length)}; Ferry reads documents of at most ${formatMiB(MANIFEST_LIMITS.documentChars)} (the API server's limit for one object); not read`);
    }
    let loaded: unknown;
    try {
      // The core schema, as Kubernetes reads YAML: timestamps stay strings, no merge keys or binary.
      loaded = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: file });
    } catch (error) {
      const mark = (error as { mark?: { line: number } }).mark;
      const reason = (error as { reason?: string }).reason ?? (error as Error).message.split('\n')[0];
      const where = mark ? ` (line ${firstLine() + mark.line + 1})` : '';
      return reject('', '', `not valid YAML${where}: ${reason}`);
    }
    const measure = measureValue(loaded, MANIFEST_LIMITS);
    if (measure.exceeded) return reject(describeRaw(loaded), fieldPath(measure.path!), tooLargeMessage(measure));
    value = shareStrings(detachFromText(loaded, measure.jsonSafe), strings);
  }
  if (value === null || value === undefined) return parsed;
  try {
    readDocument(value, file, document, defaultNamespace, parsed);
  } catch (error) {
    // A gap in validation must never cost the whole scan: the object is reported, the file's last good version stays.
    return reject(describeRaw(value), '', `cannot be checked (${String(error)}); not read`);
  }
  return parsed;
}

function tooLargeMessage(measure: ValueMeasure): string {
  return measure.exceeded === 'depth'
    ? `nested more than ${MANIFEST_LIMITS.depth} levels deep (or a YAML alias contains itself); not read`
    : `larger than ${formatMiB(MANIFEST_LIMITS.expandedChars)} once its YAML aliases are expanded (nested aliases, the "billion laughs" shape?); not read`;
}

/** 'Kind namespace/name' of a value not known to be an object of any kind, from what of it is a short string. */
function describeRaw(value: unknown): string {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as { kind?: unknown; metadata?: unknown };
  const text = (item: unknown): string | undefined => (typeof item === 'string' && item.length <= 253 ? item : undefined);
  const metadata = (typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata : {}) as { name?: unknown; namespace?: unknown };
  const kind = text(raw.kind);
  return kind === undefined ? '' : describeObject(kind, { name: text(metadata.name), namespace: text(metadata.namespace) });
}

/**
 * A copy of a parsed document that shares nothing with its text: js-yaml's scalars are slices of the text, so the
 * objects kept for the store would keep every file's whole text alive (22 MB at 10k KIngresses). JSON's parser
 * builds flat strings and compact objects (11 MB less than structuredClone at 10k); the numbers JSON cannot carry
 * (infinities, NaN, -0) take structuredClone instead, so the copy always equals the original.
 */
function detachFromText(value: unknown, jsonSafe: boolean): unknown {
  if (value === null || typeof value !== 'object') return value;
  return jsonSafe ? JSON.parse(JSON.stringify(value)) : structuredClone(value);
}

const NO_PROBLEMS: ManifestProblem[] = Object.freeze([]) as unknown as ManifestProblem[];

/** Strings this short are shared by V8 already (JSON.parse internalizes them). */
const SHARED_BELOW = 11;

/**
 * Replaces the string values of a parsed document by equal ones met before in the same file: a revision's name, an
 * apiVersion or a namespace appear in several objects of a file, and each would otherwise be its own copy.
 */
function shareStrings<T>(value: T, strings: Map<string, string>): T {
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item !== 'string') shareStrings(item, strings);
    else if (item.length >= SHARED_BELOW) {
      const shared = strings.get(item);
      if (shared === undefined) strings.set(item, item);
      else record[key] = shared;
    }
  }
  return value;
}

/**
 * What the memo keeps: the lone object of a document without problems, or else the result with exact-size arrays
 * (an array filled by push keeps room for 17 elements).
 */
function condense(parsed: DocumentResult): ParsedDocument {
  if (parsed.objects.length === 1 && parsed.problems.length === 0 && !parsed.syntaxError) return parsed.objects[0]!;
  return { objects: parsed.objects.slice(), problems: parsed.problems.length > 0 ? parsed.problems.slice() : NO_PROBLEMS, syntaxError: parsed.syntaxError };
}

function expand(kept: ParsedDocument): DocumentResult {
  return 'objects' in kept ? kept : { objects: [kept], problems: NO_PROBLEMS, syntaxError: false };
}

/** The same document found at another position of the file: its objects keep their identity, only the number moves. */
function renumber(parsed: DocumentResult, document: number): DocumentResult {
  if (parsed.objects.every((o) => o.document === document) && parsed.problems.every((p) => p.document === document)) return parsed;
  return {
    objects: parsed.objects.map((o) => ({ ...o, document })),
    problems: parsed.problems.map((p) => ({ ...p, document })),
    syntaxError: parsed.syntaxError,
  };
}

const DOCUMENT_MARKER = /^---(?:[ \t].*)?$/;

/**
 * A file's documents as `kubectl apply -f` reads them: separated by `---` lines. Text before the first marker is a
 * document only if it holds more than blank lines and comments. `lineStart` is where the line of a document's first
 * line starts in the file, to count its line number for an error message.
 */
function splitDocuments(text: string): Array<{ text: string; lineStart: number }> {
  const documents: Array<{ text: string; lineStart: number }> = [];
  // Documents are slices of the file's text (no copies). Only lines that start with `---` can be markers: they are
  // found with indexOf, not by reading every line (a file of ~90 documents has ~1900 lines).
  let documentStart = 0;
  let documentLine = 0;
  const close = (end: number): void => {
    const body = text.slice(documentStart, end);
    if (!(documents.length === 0 && documentStart === 0 && isBlank(body))) documents.push({ text: body, lineStart: documentLine });
  };
  for (let lineStart = markerCandidate(text, 0); lineStart >= 0; lineStart = markerCandidate(text, lineStart + 3)) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline < 0 ? text.length : newline;
    const content = text.slice(lineStart, lineEnd);
    if (!DOCUMENT_MARKER.test(content)) continue;
    close(lineStart);
    // Content after `---` on the marker line (`--- {a: 1}`) belongs to the document that starts there.
    const rest = content.slice(3).trim();
    documentStart = rest === '' ? lineEnd + 1 : lineStart + content.indexOf(rest);
    documentLine = rest === '' ? lineEnd + 1 : lineStart;
    if (newline < 0) break;
  }
  if (documentStart < text.length && !(documents.length > 0 && isBlank(text.slice(documentStart)))) close(text.length);
  else if (documentStart >= text.length && documents.length === 0) return [];
  return documents;
}

/** The start of the next line at or after `from` that begins with `---`, or -1. */
function markerCandidate(text: string, from: number): number {
  for (let at = text.indexOf('---', from); at >= 0; at = text.indexOf('---', at + 3)) {
    if (at === 0 || text.charCodeAt(at - 1) === 10) return at;
  }
  return -1;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

function isBlank(text: string): boolean {
  return text.split('\n').every((line) => line.trim() === '' || line.trimStart().startsWith('#'));
}

function readDocument(value: unknown, file: string, document: number, defaultNamespace: string, result: ParsedManifest): void {
  const problem = (severity: 'error' | 'warning', object: string, field: string, message: string, sourceId?: string): void => {
    result.problems.push({ severity, file, document, object, field, message, ...(sourceId ? { sourceId } : {}) });
  };
  if (typeof value !== 'object' || Array.isArray(value)) return problem('error', '', '', 'expected a Kubernetes object (a map with apiVersion, kind, metadata)');
  const raw = value as { apiVersion?: unknown; kind?: unknown; metadata?: unknown };
  const kind = manifestKind(raw.apiVersion, raw.kind);
  const metadata = (typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata : {}) as { name?: string; namespace?: string };
  if (!kind) {
    return problem('warning', describeObject(typeof raw.kind === 'string' ? raw.kind : '<no kind>', metadata), '',
      `apiVersion ${quoted(raw.apiVersion ?? null)} kind ${quoted(raw.kind ?? null)} is not read by Ferry; ignored (Ferry reads ${acceptedManifestKinds().join(', ')})`);
  }
  const object = { ...raw, metadata: { ...metadata } } as AnyObject | Endpoints;
  if (kind === 'ClusterDomainClaim' || (kind !== 'Endpoints' && CLUSTER_SCOPED_KINDS.has(kind))) delete object.metadata.namespace;
  else if (!object.metadata.namespace) object.metadata.namespace = defaultNamespace;
  const describe = describeObject(manifestKindName(kind), object.metadata);
  // Only names that are strings make an id (validation reports the others by field): `${name}` of an arbitrary value can throw.
  const { name, namespace } = object.metadata as { name?: unknown; namespace?: unknown };
  const sourceId = typeof name === 'string' && (namespace === undefined || typeof namespace === 'string') ? objectId(kind, objectKey(object)) : '';

  if (kind === 'ConfigMap' && !isReadConfigMap(object.metadata.namespace, object.metadata.name)) {
    const read = [...KNATIVE_CONFIG_MAPS.map((n) => `${KNATIVE_NAMESPACE}/${n}`), `${FERRY_SYSTEM_NAMESPACE}/${FERRY_CONFIG_MAP}`];
    return problem('warning', describe, '', `Ferry reads only the ConfigMaps ${read.join(', ')}; ignored`);
  }
  if (kind === 'Secret' && (object as Secret).type !== TLS_SECRET_TYPE) {
    return problem('warning', describe, 'type', `Ferry reads only Secrets of type ${TLS_SECRET_TYPE}; ignored`);
  }

  const errors = kind === 'Endpoints' ? validateObject('Endpoints', object as Endpoints) : validateObject(kind, object as never);
  if (errors.length > 0) {
    const named = typeof object.metadata.name === 'string' && object.metadata.name !== '';
    for (const error of errors) problem('error', error.object, error.field, error.message, named ? sourceId : undefined);
    return;
  }
  if (kind === 'Endpoints') {
    for (const slice of endpointsToSlices(object as Endpoints)) {
      result.objects.push({ id: objectId('EndpointSlice', objectKey(slice)), sourceId, kind: 'EndpointSlice', object: slice, document });
    }
    return;
  }
  const normalized = kind === 'Secret' ? normalizeSecret(object as Secret) : (object as AnyObject);
  result.objects.push({ id: sourceId, sourceId, kind, object: normalized, document });
}

/** Knative's ConfigMaps, and Ferry's own (in files mode always in ferry-system, as deploy/kubernetes/ferry.yaml has it). */
function isReadConfigMap(namespace: string | undefined, name: string): boolean {
  return (namespace === KNATIVE_NAMESPACE && KNATIVE_CONFIG_MAPS.includes(name)) || (namespace === FERRY_SYSTEM_NAMESPACE && name === FERRY_CONFIG_MAP);
}

/** As the API server does: stringData is folded into data, base64-encoded. */
function normalizeSecret(secret: Secret): Secret {
  if (!secret.stringData) return secret;
  const data = { ...(secret.data ?? {}) };
  for (const [key, value] of Object.entries(secret.stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  const { stringData: _ignored, ...rest } = secret;
  return { ...rest, data };
}
