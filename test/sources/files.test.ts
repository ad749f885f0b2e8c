import { mkdtemp, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesSource } from '../../src/sources/files.js';
import type { SourceProblem } from '../../src/sources/source.js';
import type { ObjectChange } from '../../src/store/changes.js';
import { Store } from '../../src/store/store.js';
import { formatValidationError } from '../../src/model/validation-error.js';

const ROUTE = (name: string, revision: string) => `apiVersion: serving.knative.dev/v1
kind: Route
metadata:
  name: ${name}
spec:
  traffic:
    - revisionName: ${revision}
      percent: 100
`;
const SLICE = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: hello-abc
  labels:
    kubernetes.io/service-name: hello-00001
addressType: IPv4
endpoints:
  - addresses: ["127.0.0.1"]
ports:
  - port: 8090
`;

let dir: string;
let source: FilesSource | undefined;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'ferry-files-')); });
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: { watch?: boolean; settleMs?: number } = {}): Promise<{ store: Store; problems: SourceProblem[]; changes: ObjectChange[][] }> {
  const store = new Store();
  const problems: SourceProblem[] = [];
  const changes: ObjectChange[][] = [];
  store.onChange((c) => changes.push([...c]));
  source = new FilesSource({ directory: dir, store, debounceMs: 20, watch: options.watch ?? false, settleMs: options.settleMs ?? 100 });
  source.on('problem', (p: SourceProblem) => problems.push(p));
  let synced = false;
  source.on('synced', () => { synced = true; });
  await source.start();
  expect(synced).toBe(true);
  return { store, problems, changes };
}

/** Waits until a condition holds, polling (file watching is asynchronous by nature). */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached after 5 s of watching');
}

describe('FilesSource', () => {
  it('reads several documents per file, recursively, in the default namespace, and warns about unknown kinds', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'routes.yaml'), `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n`);
    await writeFile(join(dir, 'sub', 'slice.yml'), SLICE);
    await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
    const { store, problems } = await start();
    expect(store.list('Route').map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual(['default/a', 'default/b']);
    expect(store.endpointSlicesForService('default', 'hello-00001')).toHaveLength(1);
    expect(problems.map((p) => [p.severity, p.file, p.document])).toEqual([['warning', 'routes.yaml', 3]]);
  });

  it('reads a directory of many files (parsed on a worker thread) as it reads a few, problems included', async () => {
    for (let i = 0; i < 40; i++) await writeFile(join(dir, `apps-${String(i).padStart(2, '0')}.yaml`), `${ROUTE(`r${i}`, `r${i}-1`)}---\n${ROUTE(`q${i}`, `q${i}-1`)}`);
    await writeFile(join(dir, 'apps-07.yaml'), `${ROUTE('r7', 'r7-1')}---\nkind: [unclosed\n`);
    await writeFile(join(dir, 'apps-09.yaml'), `${ROUTE('r9', 'r9-1')}---\nspec: {ratio: .inf}\n`);
    const { store, problems } = await start();
    const names = store.list('Route').map((r) => r.metadata.name);
    // A file that does not parse gives nothing until it does (there is no last good version yet).
    expect(names).toHaveLength(77);
    expect(names).toContain('r39');
    expect(names).not.toContain('r7');
    expect(store.get('Route', 'default/r12')!.spec.traffic![0]!.revisionName).toBe('r12-1');
    expect(problems.map((p) => [p.severity, p.file, p.document])).toEqual([['error', 'apps-07.yaml', 2], ['warning', 'apps-09.yaml', 2]]);
    expect(formatValidationError(problems[0]!)).toMatch(/^apps-07\.yaml \(document 2\) not valid YAML \(line 1[0-9]\)/);
  });

  it('turns Endpoints into EndpointSlices of the same Service', async () => {
    await writeFile(join(dir, 'ep.yaml'), 'apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: svc\nsubsets:\n  - addresses: [{ip: 10.0.0.1}]\n    notReadyAddresses: [{ip: 10.0.0.2}]\n    ports: [{port: 8080, name: http}]\n');
    const { store } = await start();
    const [slice] = store.endpointSlicesForService('default', 'svc');
    expect(slice!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready])).toEqual([['10.0.0.1', true], ['10.0.0.2', false]]);
    expect(slice!.ports).toEqual([{ port: 8080, name: 'http' }]);
  });

  it('keeps the last good objects of a file that stops parsing, and reports file and document', async () => {
    const file = join(dir, 'routes.yaml');
    await writeFile(file, ROUTE('a', 'a-1'));
    const { store, problems } = await start();
    await writeFile(file, `${ROUTE('a', 'a-2')}---\nkind: [unclosed\n`);
    await source!.rescan();
    expect(store.get('Route', 'default/a')!.spec.traffic![0]!.revisionName).toBe('a-1');
    const error = problems.find((p) => p.severity === 'error')!;
    expect([error.file, error.document]).toEqual(['routes.yaml', 2]);
    expect(formatValidationError(error)).toMatch(/^routes\.yaml \(document 2\) not valid YAML/);
  });

  it('keeps the last good version of an object that fails validation, while other objects update', async () => {
    const file = join(dir, 'routes.yaml');
    await writeFile(file, `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}`);
    const { store, problems } = await start();
    await writeFile(file, `${ROUTE('a', 'a-1').replace('percent: 100', 'percent: 50')}---\n${ROUTE('b', 'b-2')}`);
    await source!.rescan();
    expect(store.get('Route', 'default/a')!.spec.traffic![0]!.percent).toBe(100);
    expect(store.get('Route', 'default/b')!.spec.traffic![0]!.revisionName).toBe('b-2');
    expect(problems.map(formatValidationError)).toEqual(['routes.yaml (document 1) Route default/a: spec.traffic: traffic targets sum to 50, want 100']);
  });

  it('deletes objects removed from a file, and those of a deleted file', async () => {
    await writeFile(join(dir, 'one.yaml'), `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}`);
    await writeFile(join(dir, 'two.yaml'), SLICE);
    const { store, changes } = await start();
    changes.length = 0;
    await writeFile(join(dir, 'one.yaml'), ROUTE('a', 'a-1'));
    await unlink(join(dir, 'two.yaml'));
    await source!.rescan();
    // A deleted file's objects leave at once; a file read with fewer objects keeps them for the settle time (it may be
    // being written in place), then is read again.
    expect(store.count('EndpointSlice')).toBe(0);
    expect(store.list('Route').map((r) => r.metadata.name)).toEqual(['a', 'b']);
    await eventually(() => store.list('Route').length === 1);
    expect(store.list('Route').map((r) => r.metadata.name)).toEqual(['a']);
    expect(changes.flat().map((c) => `${c.type} ${c.kind} ${c.key}`).sort()).toEqual(['deleted EndpointSlice default/hello-abc', 'deleted Route default/b']);
  });

  it('keeps the objects of a file seen empty while it is written in place, and changes nothing when it is filled again', async () => {
    const file = join(dir, 'one.yaml');
    await writeFile(file, `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}`);
    const { store, changes } = await start({ watch: true, settleMs: 2_000 });
    changes.length = 0;
    await writeFile(file, '');
    await source!.rescan();
    expect(store.list('Route').map((r) => r.metadata.name)).toEqual(['a', 'b']);
    await writeFile(file, `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-2')}`);
    await eventually(() => store.get('Route', 'default/b')?.spec.traffic?.[0]?.revisionName === 'b-2');
    expect(changes.flat().map((c) => `${c.type} ${c.kind} ${c.key}`)).toEqual(['updated Route default/b']);
  });

  it('reports an object defined in two files and uses the first file\'s', async () => {
    await writeFile(join(dir, 'a.yaml'), ROUTE('a', 'a-1'));
    await writeFile(join(dir, 'b.yaml'), ROUTE('a', 'a-2'));
    const { store, problems } = await start();
    expect(store.get('Route', 'default/a')!.spec.traffic![0]!.revisionName).toBe('a-1');
    expect(problems.map((p) => [p.file, p.message])).toEqual([['b.yaml', 'also defined in a.yaml, which is used; remove one of them']]);
  });

  it('follows an object moved to another file: the new file owns it, and removing it there deletes it', async () => {
    await writeFile(join(dir, 'a.yaml'), `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}`);
    await writeFile(join(dir, 'b.yaml'), ROUTE('c', 'c-1'));
    const { store, changes } = await start({ watch: true });
    changes.length = 0;
    await writeFile(join(dir, 'a.yaml'), ROUTE('a', 'a-1'));
    await writeFile(join(dir, 'b.yaml'), `${ROUTE('c', 'c-1')}---\n${ROUTE('b', 'b-2')}`);
    await eventually(() => store.get('Route', 'default/b')?.spec.traffic![0]!.revisionName === 'b-2');
    await writeFile(join(dir, 'a.yaml'), `${ROUTE('a', 'a-2')}`);
    await eventually(() => store.get('Route', 'default/a')?.spec.traffic![0]!.revisionName === 'a-2');
    expect(store.get('Route', 'default/b')?.spec.traffic![0]!.revisionName).toBe('b-2');
    await writeFile(join(dir, 'b.yaml'), ROUTE('c', 'c-1'));
    await eventually(() => store.get('Route', 'default/b') === undefined);
    expect(store.list('Route').map((r) => r.metadata.name)).toEqual(['a', 'c']);
    expect(changes.flat().filter((c) => c.key === 'default/b').at(-1)?.type).toBe('deleted');
  });

  it('watches the directory: a changed file, a new file in a new folder and a removed file reach the store', async () => {
    await writeFile(join(dir, 'routes.yaml'), ROUTE('a', 'a-1'));
    const { store } = await start({ watch: true });
    await writeFile(join(dir, 'routes.yaml'), ROUTE('a', 'a-2'));
    await eventually(() => store.get('Route', 'default/a')?.spec.traffic?.[0]?.revisionName === 'a-2');
    await mkdir(join(dir, 'new', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'new', 'deeper', 'b.yaml'), ROUTE('b', 'b-1'));
    await eventually(() => store.get('Route', 'default/b') !== undefined);
    await unlink(join(dir, 'routes.yaml'));
    await eventually(() => store.get('Route', 'default/a') === undefined);
  });

  it('a file written without pause is still read: the hold-off never waits past its maximum delay', async () => {
    await writeFile(join(dir, 'routes.yaml'), ROUTE('a', 'a-0'));
    const { store } = await start({ watch: true });
    // Writes every ~2 ms for 600 ms, always closer together than the 20 ms hold-off: the store must follow meanwhile.
    let seenWhileWriting = false;
    for (let i = 1, until = Date.now() + 600; Date.now() < until; i++) {
      await writeFile(join(dir, 'routes.yaml'), ROUTE('a', `a-${i}`));
      if (store.get('Route', 'default/a')?.spec.traffic?.[0]?.revisionName !== 'a-0') seenWhileWriting = true;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(seenWhileWriting).toBe(true);
  });

  it('an edited file applies only its own difference: an object replaced by another, then one dropped', async () => {
    await writeFile(join(dir, 'routes.yaml'), `${ROUTE('a', 'a-1')}---\n${ROUTE('b', 'b-1')}`);
    const { store, changes } = await start({ watch: true });
    await writeFile(join(dir, 'routes.yaml'), `${ROUTE('a', 'a-1')}---\n${ROUTE('c', 'c-1')}`);
    await eventually(() => store.get('Route', 'default/c') !== undefined);
    expect(store.get('Route', 'default/b')).toBeUndefined();
    await writeFile(join(dir, 'routes.yaml'), ROUTE('a', 'a-2'));
    await eventually(() => store.get('Route', 'default/c') === undefined);
    expect(store.list('Route').map((route) => route.spec.traffic?.[0]?.revisionName)).toEqual(['a-2']);
    expect(changes.slice(1).map((batch) => batch.map((c) => `${c.type} ${c.key}`).sort())).toEqual([
      ['added default/c', 'deleted default/b'],
      ['deleted default/c', 'updated default/a'],
    ]);
  });

  it('sees a file replaced by a rename, again and again (how editors save)', async () => {
    await writeFile(join(dir, 'routes.yaml'), ROUTE('a', 'a-1'));
    const { store } = await start({ watch: true });
    for (const revision of ['a-2', 'a-3', 'a-4']) {
      await writeFile(join(dir, '.routes.yaml.tmp'), ROUTE('a', revision));
      await rename(join(dir, '.routes.yaml.tmp'), join(dir, 'routes.yaml'));
      await eventually(() => store.get('Route', 'default/a')?.spec.traffic?.[0]?.revisionName === revision);
    }
  });

  it('reads a mounted ConfigMap: files behind ..data symlinks, updated by swapping the link', async () => {
    const mount = async (version: string, revision: string): Promise<void> => {
      await mkdir(join(dir, `..${version}`));
      await writeFile(join(dir, `..${version}`, 'routes.yaml'), ROUTE('a', revision));
      await symlink(`..${version}`, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await mount('2026_01', 'a-1');
    await symlink(join('..data', 'routes.yaml'), join(dir, 'routes.yaml'));
    const { store, problems } = await start({ watch: true });
    expect(store.get('Route', 'default/a')?.spec.traffic?.[0]?.revisionName).toBe('a-1');
    await mount('2026_02', 'a-2');
    await eventually(() => store.get('Route', 'default/a')?.spec.traffic?.[0]?.revisionName === 'a-2');
    expect(problems).toEqual([]);
  });
});
