import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { MANIFEST_LIMITS, measureValue } from './parse-limits.js';
import type { Preparsed } from './parse-manifests.js';

/**
 * The worker's code, a CommonJS script (run with `eval`, so that it needs no file of its own next to either the
 * TypeScript sources or their build). Per document: the digest parseManifests keys its memo with, and the value as
 * JSON text when JSON carries it exactly (an object without infinities, NaN or -0) and it is within the manifest
 * limits (measured by the very function parseManifests uses, given as its source text); anything else (a syntax
 * error, an empty or scalar document, such numbers, a document too large or too nested) is left to the main thread,
 * which then parses it as it always does and words the problem itself. The YAML options and the digest repeat
 * parseManifests' (a string cannot import them); test/sources/parse-worker.test.ts fails if the two threads'
 * objects, problems or memo keys differ.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const yaml = require(workerData.jsYaml);
const limits = workerData.limits;
const measureValue = ${measureValue.toString()};
parentPort.on('message', ({ id, file, documents }) => {
  const results = documents.map((text) => {
    const digest = hash('sha1', text, 'base64');
    if (text.length > limits.documentChars) return { digest };
    try {
      const value = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
      if (typeof value !== 'object' || value === null) return { digest };
      const measure = measureValue(value, limits);
      if (measure.jsonSafe && !measure.exceeded) return { digest, json: JSON.stringify(value) };
    } catch {}
    return { digest };
  });
  parentPort.postMessage({ id, results });
});
`;

interface Waiting {
  resolve(results: Preparsed[]): void;
  reject(error: Error): void;
}

/**
 * Parses manifest documents on a worker thread while the main thread validates and stores what came back: a large
 * start's YAML parsing (the most of its load) runs on another core, which is otherwise idle then (the managed Envoy
 * waits for the first configuration). The main thread still builds the objects it keeps, from JSON text, as it did
 * for every document before (a copy that shares no string with the file's text), so what it stores is unchanged.
 * Made for one full scan, then closed: an idle Ferry keeps no second V8 heap.
 */
export class ParseWorker {
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker, logger: Logger) {
    const fail = (error: Error): void => {
      if (this.failure) return;
      this.failure = error;
      logger.warn({ err: error }, 'the manifest parse worker stopped; the main thread parses the remaining files');
      for (const waiting of this.waiting.values()) waiting.reject(error);
      this.waiting.clear();
    };
    worker.on('message', ({ id, results }: { id: number; results: Preparsed[] }) => {
      const waiting = this.waiting.get(id);
      this.waiting.delete(id);
      waiting?.resolve(results);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)));
  }

  /** A started worker, or undefined when none can be started here (then the caller parses on its own thread). */
  static start(logger: Logger): ParseWorker | undefined {
    try {
      const jsYaml = createRequire(import.meta.url).resolve('js-yaml');
      return new ParseWorker(new Worker(WORKER_SOURCE, { eval: true, workerData: { jsYaml, limits: MANIFEST_LIMITS } }), logger);
    } catch (error) {
      logger.warn({ err: error }, 'cannot start a manifest parse worker; the main thread parses every file');
      return undefined;
    }
  }

  /** The documents' digests and JSON, in order; rejects if the worker has stopped. */
  parse(file: string, documents: readonly string[]): Promise<Preparsed[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, file, documents });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('parse worker closed');
    await this.worker.terminate();
  }
}
