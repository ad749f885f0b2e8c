import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../src/envoy/bootstrap.js';
import { resolveEnvoyBinary } from '../src/envoy/managed-envoy.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../src/translate/envoy/index.js';
import { startBackend, type BenchBackend } from './backends.js';
import { generateSelfSignedCerts } from './certs.js';
import { measureChanges, measureEndpointFlips, type ChangesResult, type FlipResult } from './changes.js';
import { measureColdStart, type ColdStartResult } from './cold-start.js';
import { FerryProcess } from './ferry-process.js';
import { measureFloor, type FloorResult } from './floor.js';
import { countObjects, generateBench, writeManifests, type BenchManifests } from './generate.js';
import { closeGatewayConnections } from './http-client.js';
import { measureInProcess, type InProcessResult } from './in-process.js';
import { freePort } from './ports.js';
import { appTarget } from './probe.js';
import { machineInfo, processMemoryMb, round } from './proc.js';
import { monotonicUs, summarizeProfile, type ProfileSummary, type ProfileWindow } from './profile.js';
import { seededRandom } from './random.js';
import { formatReport } from './report.js';
import { parseClusters, parseRouteTables, parseRouteTableShards } from '../src/cli/translate-flags.js';

const USAGE = `Usage: npm run bench -- [--sizes 1000,5000,10000] [flags]   (build first: npx tsc -p tsconfig.json)
  --sizes N,N,...          KIngress counts to measure (default 1000)
  --seed S                 generator and change-sequence seed (default 1)
  --changes N              single-KIngress changes per size (default 120; at least 100 for a p99)
  --flips N                endpoint flips (to the activator and back) per size (default 10)
  --sample N               hosts checked for the cold start (default 200)
  --in-process-changes N   changes timed and profiled in-process (default 30)
  --warm-changes N         a second round of changes at the end, for CPU per change once warm (default 120; 0: none)
  --time-budget-s S        most seconds spent on the change loop of one size (default 240)
  --ferry-cpu-prof         run Ferry under node --cpu-prof and summarise the profile
  --route-tables L         scoped (default), sharded or single: the route table layout of Ferry under test
  --route-table-shards N   sharded route tables: tables per kind (default: Ferry's)
  --clusters all|on-demand Service clusters of Ferry under test: every one for its Envoy (default), or loaded by
                           the Envoy on the first request that needs one
  --knative-rules          KIngresses as Knative's Routes write them (an external and a cluster-local rule each)
  --keep                   keep the generated manifests directory
`;

export interface SizeResult {
  size: number;
  objects: number;
  files: number;
  generateMs: number;
  inProcess: Omit<InProcessResult, 'staticBootstrap'> & { staticBootstrapBytes: number; staticCounts: InProcessResult['staticBootstrap']['counts'] };
  floor: FloorResult;
  coldStart: ColdStartResult;
  changes: ChangesResult;
  /** A second round of changes, after the memory reading: the same work once V8 has optimised the per-change code. */
  warmChanges?: ChangesResult;
  flips: FlipResult;
  memory: { ferryRssMb: number | undefined; ferryPeakRssMb: number | undefined; envoyRssMb: number | undefined };
  ferryCpuProfile?: ProfileSummary;
  /** Only the samples taken during the single-change loop. */
  ferryChangesCpuProfile?: ProfileSummary;
  errors: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      changes: { type: 'string', default: '120' },
      flips: { type: 'string', default: '10' },
      sample: { type: 'string', default: '200' },
      'in-process-changes': { type: 'string', default: '30' },
      'warm-changes': { type: 'string', default: '120' },
      'time-budget-s': { type: 'string', default: '240' },
      'ferry-cpu-prof': { type: 'boolean', default: false },
      'route-tables': { type: 'string', default: 'scoped' },
      'route-table-shards': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.routeTableShards) },
      clusters: { type: 'string', default: DEFAULT_TRANSLATE_CONFIG.clusters },
      'knative-rules': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes ${values.sizes}: expected positive integers, e.g. 1000,5000`);
  const seed = Number(values.seed);
  const options = {
    changes: Number(values.changes),
    flips: Number(values.flips),
    sample: Number(values.sample),
    inProcessChanges: Number(values['in-process-changes']),
    warmChanges: Number(values['warm-changes']),
    timeBudgetMs: Number(values['time-budget-s']) * 1000,
    cpuProf: values['ferry-cpu-prof'],
    routeTables: parseRouteTables(values['route-tables']),
    routeTableShards: parseRouteTableShards(values['route-table-shards']),
    clusters: parseClusters(values.clusters),
    knativeRules: values['knative-rules'],
    keep: values.keep,
  };

  const envoyVersion = execFileSync(resolveEnvoyBinary(), ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).at(-1) ?? 'unknown';
  const machine = { ...machineInfo(), envoy: envoyVersion, loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(), ferry: sourceRevision() };
  log(`machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.memoryGb} GB, node ${machine.node}, envoy ${machine.envoy}, ferry ${machine.ferry}, load ${machine.loadAverage}`);

  const backends: BenchBackend[] = [];
  const results: SizeResult[] = [];
  try {
    for (let i = 0; i < 4; i++) backends.push(await startBackend(`pod-${i}`));
    const activator = await startBackend('activator');
    backends.push(activator);
    const certs = generateSelfSignedCerts(4);
    for (const size of sizes) {
      const manifests = generateBench({ count: size, seed, knativeRules: options.knativeRules, ports: { revisions: backends.slice(0, 4).map((b) => b.port), activator: activator.port }, certs });
      results.push(await measureSize(size, manifests, seed, options));
      closeGatewayConnections();
    }
  } finally {
    for (const backend of backends) await backend.close();
  }

  const report = { startedAt: new Date().toISOString(), machine, options: { sizes, seed, ...options }, results };
  const resultsDir = join(repositoryRoot(), 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatReport(report)}\nJSON: ${file}\n`);
}

async function measureSize(size: number, manifests: BenchManifests, seed: number, options: { changes: number; flips: number; sample: number; inProcessChanges: number; warmChanges: number; timeBudgetMs: number; cpuProf: boolean; keep: boolean; routeTables: TranslateConfig['routeTables']; routeTableShards: number; clusters: TranslateConfig['clusters'] }): Promise<SizeResult> {
  const errors: string[] = [];
  const directory = mkdtempSync(join(tmpdir(), `ferry-bench-${size}-`));
  const profileDir = options.cpuProf ? mkdtempSync(join(tmpdir(), 'ferry-bench-prof-')) : undefined;
  let ferry: FerryProcess | undefined;
  try {
    let started = performance.now();
    writeManifests(directory, manifests);
    const generateMs = performance.now() - started;
    log(`[${size}] ${countObjects(manifests)} objects in ${manifests.files.size + 1} files (${round(generateMs, 0)} ms) at ${directory}`);

    const floorPorts = { external: { http: await freePort(), https: await freePort() }, local: { http: await freePort(), https: await freePort() } };
    const translateConfig: TranslateConfig = { ...DEFAULT_TRANSLATE_CONFIG, bindAddress: '127.0.0.1', ports: floorPorts, routeTables: options.routeTables, routeTableShards: options.routeTableShards };
    log(`[${size}] in-process load, translate and ${options.inProcessChanges} changes (profiled)`);
    const floorDirectory = mkdtempSync(join(tmpdir(), 'ferry-bench-floor-'));
    const inProcess = await measureInProcess(directory, manifests, translateConfig, options.inProcessChanges, floorDirectory);
    log(`[${size}] in-process: load ${round(inProcess.loadMs, 0)} ms, cold reconcile ${round(inProcess.coldReconcileMs, 0)} ms, per change p50 ${round(inProcess.reconcilePerChangeMs.p50 ?? NaN)} ms`);

    const sampleRandom = seededRandom(seed + size);
    const sampledApps = Array.from({ length: Math.min(options.sample, manifests.apps.length) }, () => sampleRandom.pick(manifests.apps));
    const bounds = { timeoutMs: 60_000 + size * 20 };
    log(`[${size}] floor: Envoy alone on a static bootstrap and route files`);
    const floor = await measureFloor(floorDirectory, inProcess.staticBootstrap, sampledApps.map((app) => appTarget(app, floorPorts)), bounds.timeoutMs);
    log(`[${size}] floor: all sampled hosts served after ${round(floor.allServedMs ?? NaN, 0)} ms`);

    log(`[${size}] cold start: ferry serve --envoy managed`);
    ferry = await FerryProcess.start({ manifests: directory, cpuProfileDir: profileDir, routeTables: options.routeTables, routeTableShards: options.routeTableShards, clusters: options.clusters });
    const coldStart = await measureColdStart(ferry, sampledApps.map((app) => appTarget(app, ferry!.ports)), bounds.timeoutMs);
    if (coldStart.allServedMs === undefined) errors.push(`cold start: ${coldStart.sampled - coldStart.served} sampled hosts never answered 200 within ${bounds.timeoutMs} ms`);
    log(`[${size}] cold start: all sampled hosts served after ${round(coldStart.allServedMs ?? NaN, 0)} ms; Ferry RSS ${coldStart.ferryRssMb} MB`);

    const random = seededRandom(seed * 31 + size);
    log(`[${size}] ${options.changes} single-KIngress changes`);
    const changesWindow = { fromUs: monotonicUs(), toUs: 0 };
    const changes = await measureChanges(ferry, manifests, directory, random, { count: options.changes, timeBudgetMs: options.timeBudgetMs, perChangeTimeoutMs: 30_000 });
    changesWindow.toUs = monotonicUs();
    if (changes.observed < changes.attempted) errors.push(`changes: ${changes.attempted - changes.observed} of ${changes.attempted} never showed through Envoy within 30 s`);
    log(`[${size}] changes: ${changes.observed}/${changes.attempted}, p50 ${round(changes.endToEndMs.p50 ?? NaN)} ms, p99 ${round(changes.endToEndMs.p99 ?? NaN)} ms, ${Math.round(changes.bytesPerChange / 1024)} KB and ${round(changes.ferryCpuMsPerChange)} ms Ferry CPU per change`);

    log(`[${size}] ${options.flips} endpoint flips`);
    const flips = await measureEndpointFlips(ferry, manifests, directory, random, { count: options.flips, timeBudgetMs: Math.min(options.timeBudgetMs, 120_000), perChangeTimeoutMs: 30_000 });
    log(`[${size}] flips: p50 ${round(flips.bothMs.p50 ?? NaN)} ms`);

    errors.push(...ferry.problems());
    const ferryMemory = processMemoryMb(ferry.pid);
    const envoyPid = ferry.envoyPid();
    const memory = { ferryRssMb: ferryMemory.rssMb, ferryPeakRssMb: ferryMemory.peakRssMb, envoyRssMb: envoyPid ? processMemoryMb(envoyPid).rssMb : undefined };
    // After the memory reading, so that it moves nothing above. The first round's window starts right after the cold
    // start and also holds V8 optimising the per-change code (work paid once).
    let warmChanges: ChangesResult | undefined;
    if (options.warmChanges > 0) {
      warmChanges = await measureChanges(ferry, manifests, directory, random, { count: options.warmChanges, timeBudgetMs: options.timeBudgetMs, perChangeTimeoutMs: 30_000 });
      log(`[${size}] warm changes: ${warmChanges.observed}/${warmChanges.attempted}, p50 ${round(warmChanges.endToEndMs.p50 ?? NaN)} ms, ${round(warmChanges.ferryCpuMsPerChange)} ms Ferry CPU per change`);
    }
    await ferry.stop();
    ferry = undefined;
    const { staticBootstrap, ...inProcessRest } = inProcess;
    return {
      size,
      objects: countObjects(manifests),
      files: manifests.files.size + 1,
      generateMs,
      inProcess: { ...inProcessRest, staticBootstrapBytes: floor.bootstrapBytes, staticCounts: staticBootstrap.counts },
      floor,
      coldStart,
      changes,
      warmChanges,
      flips,
      memory,
      ferryCpuProfile: profileDir ? readCpuProfile(profileDir) : undefined,
      ferryChangesCpuProfile: profileDir ? readCpuProfile(profileDir, changesWindow) : undefined,
      errors,
    };
  } catch (error) {
    if (ferry) process.stderr.write(`Ferry's last log lines:\n${ferry.stderrTailText()}\n`);
    throw error;
  } finally {
    await ferry?.stop();
    if (!options.keep) rmSync(directory, { recursive: true, force: true });
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
}

/** Ferry's profile (written when it exits), whole or only the samples of one window (e.g. the change loop). */
function readCpuProfile(directory: string, window?: ProfileWindow): ProfileSummary | undefined {
  const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile'));
  return file ? summarizeProfile(JSON.parse(readFileSync(join(directory, file), 'utf8')), 30, window) : undefined;
}

/** The commit measured, and whether src/ had uncommitted changes (the work tree is shared). */
function sourceRevision(): string {
  try {
    const git = (args: string[]): string => execFileSync('git', args, { cwd: repositoryRoot(), encoding: 'utf8' }).trim();
    return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src']) ? ' + uncommitted src changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

await main();
