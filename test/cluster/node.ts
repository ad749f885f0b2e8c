import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient } from '../../src/kube/kube-client.js';
import { Informer, type Arrived } from '../../src/sources/kube/informer.js';
import { ManagedProcess } from '../kube/harness/netns.js';
import type { ClusterNetwork } from './network.js';

/*
 * A stand-in for the node, and nothing more: there is no container runtime on this machine, so this plays the kubelet
 * of one Node. It registers the Node and keeps it Ready (status and a Lease heartbeat), and for each Pod the scheduler
 * binds to it: a network namespace of its own with the Pod's IP, each container run as the local program its image
 * names (an image table: Knative's commands built from their Go module, the hello-world sample as a small Node
 * server), the readiness probes run as the kubelet runs them, and the Pod's status set (IP, Running, Ready). A Pod
 * being deleted gets SIGTERM, its grace period, then SIGKILL, and is removed. Deployments becoming Pods, Services
 * getting EndpointSlices, serverless services flipping between the activator and the pods: all of that is done by
 * the real components; this writes only what a kubelet writes (its Node, its Lease, its Pods' status).
 *
 * It also stands in for the cluster's DNS add-on, which this machine lacks: every Pod's /etc/hosts maps
 * `<service>.<namespace>.svc.cluster.local` to the Service's ClusterIP (resolverEntries), which the real kube-proxy,
 * in the hub namespace, translates.
 */

export interface Program {
  command: string;
  args?: readonly string[];
}

export interface NodeStandInOptions {
  client: KubeClient;
  logger: Logger;
  network: ClusterNetwork;
  nodeName: string;
  /** The Node's InternalIP (the hub's address). */
  nodeAddress: string;
  /** What runs for a container image; undefined leaves the Pod Pending with ErrImagePull. */
  programFor(image: string): Program | undefined;
  /** The API server as Pods reach it, for the kubeconfig each container gets (KUBECONFIG). */
  apiServer: { server: string; caFile: string; tlsServerName: string };
  /** Logs of the containers (<namespace>_<pod>_<container>.log) and their kubeconfigs. */
  dir: string;
  /** The first Pod IP handed out (then .+1 each); default 10.215.1.1. */
  firstPodAddress?: string;
  /** Namespaces outside the Pods (gateways, a client) whose /etc/hosts the DNS stand-in keeps too. */
  extraResolverNamespaces?: () => readonly string[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface RunningContainer {
  name: string;
  process?: ManagedProcess;
  restarts: number;
  ready: boolean;
  /** Consecutive probe results, for success/failure thresholds. */
  failures: number;
  startedAt?: string;
  waiting?: { reason: string; message: string };
}

interface RunningPod {
  key: string;
  uid: string;
  pod: Json;
  netns?: string;
  ip: string;
  containers: RunningContainer[];
  stopping: boolean;
  timers: NodeJS.Timeout[];
  lastStatus: string;
}

const HEARTBEAT_MS = 10_000;

export class NodeStandIn {
  private readonly pods = new Map<string, RunningPod>();
  private nextAddress: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private podInformer: Informer<Json> | undefined;
  private serviceInformer: Informer<Json> | undefined;
  private sliceInformer: Informer<Json> | undefined;
  private readonly services = new Map<string, Json>();
  private readonly slices = new Map<string, Json>();
  private hostsTimer: NodeJS.Timeout | undefined;
  private hosts = new Map<string, string>();
  private stopped = false;

  constructor(private readonly options: NodeStandInOptions) {
    const [a, b, c, d] = (options.firstPodAddress ?? '10.215.1.1').split('.').map(Number) as [number, number, number, number];
    this.nextAddress = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
    mkdirSync(join(options.dir, 'logs'), { recursive: true });
  }

  /** Registers the Node (Ready), then serves the Pods bound to it and keeps every Pod's resolver current. */
  async start(): Promise<void> {
    await this.registerNode();
    this.heartbeat = setInterval(() => void this.renewNode().catch((error) => this.options.logger.warn({ err: error }, 'node heartbeat failed')), HEARTBEAT_MS);
    const { client, logger } = this.options;
    const keyed = (map: Map<string, Json>) => ({
      replace: (items: Array<Arrived<Json>>) => {
        map.clear();
        for (const item of items) map.set(objectKey(item.object), item.object);
        this.scheduleHosts();
      },
      added: (item: Arrived<Json>) => {
        map.set(objectKey(item.object), item.object);
        this.scheduleHosts();
      },
      deleted: (name: { namespace?: string; name: string }) => {
        map.delete(`${name.namespace ?? ''}/${name.name}`);
        this.scheduleHosts();
      },
    });
    this.serviceInformer = new Informer<Json>({ client, logger, kind: 'Service', path: '/api/v1/services', trim: (raw) => raw }, keyed(this.services));
    this.sliceInformer = new Informer<Json>({ client, logger, kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices', trim: (raw) => raw }, keyed(this.slices));
    for (const informer of [this.serviceInformer, this.sliceInformer]) {
      const map = informer === this.serviceInformer ? this.services : this.slices;
      for (const item of await informer.list()) map.set(objectKey(item.object), item.object);
      informer.start();
    }
    this.writeAllHosts();
    this.podInformer = new Informer<Json>({
      client, logger, kind: 'Pod', path: '/api/v1/pods', fieldSelector: `spec.nodeName=${this.options.nodeName}`, trim: (raw) => raw,
    }, {
      replace: (items) => {
        const present = new Set(items.map((item) => objectKey(item.object)));
        for (const [key, running] of this.pods) if (!present.has(key)) void this.stopPod(running, true);
        for (const item of items) this.podChanged(item.object);
      },
      added: (item) => this.podChanged(item.object),
      deleted: (name) => {
        const running = this.pods.get(`${name.namespace ?? ''}/${name.name}`);
        if (running) void this.stopPod(running, true);
      },
    });
    for (const item of await this.podInformer.list()) this.podChanged(item.object);
    this.podInformer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.hostsTimer);
    await Promise.all([this.podInformer?.stop(), this.serviceInformer?.stop(), this.sliceInformer?.stop()]);
    await Promise.all([...this.pods.values()].map((running) => this.stopPod(running, true, 2_000)));
  }

  /** The IP of a running Pod (namespace/name), for tests. */
  podAddress(key: string): string | undefined {
    return this.pods.get(key)?.ip;
  }

  /** The network namespace of a running Pod (namespace/name). */
  podNetns(key: string): string | undefined {
    return this.pods.get(key)?.netns;
  }

  /** Running Pods as namespace/name. */
  runningPods(): string[] {
    return [...this.pods.keys()];
  }

  // ---- the Node ----

  private async registerNode(): Promise<void> {
    const { client, nodeName } = this.options;
    try {
      await client.create('/api/v1/nodes', {
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.statusCode === 409)) throw error;
    }
    await this.renewNode();
  }

  private async renewNode(): Promise<void> {
    const { client, nodeName, nodeAddress } = this.options;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: this.since ??= now });
    await client.mergePatch(`/api/v1/nodes/${nodeName}/status`, {
      status: {
        capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        allocatable: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        conditions: [
          condition('Ready', 'True', 'KubeletReady', 'the ferry node stand-in is running'),
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', ''),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', ''),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', ''),
        ],
        addresses: [{ type: 'InternalIP', address: nodeAddress }, { type: 'Hostname', address: nodeName }],
        nodeInfo: {
          kubeletVersion: 'v1.34.4', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'ferry-node-stand-in://1',
          kernelVersion: '', osImage: 'ferry node stand-in', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '',
        },
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
    });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: 'kube-node-lease' },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') } };
    try {
      await client.mergePatch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`, { spec: lease.spec });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.statusCode === 404)) throw error;
      await client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease);
    }
  }

  private since: string | undefined;

  // ---- Pods ----

  private podChanged(pod: Json): void {
    if (this.stopped) return;
    const key = objectKey(pod);
    const running = this.pods.get(key);
    if (running && running.uid !== pod.metadata.uid) {
      void this.stopPod(running, false);
    } else if (running) {
      running.pod = pod;
      if (pod.metadata.deletionTimestamp) void this.stopPod(running, true);
      return;
    }
    if (pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase)) {
      if (pod.metadata.deletionTimestamp) void this.deletePodObject(pod);
      return;
    }
    void this.startPod(pod).catch((error) => this.options.logger.error({ err: error, pod: key }, 'node stand-in: cannot start pod'));
  }

  /**
   * Never an address a Pod had before: the gateways' and the hub's neighbour caches would keep sending to the old
   * Pod's MAC address for tens of seconds (connect timeouts). A /16 leaves room for 65,000 Pods per cluster.
   */
  private allocateAddress(): string {
    const n = this.nextAddress++;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  private async startPod(pod: Json): Promise<void> {
    const key = objectKey(pod);
    const running: RunningPod = {
      key, uid: pod.metadata.uid, pod, ip: this.allocateAddress(), stopping: false, timers: [], lastStatus: '',
      containers: (pod.spec.containers as Json[]).map((c) => ({ name: c.name, restarts: 0, ready: false, failures: 0 })),
    };
    this.pods.set(key, running);
    const { network, logger } = this.options;
    running.netns = await network.attach(`p${running.ip.split('.').slice(2).join('-')}`, running.ip);
    this.writeHosts(running.netns);
    const env = await this.podEnvironment(pod, running);
    const mounts = await this.podVolumes(pod);
    for (const spec of pod.spec.containers as Json[]) {
      const container = running.containers.find((c) => c.name === spec.name)!;
      const program = this.options.programFor(spec.image);
      if (!program) {
        container.waiting = { reason: 'ErrImagePull', message: `the ferry node stand-in has no program for image ${spec.image}` };
        continue;
      }
      this.runContainer(running, spec, container, program, env.get(spec.name)!, mounts.get(spec.name)!);
    }
    logger.info({ pod: key, ip: running.ip }, 'node stand-in: pod started');
    await this.reportStatus(running);
    for (const spec of pod.spec.containers as Json[]) this.scheduleProbe(running, spec);
  }

  private runContainer(running: RunningPod, spec: Json, container: RunningContainer, program: Program, env: Map<string, string>, mounts: ReadonlyMap<string, string>): void {
    if (running.stopping || this.stopped) return;
    const [namespace, name] = running.key.split('/');
    const pairs = [...env].map(([k, v]) => `${k}=${v}`);
    const args = [...(program.args ?? []), ...((spec.args as string[] | undefined) ?? [])].map((arg) => mountedPaths(expandEnv(arg, env), mounts));
    const proc = new ManagedProcess('ip', ['netns', 'exec', running.netns!, 'env', '-i', ...pairs, program.command, ...args], {
      name: `${running.key}/${container.name}`, logFile: join(this.options.dir, 'logs', `${namespace}_${name}_${container.name}.log`),
    });
    container.process = proc;
    container.startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    container.waiting = undefined;
    container.ready = !spec.readinessProbe;
    void proc.exited.then(({ code, signal }) => {
      if (running.stopping || this.stopped || container.process !== proc) return;
      container.restarts++;
      container.ready = false;
      container.waiting = { reason: 'CrashLoopBackOff', message: `exited with ${signal ?? code}` };
      this.options.logger.warn({ pod: running.key, container: container.name, code, signal }, 'node stand-in: container exited; restarting');
      void this.reportStatus(running);
      const backoff = Math.min(10_000, 500 * 2 ** Math.min(container.restarts, 5));
      running.timers.push(setTimeout(() => {
        this.runContainer(running, spec, container, program, env, mounts);
        void this.reportStatus(running);
      }, backoff));
    });
  }

  /** The containers' environments as the kubelet builds them: env and envFrom resolved, plus the API server's address. */
  private async podEnvironment(pod: Json, running: RunningPod): Promise<Map<string, Map<string, string>>> {
    const { client } = this.options;
    const namespace = pod.metadata.namespace as string;
    const base = new Map<string, string>([
      ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ['HOME', '/tmp'],
      ['KUBERNETES_SERVICE_HOST', new URL(this.options.apiServer.server).hostname], ['KUBERNETES_SERVICE_PORT', new URL(this.options.apiServer.server).port],
    ]);
    if (pod.spec.automountServiceAccountToken !== false) base.set('KUBECONFIG', await this.podKubeconfig(pod));
    const configMaps = new Map<string, Json | null>();
    const secrets = new Map<string, Json | null>();
    const read = async (kind: 'configmaps' | 'secrets', name: string): Promise<Json | null> => {
      const cache = kind === 'configmaps' ? configMaps : secrets;
      if (!cache.has(name)) cache.set(name, await client.get<Json>(`/api/v1/namespaces/${namespace}/${kind}/${name}`).catch(() => null));
      return cache.get(name)!;
    };
    const decode = (kind: string, value: string) => (kind === 'secrets' ? Buffer.from(value, 'base64').toString('utf8') : value);
    const result = new Map<string, Map<string, string>>();
    for (const spec of pod.spec.containers as Json[]) {
      const env = new Map(base);
      for (const from of (spec.envFrom ?? []) as Json[]) {
        const [kind, ref] = from.configMapRef ? ['configmaps', from.configMapRef] as const : ['secrets', from.secretRef] as const;
        const object = await read(kind, ref.name);
        for (const [k, v] of Object.entries((object?.data ?? {}) as Record<string, string>)) env.set(`${from.prefix ?? ''}${k}`, decode(kind, v));
      }
      for (const variable of (spec.env ?? []) as Json[]) {
        const from = variable.valueFrom;
        if (!from) env.set(variable.name, expandEnv(variable.value ?? '', env));
        else if (from.fieldRef) env.set(variable.name, fieldValue(pod, from.fieldRef.fieldPath, running));
        else if (from.resourceFieldRef) env.set(variable.name, resourceValue(spec, from.resourceFieldRef));
        else if (from.configMapKeyRef || from.secretKeyRef) {
          const [kind, ref] = from.configMapKeyRef ? ['configmaps', from.configMapKeyRef] as const : ['secrets', from.secretKeyRef] as const;
          const value = (await read(kind, ref.name))?.data?.[ref.key];
          if (value !== undefined) env.set(variable.name, decode(kind, value));
        }
      }
      result.set(spec.name, env);
    }
    return result;
  }

  /**
   * Volumes, without a mount namespace: each ConfigMap, Secret or emptyDir volume is a folder under the node's
   * directory, and a container's arguments naming its mount path name that folder instead (mountedPaths).
   * Per container: mount path → folder.
   */
  private async podVolumes(pod: Json): Promise<Map<string, Map<string, string>>> {
    const namespace = pod.metadata.namespace as string;
    const folders = new Map<string, string>();
    for (const volume of (pod.spec.volumes ?? []) as Json[]) {
      const folder = join(this.options.dir, 'volumes', `${namespace}_${pod.metadata.name}`, volume.name);
      mkdirSync(folder, { recursive: true });
      const source = volume.configMap ? ['configmaps', volume.configMap.name] : volume.secret ? ['secrets', volume.secret.secretName] : undefined;
      if (source) {
        const object = await this.options.client.get<Json>(`/api/v1/namespaces/${namespace}/${source[0]}/${source[1]}`).catch(() => undefined);
        for (const [key, value] of Object.entries((object?.data ?? {}) as Record<string, string>)) {
          writeFileSync(join(folder, key), source[0] === 'secrets' ? Buffer.from(value, 'base64') : value);
        }
      }
      folders.set(volume.name, folder);
    }
    const result = new Map<string, Map<string, string>>();
    for (const spec of pod.spec.containers as Json[]) {
      result.set(spec.name, new Map(((spec.volumeMounts ?? []) as Json[]).filter((m) => folders.has(m.name)).map((m) => [m.mountPath as string, folders.get(m.name)!])));
    }
    return result;
  }

  /** A kubeconfig with a token of the Pod's ServiceAccount, bound to the Pod (TokenRequest), as the kubelet mounts one. */
  private async podKubeconfig(pod: Json): Promise<string> {
    const { client, apiServer, dir } = this.options;
    const namespace = pod.metadata.namespace as string;
    const serviceAccount = (pod.spec.serviceAccountName as string | undefined) ?? 'default';
    const request = await client.create<Json>(`/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { expirationSeconds: 86_400, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    });
    return writeKubeconfig(join(dir, `kubeconfig-${namespace}-${pod.metadata.name}`), { ...apiServer, token: request.status.token, namespace });
  }

  // ---- probes and status ----

  private scheduleProbe(running: RunningPod, spec: Json): void {
    const probe = spec.readinessProbe as Json | undefined;
    if (!probe) return;
    const container = running.containers.find((c) => c.name === spec.name)!;
    const period = (probe.periodSeconds ?? 10) * 1_000;
    const tick = async (): Promise<void> => {
      if (running.stopping || this.stopped) return;
      if (container.process?.alive) {
        const ok = await this.probe(running, spec, probe);
        const before = container.ready;
        if (ok) {
          container.failures = 0;
          container.ready = true;
        } else if (++container.failures >= (probe.failureThreshold ?? 3) || !container.ready) {
          container.ready = false;
        }
        if (before !== container.ready) await this.reportStatus(running);
      }
      // Until ready, probe at least once a second: the kubelet's first probe comes soon after start too.
      running.timers.push(setTimeout(() => void tick(), container.ready ? period : Math.min(period, 1_000)));
    };
    running.timers.push(setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1_000 + 200));
  }

  private probe(running: RunningPod, spec: Json, probe: Json): Promise<boolean> {
    const timeout = String(probe.timeoutSeconds ?? 1);
    if (probe.httpGet) {
      const get = probe.httpGet as Json;
      const port = typeof get.port === 'number' ? get.port : (spec.ports as Json[] | undefined)?.find((p) => p.name === get.port)?.containerPort ?? Number(get.port);
      const url = `${(get.scheme ?? 'HTTP').toLowerCase()}://${get.host ?? running.ip}:${port}${get.path ?? '/'}`;
      const headers = ((get.httpHeaders ?? []) as Json[]).flatMap((h) => ['-H', `${h.name}: ${h.value}`]);
      return this.netnsExit(running, ['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '-A', 'kube-probe/1.34', '--max-time', timeout, ...headers, url])
        .then(({ stdout }) => Number(stdout) >= 200 && Number(stdout) < 400);
    }
    if (probe.tcpSocket) {
      const port = typeof probe.tcpSocket.port === 'number' ? probe.tcpSocket.port : (spec.ports as Json[] | undefined)?.find((p) => p.name === probe.tcpSocket.port)?.containerPort;
      return this.netnsExit(running, ['curl', '-s', '--max-time', timeout, `telnet://${running.ip}:${port}`]).then(({ code }) => code === 0 || code === 28);
    }
    if (probe.exec) {
      const program = this.options.programFor(spec.image);
      const [first, ...rest] = probe.exec.command as string[];
      const command = program && first?.startsWith('/ko-app/') ? program.command : first!;
      return this.netnsExit(running, [command, ...rest]).then(({ code }) => code === 0);
    }
    return Promise.resolve(true);
  }

  private netnsExit(running: RunningPod, args: readonly string[]): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', running.netns!, ...args], { encoding: 'utf8', timeout: 10_000 }, (error, stdout) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout });
      });
    });
  }

  private async reportStatus(running: RunningPod): Promise<void> {
    if (this.stopped) return;
    const pod = running.pod;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ready = running.containers.every((c) => c.ready);
    const started = running.containers.every((c) => c.process && !c.waiting);
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now });
    const status = {
      phase: started || running.containers.some((c) => c.process) ? 'Running' : 'Pending',
      hostIP: this.options.nodeAddress, hostIPs: [{ ip: this.options.nodeAddress }],
      podIP: running.ip, podIPs: [{ ip: running.ip }],
      startTime: pod.status?.startTime ?? now,
      conditions: [condition('PodReadyToStartContainers', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready), condition('PodScheduled', true)],
      containerStatuses: running.containers.map((c) => {
        const spec = (pod.spec.containers as Json[]).find((s) => s.name === c.name)!;
        return {
          name: c.name, image: spec.image, imageID: `ferry-node://${spec.image}`, ready: c.ready, restartCount: c.restarts,
          started: Boolean(c.process && !c.waiting), containerID: c.process ? `ferry-node://${c.process.child.pid}` : undefined,
          state: c.waiting ? { waiting: c.waiting } : { running: { startedAt: c.startedAt } },
        };
      }),
    };
    // Transition times aside, only a change is written.
    const signature = JSON.stringify({ ...status, conditions: status.conditions.map((c) => [c.type, c.status]), startTime: undefined });
    if (signature === running.lastStatus) return;
    running.lastStatus = signature;
    try {
      await this.options.client.mergePatch(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, { status });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.statusCode === 404)) this.options.logger.warn({ err: error, pod: running.key }, 'node stand-in: pod status not written');
    }
  }

  private async stopPod(running: RunningPod, removeObject: boolean, maxGraceMs = 60_000): Promise<void> {
    if (running.stopping) return;
    running.stopping = true;
    for (const timer of running.timers) clearTimeout(timer);
    const grace = Math.min(maxGraceMs, ((running.pod.spec.terminationGracePeriodSeconds as number | undefined) ?? 30) * 1_000);
    await Promise.all(running.containers.map((c) => c.process?.stop(grace)));
    if (running.netns) this.options.network.detach(running.netns);
    if (this.pods.get(running.key) === running) this.pods.delete(running.key);
    this.options.logger.info({ pod: running.key }, 'node stand-in: pod stopped');
    if (removeObject && !this.stopped) await this.deletePodObject(running.pod);
  }

  /** The kubelet's last word on a Pod being deleted: removed with grace 0, once its containers are gone. */
  private async deletePodObject(pod: Json): Promise<void> {
    if (!pod.metadata.deletionTimestamp) return;
    try {
      await this.options.client.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
        apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && (error.statusCode === 404 || error.statusCode === 409))) {
        this.options.logger.warn({ err: error, pod: objectKey(pod) }, 'node stand-in: pod not removed');
      }
    }
  }

  // ---- the DNS stand-in ----

  private scheduleHosts(): void {
    if (this.hostsTimer || this.stopped) return;
    this.hostsTimer = setTimeout(() => {
      this.hostsTimer = undefined;
      this.writeAllHosts();
    }, 100);
  }

  private writeAllHosts(): void {
    const next = resolverEntries(this.services, this.slices);
    if (JSON.stringify([...next]) === JSON.stringify([...this.hosts])) return;
    this.hosts = next;
    for (const running of this.pods.values()) if (running.netns && !running.stopping) this.writeHosts(running.netns);
    for (const ns of this.options.extraResolverNamespaces?.() ?? []) this.writeHosts(ns);
  }

  private writeHosts(ns: string): void {
    try {
      this.options.network.writeHosts(ns, this.hosts);
    } catch (error) {
      this.options.logger.debug({ err: error, netns: ns }, 'node stand-in: hosts not written (namespace gone)');
    }
  }
}

/**
 * Cluster DNS: `<svc>.<ns>.svc.cluster.local` (and the shorter forms) → the Service's ClusterIP (kube-proxy in the hub
 * takes it from there); a headless Service → one ready endpoint; an ExternalName Service → what its target maps to.
 */
export function resolverEntries(services: ReadonlyMap<string, Json>, slices: ReadonlyMap<string, Json>): Map<string, string> {
  const endpoints = new Map<string, string>();
  for (const slice of slices.values()) {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    const key = `${slice.metadata?.namespace}/${service}`;
    if (!service || endpoints.has(key)) continue;
    const ready = ((slice.endpoints ?? []) as Json[]).find((e) => e.conditions?.ready !== false && e.addresses?.length);
    if (ready) endpoints.set(key, ready.addresses[0]);
  }
  const entries = new Map<string, string>();
  const names = (ns: string, name: string) => [`${name}.${ns}.svc.cluster.local`, `${name}.${ns}.svc`, `${name}.${ns}`];
  const sorted = [...services.values()].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  for (const service of sorted) {
    const clusterIP = service.spec?.clusterIP as string | undefined;
    const address = clusterIP && clusterIP !== 'None' ? clusterIP : endpoints.get(objectKey(service));
    if (address && service.spec?.type !== 'ExternalName') for (const host of names(service.metadata.namespace, service.metadata.name)) entries.set(host, address);
  }
  for (const service of sorted) {
    if (service.spec?.type !== 'ExternalName') continue;
    const target = entries.get(String(service.spec.externalName).replace(/\.$/, ''));
    if (target) for (const host of names(service.metadata.namespace, service.metadata.name)) entries.set(host, target);
  }
  return entries;
}

/** A kubeconfig for a process inside the cluster network (the API server through the hub's relay). */
export function writeKubeconfig(file: string, values: { server: string; caFile: string; tlsServerName: string; token: string; namespace: string }): string {
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'in-cluster',
    clusters: [{ name: 'cluster', cluster: { server: values.server, 'certificate-authority': values.caFile, 'tls-server-name': values.tlsServerName } }],
    users: [{ name: 'user', user: { token: values.token } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'cluster', user: 'user', namespace: values.namespace } }],
  }));
  return file;
}

function objectKey(object: Json): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
}

/** $(VAR) references as Kubernetes expands them in env values and args ($$ escapes). */
function expandEnv(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? '$' : env.get(name) ?? match));
}

/** An argument naming a path under a volume's mount path names the volume's folder instead. */
function mountedPaths(arg: string, mounts: ReadonlyMap<string, string>): string {
  let result = arg;
  for (const [mountPath, folder] of mounts) result = result.split(mountPath.replace(/\/$/, '') + '/').join(`${folder}/`);
  return result;
}

function fieldValue(pod: Json, path: string, running: RunningPod): string {
  switch (path) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace;
    case 'metadata.uid': return pod.metadata.uid;
    case 'spec.nodeName': return pod.spec.nodeName;
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP': return running.ip;
    case 'status.hostIP': return pod.status?.hostIP ?? '';
    default: {
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      return label ? pod.metadata[label[1]!]?.[label[2]!] ?? '' : '';
    }
  }
}

function resourceValue(container: Json, ref: Json): string {
  const [kind, resource] = String(ref.resource).split('.') as ['limits' | 'requests', string];
  const value = container.resources?.[kind]?.[resource] ?? (resource === 'cpu' ? '16' : '68719476736');
  if (resource === 'cpu') {
    const cores = String(value).endsWith('m') ? Number(String(value).slice(0, -1)) / 1000 : Number(value);
    return String(Math.max(1, Math.ceil(cores / Number(ref.divisor ? parseQuantity(ref.divisor) : 1))));
  }
  return String(Math.floor(parseQuantity(value) / (ref.divisor ? parseQuantity(ref.divisor) : 1)));
}

function parseQuantity(text: string | number): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(text));
  if (!match) return Number(text);
  const units: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(match[1]) * (units[match[2]!] ?? 1);
}
