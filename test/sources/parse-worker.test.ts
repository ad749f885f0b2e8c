import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { manifestDocuments, parseManifests, type ParsedDocument } from '../../src/sources/parse-manifests.js';
import { ParseWorker } from '../../src/sources/parse-worker.js';

const service = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels: {app: ${name}, tier: "front"}
spec:
  ports:
    - name: http
      port: 80
${extra}`;

// Every kind of document the worker answers differently: objects, a syntax error, an empty document, a scalar, a
// list, numbers JSON cannot carry (.inf, .nan, -0), Endpoints (turned into slices), an unknown kind, a bad object.
const FILE = [
  '# a comment block before the first marker is no document\n',
  service('a'),
  service('b', '  sessionAffinityConfig: {clientIP: {timeoutSeconds: .inf}}\n'),
  'kind: Service\nmetadata: {name: [broken\n',
  '',
  'just a string\n',
  '- a\n- list\n',
  service('c', '  externalTrafficPolicy: Cluster\n  healthCheckNodePort: -0\n'),
  'apiVersion: v1\nkind: Endpoints\nmetadata: {name: hello}\nsubsets:\n  - addresses: [{ip: 10.0.0.1}]\n    ports: [{port: 8080, name: http}]\n',
  'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
  'apiVersion: v1\nkind: Service\nmetadata: {name: no-ports}\nspec: {ports: [{port: "eighty"}]}\n',
  service('d', '  clusterIP: 10.96.0.10\n  ipFamilies: [IPv4]\n  note: .nan\n'),
  // Nested aliases (billion laughs): neither thread may expand them.
  `${service('e')}  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `  a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`).join('')}`,
].join('---\n');

describe('ParseWorker', () => {
  it('gives parseManifests what makes its result equal to parsing on this thread, memo included', async () => {
    const worker = ParseWorker.start(silentLogger);
    expect(worker).toBeDefined();
    try {
      const documents = manifestDocuments(FILE);
      const preparsed = await worker!.parse('x.yaml', documents);
      expect(preparsed).toHaveLength(documents.length);
      // The plain objects come as JSON; the rest is left to this thread.
      expect(preparsed.filter((p) => p.json !== undefined).length).toBeGreaterThanOrEqual(4);
      expect(preparsed.filter((p) => p.json === undefined).length).toBeGreaterThanOrEqual(6);

      const memoHere = new Map<string, ParsedDocument>();
      const memoAhead = new Map<string, ParsedDocument>();
      const here = parseManifests(FILE, 'x.yaml', 'default', { previous: new Map(), next: memoHere });
      const ahead = parseManifests(FILE, 'x.yaml', 'default', { previous: new Map(), next: memoAhead }, preparsed);
      expect(ahead).toEqual(here);
      expect([...memoAhead.keys()]).toEqual([...memoHere.keys()]);
      expect(here.syntaxError).toBe(true);
      expect(here.objects.map((o) => o.id)).toEqual(['Service:default/a', 'Service:default/b', 'Service:default/c', 'EndpointSlice:default/hello-0', 'Service:default/d']);
      expect(here.problems.map((p) => p.document)).toEqual([3, 5, 6, 9, 10, 12]);
      expect(here.problems.at(-1)!.message).toMatch(/^larger than 6 MiB once its YAML aliases are expanded/);
    } finally {
      await worker!.close();
    }
  });

  it('a preparsed list that does not match the file\'s documents is ignored', () => {
    const text = `${service('a')}---\n${service('b')}`;
    expect(parseManifests(text, 'x.yaml', 'default', undefined, [{ digest: 'x', json: '{"kind":"Nonsense"}' }])).toEqual(parseManifests(text, 'x.yaml', 'default'));
  });

  it('answers files in any number, and refuses once closed', async () => {
    const worker = ParseWorker.start(silentLogger)!;
    const files = Array.from({ length: 20 }, (_, i) => manifestDocuments(`${service(`s${i}`)}---\n${service(`t${i}`)}`));
    const answers = await Promise.all(files.map((documents, i) => worker.parse(`f${i}.yaml`, documents)));
    expect(answers.map((answer) => answer.map((p) => JSON.parse(p.json!).metadata.name))).toEqual(files.map((_, i) => [`s${i}`, `t${i}`]));
    await worker.close();
    await expect(worker.parse('late.yaml', ['kind: Service\n'])).rejects.toThrow(/closed/);
  });
});
