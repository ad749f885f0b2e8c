import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_LIMITS } from '../../src/sources/parse-limits.js';

/**
 * The hostile corpus: the YAML files of corpus/ (each says what it must be reported as, in `# expect:` lines;
 * `# expect (validate):` and `# expect (serve):` for what only one of them words that way), and what cannot be
 * committed as a file (too large, or not a file at all), made here with its own expectations.
 */
export const CORPUS_DIR = resolve(import.meta.dirname, 'corpus');

export type CorpusReader = 'validate' | 'serve';

/** The lines each reader must print, file by file. */
export function corpusExpectations(reader: CorpusReader): Map<string, string[]> {
  const expectations = new Map<string, string[]>();
  for (const file of readdirSync(CORPUS_DIR).sort()) {
    const lines = readFileSync(join(CORPUS_DIR, file), 'utf8').split('\n')
      .map((line) => /^\uFEFF?# expect(?: \((validate|serve)\))?: (.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null && (match[1] === undefined || match[1] === reader))
      .map((match) => match[2]!);
    expectations.set(file, lines);
  }
  for (const [file, lines] of Object.entries(GENERATED_EXPECTATIONS)) expectations.set(file, lines);
  // A dangling symlink: `ferry validate` says so; to `ferry serve` it is a file that is gone (nothing served from it).
  expectations.set('dangling.yaml', reader === 'validate' ? ['dangling.yaml cannot be read: nothing there (ENOENT)'] : []);
  return expectations;
}

const GENERATED_EXPECTATIONS: Record<string, string[]> = {
  'huge-file.yaml': ['huge-file.yaml cannot be read: 16.5 MiB is larger than the 16 MiB Ferry reads in one manifest file'],
  'large-object.yaml': ["large-object.yaml (document 2) document is 3.5 MiB; Ferry reads documents of at most 3 MiB (the API server's limit for one object); not read"],
  'loop.yaml': ['loop.yaml cannot be read: a loop of symbolic links (ELOOP)'],
  'fifo.yaml': ['fifo.yaml cannot be read: not a regular file (a device, FIFO or socket)'],
  'folder-link.yaml': ['folder-link.yaml cannot be read: not a regular file (a directory)'],
};

/** Copies the corpus into `dir` and adds the generated cases. */
export function writeCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  cpSync(CORPUS_DIR, dir, { recursive: true });
  // Larger than the file limit, made of valid small documents: refused before it is read at all.
  const document = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: filler, namespace: default}\ndata: {a: b}\n---\n';
  writeFileSync(join(dir, 'huge-file.yaml'), document.repeat(Math.ceil((MANIFEST_LIMITS.fileBytes + 512 * 1024) / document.length)).slice(0, MANIFEST_LIMITS.fileBytes + 512 * 1024));
  // A valid object, then one whose text is larger than any Kubernetes object (a 3.5 MiB annotation).
  writeFileSync(join(dir, 'large-object.yaml'), `apiVersion: v1\nkind: Service\nmetadata: {name: small, namespace: default}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: large\n  annotations: {blob: "${'x'.repeat(3.5 * 1024 * 1024)}"}\n`);
  symlinkSync('loop.yaml', join(dir, 'loop.yaml'));
  symlinkSync('missing.yaml', join(dir, 'dangling.yaml'));
  symlinkSync('.', join(dir, 'folder-link.yaml'));
  execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
}
