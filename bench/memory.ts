import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { fullGarbageCollection } from '../src/cli/collect-after-sync.js';
import { silentLogger } from '../src/log.js';
import { Reconciler } from '../src/serve/reconciler.js';
import { FilesSource } from '../src/sources/files.js';
import { Store } from '../src/store/store.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../src/translate/envoy/index.js';
import { XdsCache } from '../src/xds/cache.js';
import { parseRouteTables } from '../src/cli/translate-flags.js';

/*
 * Where Ferry's memory goes after the load and the first pass, in this process, on a directory of manifests
 * (`node dist/bench/generate.js --count 10000 --out DIR` writes one):
 *
 *   node dist/bench/memory.js --dir DIR [--route-tables single|sharded] [--heap-profile]
 *
 * Prints process.memoryUsage() after a full garbage collection at each step, and with --heap-profile the
 * allocation sites of what is still live (V8's sampling heap profiler), by function, largest first.
 */

type Usage = Record<'rss' | 'heapUsed' | 'external' | 'arrayBuffers', number>;

function collect(): void {
  fullGarbageCollection();
  fullGarbageCollection();
}

function usage(): Usage {
  collect();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

function format(step: string, u: Usage): string {
  const mb = (n: number): string => (n / 2 ** 20).toFixed(1).padStart(7);
  return `${step.padEnd(24)} rss ${mb(u.rss)}  heap ${mb(u.heapUsed)}  external ${mb(u.external)}  arrayBuffers ${mb(u.arrayBuffers)} MB`;
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Live bytes by allocating function (self), largest first. */
function topAllocators(root: SamplingNode, top: number): Array<{ where: string; mb: number }> {
  const bySite = new Map<string, number>();
  // A builtin (Map#set, String#slice, ...) is named with the script function that called it.
  const walk = (node: SamplingNode, caller: string): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const here = url === '' ? `${functionName || '(anonymous)'} in ${caller}` : `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*?\/(node_modules|dist|protos)\//, '$1/')}:${lineNumber + 1}`;
    bySite.set(here, (bySite.get(here) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, url === '' ? caller : here);
  };
  walk(root, '(root)');
  return [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, bytes]) => ({ where, mb: bytes / 2 ** 20 }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, 'route-tables': { type: 'string', default: 'scoped' }, 'heap-profile': { type: 'boolean', default: false }, top: { type: 'string', default: '30' } } });
  if (!values.dir) throw new Error('memory: --dir DIR is required (write one with node dist/bench/generate.js --count 10000 --out DIR)');
  const session = new Session();
  session.connect();
  if (values['heap-profile']) await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  console.log(format('start', usage()));
  const store = new Store();
  const cache = new XdsCache();
  const source = new FilesSource({ directory: values.dir, store, watch: false });
  let started = performance.now();
  await source.start();
  const loadMs = performance.now() - started;
  console.log(format(`loaded (${loadMs.toFixed(0)} ms)`, usage()));
  const translateConfig: TranslateConfig = { ...DEFAULT_TRANSLATE_CONFIG, routeTables: parseRouteTables(values['route-tables']) };
  const reconciler = new Reconciler({ store, cache, translateConfig, logger: silentLogger });
  started = performance.now();
  reconciler.start();
  const passMs = performance.now() - started;
  console.log(format(`first pass (${passMs.toFixed(0)} ms)`, usage()));
  if (values['heap-profile']) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    for (const { where, mb } of topAllocators(profile.head as SamplingNode, Number(values.top))) console.log(`${mb.toFixed(1).padStart(8)} MB  ${where}`);
  }
  reconciler.stop();
  await source.stop();
  session.disconnect();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
