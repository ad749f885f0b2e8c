import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { activatorObjects, revisionSlice } from '../../../bench/generate.js';
import type { GatewayPorts } from '../../../bench/ferry-process.js';
import { seededRandom, type Random } from '../../../bench/random.js';
import type { IngressBackendSplit, KIngress, Visibility } from '../../../src/model/ingress.js';
import type { Service } from '../../../src/model/kube.js';
import { domainMapping, kingress, knativeService, split, toYaml } from '../knative/routing-manifests.js';
import type { BackendAnswer } from './backend.js';
import { fingerprintOf, presentedFingerprint, selfSignedCertificate, tlsSecretManifest, type TestCertificate } from './certs.js';
import { backendOf, request } from './http-client.js';
import { routeLoad, type LoadTarget } from './route-load.js';

/*
 * The world a churn test changes: KIngresses, revisions, certificates and DomainMappings in a folder Ferry serves,
 * and what a client must see through the gateway for each of them. Routes that stay defined (splits, scale-to-zero
 * revisions, TLS hosts, a Knative Service, a crowd of untouched ones) carry the load; ingresses and DomainMappings
 * come and go beside them.
 */

export type ChangeKind =
  | 'split shift' | 'backend swap' | 'scale to zero' | 'scale from zero' | 'certificate rotation'
  | 'ingress added' | 'ingress deleted' | 'domain mapping added' | 'domain mapping removed';

export const CHANGE_KINDS: readonly ChangeKind[] = [
  'split shift', 'backend swap', 'scale to zero', 'scale from zero', 'certificate rotation',
  'ingress added', 'ingress deleted', 'domain mapping added', 'domain mapping removed',
];

export interface ChurnWorldOptions {
  directory: string;
  seed: number;
  /** The revisions' pods: test backends on 127.0.0.1, answering with their name. */
  pods: ReadonlyArray<{ name: string; port: number }>;
  /** The activator's backend (its name must be 'activator'). */
  activatorPort: number;
  splitApps?: number;
  scaleToZeroApps?: number;
  tlsApps?: number;
  /** KIngresses no change touches (load goes to them too). */
  untouchedApps?: number;
  /** Certificates made per TLS host, rotated in turn. */
  certificatesPerHost?: number;
  /** At most this many transient ingresses and DomainMappings exist at once. */
  maxTransient?: number;
}

interface SplitApp { name: string; visibility: Visibility; revisions: [string, string]; pods: [string, string]; percent: number }
interface ScaleToZeroApp { name: string; revision: string; pod: string; ready: boolean }
interface TlsApp { name: string; host: string; pod: string; certificates: TestCertificate[]; current: number }

export const NAMESPACE = 'default';
const DOMAIN = 'example.com';
const WEB = { name: 'web', revision: 'web-00001', host: `web.${NAMESPACE}.${DOMAIN}` };
const UNTOUCHED_REVISION = 'untouched-00001';
const CHANGE_WEIGHTS: Array<[ChangeGroup, number]> = [['split', 25], ['swap', 15], ['flip', 20], ['rotate', 10], ['ingress', 15], ['mapping', 15]];
type ChangeGroup = 'split' | 'swap' | 'flip' | 'rotate' | 'ingress' | 'mapping';

export class ChurnWorld {
  readonly random: Random;
  private readonly splits: SplitApp[];
  private readonly scaleToZero: ScaleToZeroApp[];
  private readonly tls: TlsApp[];
  private readonly untouched: number;
  private readonly podNames: string[];
  private readonly webPod: string;
  private readonly maxTransient: number;
  /** Transient ingresses and DomainMappings by number: present now, or created once and deleted since. */
  private readonly ingresses = new Map<number, boolean>();
  private readonly mappings = new Map<number, boolean>();
  private nextTransient = 0;

  constructor(private readonly options: ChurnWorldOptions) {
    this.random = seededRandom(options.seed);
    this.podNames = options.pods.map((pod) => pod.name);
    if (this.podNames.length < 2) throw new Error('ChurnWorld: at least two pods are needed (backend swaps move a revision between them)');
    const pod = (i: number) => this.podNames[i % this.podNames.length]!;
    this.splits = Array.from({ length: options.splitApps ?? 6 }, (_, i) => ({
      name: `split-${i}`,
      // One in three on the cluster-local gateway.
      visibility: i % 3 === 2 ? 'ClusterLocal' : 'ExternalIP',
      revisions: [`split-${i}-00001`, `split-${i}-00002`],
      pods: [pod(i), pod(i + 1)],
      percent: 50,
    }));
    this.scaleToZero = Array.from({ length: options.scaleToZeroApps ?? 4 }, (_, i) => ({ name: `sleepy-${i}`, revision: `sleepy-${i}-00001`, pod: pod(i), ready: true }));
    this.tls = Array.from({ length: options.tlsApps ?? 3 }, (_, i) => {
      const host = `secure-${i}.${NAMESPACE}.${DOMAIN}`;
      return { name: `secure-${i}`, host, pod: pod(i), current: 0, certificates: Array.from({ length: options.certificatesPerHost ?? 3 }, () => selfSignedCertificate(host)) };
    });
    this.untouched = options.untouchedApps ?? 30;
    this.webPod = pod(0);
    this.maxTransient = options.maxTransient ?? 8;
  }

  /** Writes every file of the initial state. */
  writeAll(): void {
    this.write('activator.yaml', toYaml(...activatorObjects(this.options.activatorPort)));
    for (const app of this.splits) this.writeSplit(app);
    for (const app of this.scaleToZero) this.writeScaleToZero(app);
    for (const app of this.tls) {
      this.writeTlsSecret(app);
      this.write(`${app.name}.yaml`, toYaml(
        kingress(app.name, { tls: [{ hosts: [app.host], secretName: `${app.name}-tls`, secretNamespace: NAMESPACE }], rules: [rule([app.host], 'ExternalIP', [revisionSplit(`${app.name}-00001`, 100)])] }),
        ...this.revision(`${app.name}-00001`, app.pod, true),
      ));
    }
    this.write('web.yaml', toYaml(knativeService(WEB.name, WEB.revision), ...this.revision(WEB.revision, this.webPod, true)));
    this.write('untouched.yaml', toYaml(
      ...this.revision(UNTOUCHED_REVISION, this.podNames[0]!, true),
      ...Array.from({ length: this.untouched }, (_, i) => kingress(`untouched-${i}`, { rules: [rule([untouchedHost(i)], 'ExternalIP', [revisionSplit(UNTOUCHED_REVISION, 100)])] })),
    ));
  }

  /** Routes that stay defined whatever the changes: where a client must never see a failure. */
  stableTargets(ports: GatewayPorts): LoadTarget[] {
    return [
      ...this.splits.map((app) => this.splitTarget(app, ports)),
      ...this.scaleToZero.map((app) => ({ port: ports.external.http, host: hostOf(app.name) })),
      ...this.tls.map((app) => ({ port: ports.external.https, host: app.host, tls: true })),
      { port: ports.external.http, host: WEB.host },
      ...Array.from({ length: this.untouched }, (_, i) => ({ port: ports.external.http, host: untouchedHost(i) })),
    ];
  }

  /** Makes one change, chosen at random among those the current state allows, and writes (or removes) its file. */
  change(): ChangeKind {
    const group = this.pickGroup();
    switch (group) {
      case 'split': {
        const app = this.random.pick(this.splits);
        let percent = app.percent;
        // Sometimes all to one side (a 0% split must receive nothing), mostly anywhere between.
        while (percent === app.percent) percent = this.random.chance(0.15) ? this.random.pick([0, 100]) : 5 * this.random.int(21);
        app.percent = percent;
        this.writeSplit(app);
        return 'split shift';
      }
      case 'swap': {
        const app = this.random.pick(this.splits);
        const side = this.random.int(2);
        app.pods[side] = this.random.pick(this.podNames.filter((name) => name !== app.pods[side]));
        this.writeSplit(app);
        return 'backend swap';
      }
      case 'flip': {
        const app = this.random.pick(this.scaleToZero);
        app.ready = !app.ready;
        this.writeScaleToZero(app);
        return app.ready ? 'scale from zero' : 'scale to zero';
      }
      case 'rotate': {
        const app = this.random.pick(this.tls);
        app.current = (app.current + 1) % app.certificates.length;
        this.writeTlsSecret(app);
        return 'certificate rotation';
      }
      case 'ingress':
        return this.addOrRemove(this.ingresses, 'ingress', (k) => toYaml(kingress(`transient-${k}`, { rules: [rule([transientHost(k)], 'ExternalIP', [revisionSplit(UNTOUCHED_REVISION, 100)])] })))
          ? 'ingress added' : 'ingress deleted';
      case 'mapping':
        return this.addOrRemove(this.mappings, 'mapping', (k) => toYaml(...domainMapping(mappingHost(k), WEB.name)))
          ? 'domain mapping added' : 'domain mapping removed';
    }
  }

  /**
   * What a client sees through the gateway, checked against the current state: each problem as a sentence (none when
   * the gateway serves exactly this state). Splits are measured apart (measureSplits): they need many requests.
   */
  async problems(ports: GatewayPorts): Promise<string[]> {
    const problems: string[] = [];
    const expect = async (target: LoadTarget, want: { status: number; backend?: string; revision?: string }): Promise<void> => {
      const what = `${target.tls ? 'https' : 'http'}://${target.host}:${target.port}`;
      try {
        const answer = await request(target.port, target.host, '/', {}, { tls: target.tls, timeoutMs: 10_000 });
        const backend = backendOf(answer);
        const revision = answer.status === 200 ? (JSON.parse(answer.body) as BackendAnswer).headers?.['knative-serving-revision'] : undefined;
        if (answer.status !== want.status || (want.backend !== undefined && backend !== want.backend) || (want.revision !== undefined && revision !== want.revision)) {
          problems.push(`${what}: expected ${JSON.stringify(want)}, got ${answer.status} from ${backend ?? '?'} (revision ${String(revision)}): ${answer.body.slice(0, 120)}`);
        }
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const http = ports.external.http;
    for (const app of this.scaleToZero) await expect({ port: http, host: hostOf(app.name) }, { status: 200, backend: app.ready ? app.pod : 'activator', revision: app.revision });
    for (const app of this.tls) {
      await expect({ port: ports.external.https, host: app.host, tls: true }, { status: 200, backend: app.pod });
      const presented = await presentedFingerprint(ports.external.https, app.host).catch((error: unknown) => String(error));
      const wanted = fingerprintOf(app.certificates[app.current]!);
      if (presented !== wanted) problems.push(`https://${app.host}: presents certificate ${presented}, expected the one rotated in last (${wanted})`);
    }
    await expect({ port: http, host: WEB.host }, { status: 200, backend: this.webPod });
    for (const [k, present] of this.ingresses) await expect({ port: http, host: transientHost(k) }, present ? { status: 200, backend: this.podNames[0]! } : { status: 404 });
    for (const [k, present] of this.mappings) await expect({ port: http, host: mappingHost(k) }, present ? { status: 200, backend: this.webPod } : { status: 404 });
    for (let i = 0; i < this.untouched; i++) await expect({ port: http, host: untouchedHost(i) }, { status: 200 });
    return problems;
  }

  /**
   * Sends `perApp` requests to each split app and compares the share each revision got with its percent: each problem
   * as a sentence (a share more than `tolerance` points off, a 0% revision answering, a revision answered by another pod).
   */
  async measureSplits(ports: GatewayPorts, perApp: number, tolerance = 5): Promise<{ requests: number; problems: string[]; shares: Record<string, number> }> {
    const counts = new Map<string, Map<string, number>>();
    const pods = new Map<string, Set<string>>();
    const targets = this.splits.map((app) => this.splitTarget(app, ports));
    const load = routeLoad({
      targets, concurrency: 8, durationMs: 120_000, maxRequests: perApp * targets.length,
      onAnswer: (target, answer) => {
        const revision = String(answer.headers['knative-serving-revision']);
        const byRevision = counts.get(target.host) ?? new Map<string, number>();
        byRevision.set(revision, (byRevision.get(revision) ?? 0) + 1);
        counts.set(target.host, byRevision);
        pods.set(revision, (pods.get(revision) ?? new Set()).add(answer.backend));
      },
    });
    const result = await load.done;
    const problems = result.failures.slice(0, 5).map((failure) => `split request to ${failure.host} failed: ${failure.status ?? failure.error} ${failure.body ?? ''}`);
    const shares: Record<string, number> = {};
    for (const app of this.splits) {
      const byRevision = counts.get(this.splitTarget(app, ports).host) ?? new Map<string, number>();
      const total = [...byRevision.values()].reduce((a, b) => a + b, 0);
      app.revisions.forEach((revision, side) => {
        const want = side === 0 ? app.percent : 100 - app.percent;
        const got = total === 0 ? 0 : (100 * (byRevision.get(revision) ?? 0)) / total;
        shares[revision] = Math.round(got * 10) / 10;
        const off = (want === 0 && got > 0) || Math.abs(got - want) > tolerance;
        if (off) problems.push(`${app.name}: ${revision} got ${got.toFixed(1)}% of ${total} answers, its split is ${want}%`);
        const answeredBy = [...(pods.get(revision) ?? [])];
        if (want > 0 && (answeredBy.length !== 1 || answeredBy[0] !== app.pods[side])) problems.push(`${revision}: answered by ${answeredBy.join(', ') || 'nobody'}, its endpoints are ${app.pods[side]}'s`);
      });
    }
    return { requests: result.sent, problems, shares };
  }

  private splitTarget(app: SplitApp, ports: GatewayPorts): LoadTarget {
    return app.visibility === 'ClusterLocal' ? { port: ports.local.http, host: `${app.name}.${NAMESPACE}.svc.cluster.local` } : { port: ports.external.http, host: hostOf(app.name) };
  }

  private pickGroup(): ChangeGroup {
    let roll = this.random.int(CHANGE_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0));
    for (const [group, weight] of CHANGE_WEIGHTS) {
      if (roll < weight) return group;
      roll -= weight;
    }
    throw new Error('unreachable: weights cover every roll');
  }

  /** Adds a new transient object, or removes a present one (always when at the bound, never when none): true if added. */
  private addOrRemove(objects: Map<number, boolean>, prefix: string, render: (k: number) => string): boolean {
    const present = [...objects].filter(([, here]) => here).map(([k]) => k);
    const add = present.length === 0 || (present.length < this.maxTransient && this.random.chance(0.5));
    const k = add ? this.nextTransient++ : this.random.pick(present);
    objects.set(k, add);
    const file = `${prefix}-${k}.yaml`;
    if (add) this.write(file, render(k));
    else rmSync(join(this.options.directory, file));
    return add;
  }

  private writeSplit(app: SplitApp): void {
    const ingress = kingress(app.name, { rules: [rule(app.visibility === 'ClusterLocal' ? [`${app.name}.${NAMESPACE}.svc.cluster.local`] : [hostOf(app.name)], app.visibility, [
      revisionSplit(app.revisions[0], app.percent), revisionSplit(app.revisions[1], 100 - app.percent),
    ])] });
    this.write(`${app.name}.yaml`, toYaml(ingress, ...this.revision(app.revisions[0], app.pods[0], true), ...this.revision(app.revisions[1], app.pods[1], true)));
  }

  private writeScaleToZero(app: ScaleToZeroApp): void {
    this.write(`${app.name}.yaml`, toYaml(kingress(app.name, { rules: [rule([hostOf(app.name)], 'ExternalIP', [revisionSplit(app.revision, 100)])] }), ...this.revision(app.revision, app.pod, app.ready)));
  }

  private writeTlsSecret(app: TlsApp): void {
    this.write(`${app.name}-secret.yaml`, tlsSecretManifest(NAMESPACE, `${app.name}-tls`, app.certificates[app.current]!));
  }

  /** A revision's public Service and its EndpointSlice: the pod's address when ready, none when scaled to zero. */
  private revision(name: string, pod: string, ready: boolean): object[] {
    const port = this.options.pods.find((candidate) => candidate.name === pod)!.port;
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8012 }] } };
    return [service, revisionSlice(NAMESPACE, name, port, ready)];
  }

  /** Writes in place (not aside and renamed), as an editor saving or `cp` would. */
  private write(file: string, yaml: string): void {
    writeFileSync(join(this.options.directory, file), yaml);
  }
}

function rule(hosts: string[], visibility: Visibility, splits: IngressBackendSplit[]): NonNullable<KIngress['spec']['rules']>[number] {
  return { hosts, visibility, http: { paths: [{ splits }] } };
}

/** A split to a revision with the headers Knative's Route sets (the activator learns from them whom to wake). */
function revisionSplit(revision: string, percent: number): IngressBackendSplit {
  return split(revision, percent, { 'Knative-Serving-Revision': revision, 'Knative-Serving-Namespace': NAMESPACE });
}

const hostOf = (name: string): string => `${name}.${NAMESPACE}.${DOMAIN}`;
const untouchedHost = (i: number): string => `untouched-${i}.${NAMESPACE}.${DOMAIN}`;
const transientHost = (k: number): string => `transient-${k}.${NAMESPACE}.${DOMAIN}`;
const mappingHost = (k: number): string => `mapped-${k}.example.org`;
