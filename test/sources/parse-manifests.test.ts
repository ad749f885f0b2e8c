import { describe, expect, it } from 'vitest';
import { parseManifests, type ParsedDocument } from '../../src/sources/parse-manifests.js';

const service = (name: string, port = 80) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
    - name: http
      port: ${port}
`;

describe('parseManifests', () => {
  it('numbers documents as kubectl does: a leading comment block is no document, an empty one in the middle is', () => {
    const text = `# services\n---\n${service('a')}---\n---\n${service('b')}---\n`;
    const parsed = parseManifests(text, 'x.yaml', 'default');
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects.map((o) => [o.object.metadata.name, o.document])).toEqual([['a', 1], ['b', 3]]);
  });

  it('reports a name or namespace that is not a string by its field (fast-check found one that threw: a list holding {toString: 0})', () => {
    const odd = '[{toString: 0}]';
    const text = [
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${odd}, namespace: knative-serving}\ndata: {}\n`,
      `apiVersion: networking.internal.knative.dev/v1alpha1\nkind: Ingress\nmetadata: {name: ${odd}}\nspec: {rules: []}\n`,
      `apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: {toString: 0}}\nspec: {ports: [{port: 80}]}\n`,
    ].join('---\n');
    const parsed = parseManifests(text, 'x.yaml', 'default');
    expect(parsed.objects).toEqual([]);
    expect(parsed.problems.map((p) => p.message).filter((m) => m.includes('cannot be checked'))).toEqual([]);
    expect(parsed.problems.map((p) => [p.document, p.field])).toEqual([[1, ''], [2, 'metadata.name'], [3, 'metadata.namespace']]);
  });

  it('reports a syntax error with its document and its line in the file', () => {
    const parsed = parseManifests(`${service('a')}---\nkind: Service\nmetadata: {name: [b\n`, 'x.yaml', 'default');
    expect(parsed.syntaxError).toBe(true);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatchObject({ file: 'x.yaml', document: 2 });
    expect(parsed.problems[0]!.message).toMatch(/^not valid YAML \(line 1[12]\)/);
  });

  it('with a memo, gives back the very same objects for unchanged documents and parses only the changed one', () => {
    const first = new Map<string, ParsedDocument>();
    const before = parseManifests(`${service('a')}---\n${service('b')}---\n${service('c')}`, 'x.yaml', 'default', { previous: new Map(), next: first });
    const second = new Map<string, ParsedDocument>();
    // b changes; c moves from document 3 to document 2 (a document was removed before it).
    const after = parseManifests(`${service('b', 81)}---\n${service('c')}`, 'x.yaml', 'default', { previous: first, next: second });
    const objectOf = (parsed: typeof before, name: string) => parsed.objects.find((o) => o.object.metadata.name === name)!;
    expect(objectOf(after, 'c').object).toBe(objectOf(before, 'c').object);
    expect(objectOf(after, 'c').document).toBe(2);
    expect(objectOf(after, 'b').object).not.toBe(objectOf(before, 'b').object);
    expect(after).toEqual(parseManifests(`${service('b', 81)}---\n${service('c')}`, 'x.yaml', 'default'));
    expect(second.size).toBe(2);
  });

  it('keeps the values JSON cannot carry (infinities, NaN) when it copies parsed documents out of the text', () => {
    const parsed = parseManifests(service('a').replace('spec:', '  generation: .inf\nspec:\n  weight: .nan'), 'x.yaml', 'default');
    expect(parsed.problems).toEqual([]);
    const object = parsed.objects[0]?.object as { metadata: { generation?: number }; spec: { weight?: number } } | undefined;
    expect(object?.metadata.generation).toBe(Infinity);
    expect(object?.spec.weight).toBeNaN();
  });
});
