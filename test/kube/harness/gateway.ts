import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { loadBootstrapTemplate, renderBootstrap, type GatewayNodeRole, type XdsMode } from '../../../src/envoy/bootstrap.js';
import { resolveEnvoyBinary } from '../../../src/envoy/managed-envoy.js';
import { harnessTempDir, ManagedProcess, type NetnsPair } from './netns.js';

/*
 * The gateway Envoy of the kube tests runs inside the gw network namespace, where the host's loopback is out of reach:
 * it speaks xDS to Ferry over a unix domain socket (filesystem paths cross network namespaces) and serves its admin
 * interface on a unix socket too, which the host reads with http's `socketPath`.
 */

export interface GatewayBootstrapValues {
  nodeId: string;
  /** node.cluster: which Ferry view this Envoy asks for. */
  role: GatewayNodeRole;
  /** Ferry's xDS server (XdsServer.listen(`unix:${xdsSocket}`), `ferry serve --xds-address unix:PATH`). */
  xdsSocket: string;
  adminSocket: string;
  mode?: XdsMode;
}

/**
 * deploy/envoy/bootstrap-<mode>.yaml, so that the tests run the gateway as deployed, with the two TCP addresses turned
 * into pipes. Written as JSON (valid YAML).
 */
export function gatewayBootstrap(values: GatewayBootstrapValues): string {
  const rendered = renderBootstrap(loadBootstrapTemplate(values.mode ?? 'delta'), {
    nodeId: values.nodeId, role: values.role, xdsAddress: 'replaced-by-pipe', xdsPort: 1, adminPort: 0,
  });
  const bootstrap = parse(rendered) as {
    admin: { address: unknown };
    static_resources: { clusters: Array<{ name: string; type?: string; load_assignment: unknown; upstream_connection_options?: unknown }> };
  };
  bootstrap.admin.address = { pipe: { path: values.adminSocket, mode: 0o600 } };
  const xds = bootstrap.static_resources.clusters.find((cluster) => cluster.name === 'ferry_xds');
  if (!xds) throw new Error('gatewayBootstrap: deploy/envoy bootstrap has no ferry_xds cluster');
  xds.type = 'STATIC'; // a pipe has no name to resolve
  xds.load_assignment = { cluster_name: 'ferry_xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: values.xdsSocket } } } }] }] };
  delete xds.upstream_connection_options; // TCP keepalive: not for unix sockets
  return JSON.stringify(bootstrap, null, 2);
}

/** A fresh path for a unix socket (e.g. Ferry's xDS server) in a new temp directory, short enough for sun_path. */
export function tempSocketPath(name = 'xds.sock'): string {
  return join(harnessTempDir('ferry-sock'), name);
}

export interface StartGatewayOptions {
  /** Only its gw namespace is used (test/cluster passes a namespace of its own). */
  net: Pick<NetnsPair, 'gw'>;
  xdsSocket: string;
  role?: GatewayNodeRole;
  nodeId?: string;
  mode?: XdsMode;
  logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error';
}

export interface GatewayRequest {
  /** Host header (and SNI for https unless `sni` is given). */
  host: string;
  /** The gateway listener's port inside the gw namespace. */
  port: number;
  path?: string;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
  https?: boolean;
  /** TLS server name to send, when it differs from `host`. */
  sni?: string;
  /** Verify the gateway's certificate against this CA file (default: not verified). */
  caFile?: string;
  /** Where the listener is bound in the gw namespace (default 127.0.0.1). */
  address?: string;
  /** curl --max-time (default 10). */
  timeoutSeconds?: number;
}

export interface GatewayResponse {
  status: number;
  body: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
}

export interface Gateway {
  readonly nodeId: string;
  readonly adminSocket: string;
  /** One request from inside the gw namespace (curl); rejects when curl fails (refused, reset, timeout). */
  request(options: GatewayRequest): Promise<GatewayResponse>;
  admin(path: string, method?: 'GET' | 'POST'): Promise<{ status: number; body: string }>;
  /** Whether the ADS stream to Ferry is up (control_plane.connected_state). */
  xdsConnected(): Promise<boolean>;
  /** Waits for /ready LIVE. */
  ready(timeoutMs?: number): Promise<void>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const started = new Set<Gateway>();

/** Starts Envoy in the gw namespace; resolves once its admin interface answers. */
export async function startGateway(options: StartGatewayOptions): Promise<Gateway> {
  const dir = harnessTempDir('ferry-gw');
  const nodeId = options.nodeId ?? `kube-gw-${randomUUID().slice(0, 8)}`;
  const adminSocket = join(dir, 'admin.sock');
  const bootstrapPath = join(dir, 'bootstrap.yaml');
  writeFileSync(bootstrapPath, gatewayBootstrap({ nodeId, role: options.role ?? 'both', xdsSocket: options.xdsSocket, adminSocket, mode: options.mode }));
  const proc = new ManagedProcess('ip', ['netns', 'exec', options.net.gw, resolveEnvoyBinary(), '-c', bootstrapPath, '--use-dynamic-base-id',
    '--concurrency', '1', '--drain-time-s', '1', '--parent-shutdown-time-s', '2', '-l', options.logLevel ?? 'info'], { name: `envoy ${nodeId}` });

  const admin = (path: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: adminSocket, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const gateway: Gateway = {
    nodeId, adminSocket, admin,
    request: (request) => curl(options.net.gw, request),
    xdsConnected: async () => /control_plane\.connected_state: 1\b/.test((await admin('/stats?filter=^control_plane\\.connected_state$')).body),
    ready: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!proc.alive) throw new Error(`Envoy ${nodeId} exited while waiting for /ready; last log lines:\n${proc.logTail()}`);
        const live = await admin('/ready').then((res) => res.status === 200 && res.body.trim() === 'LIVE', () => false);
        if (live) return;
        if (Date.now() > deadline) throw new Error(`Envoy ${nodeId} not LIVE after ${timeoutMs} ms; last log lines:\n${proc.logTail()}`);
        await sleep(50);
      }
    },
    logTail: (lines) => proc.logTail(lines),
    stop: async () => {
      started.delete(gateway);
      await proc.stop(3_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(gateway);
  const deadline = Date.now() + 20_000;
  while (!(existsSync(adminSocket) && await admin('/ready').then(() => true, () => false))) {
    if (!proc.alive || Date.now() > deadline) {
      await gateway.stop();
      throw new Error(`Envoy ${nodeId} ${proc.alive ? 'did not open its admin socket within 20 s' : 'exited at start'}; last log lines:\n${proc.logTail()}`);
    }
    await sleep(20);
  }
  return gateway;
}

/** Stops every gateway this test file started: call it in afterAll. */
export async function stopAllGateways(): Promise<void> {
  await Promise.all([...started].map((gateway) => gateway.stop()));
}

/** The log tails of the gateways still running, for a failing test's output. */
export function gatewayLogTails(lines = 80): string {
  return [...started].map((gateway) => `--- Envoy ${gateway.nodeId} (last ${lines} lines) ---\n${gateway.logTail(lines)}`).join('\n');
}

function curl(namespace: string, r: GatewayRequest): Promise<GatewayResponse> {
  const scheme = r.https ? 'https' : 'http';
  const address = r.address ?? '127.0.0.1';
  const timeout = r.timeoutSeconds ?? 10;
  // The URL carries the TLS server name; --connect-to sends the connection to the listener whatever the URL says.
  const args = ['netns', 'exec', namespace, 'curl', '-sS', '-i', '--max-time', String(timeout),
    '--connect-to', `::${address}:${r.port}`, '-H', `Host: ${r.host}`];
  for (const [name, value] of Object.entries(r.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (r.method) args.push('-X', r.method);
  if (r.body !== undefined) args.push('--data-binary', r.body);
  if (r.https) args.push(...(r.caFile ? ['--cacert', r.caFile] : ['-k']));
  args.push(`${scheme}://${r.sni ?? r.host}:${r.port}${r.path ?? '/'}`);
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: (timeout + 10) * 1_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`request ${scheme}://${r.host}:${r.port}${r.path ?? '/'} from ${namespace} failed: ${stderr.trim() || error.message}`));
      else resolve(parseCurlOutput(stdout));
    });
  });
}

/** curl -i output: header blocks (1xx interim ones skipped), then the body. */
function parseCurlOutput(output: string): GatewayResponse {
  let rest = output;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const head = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end + 4);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0);
    if (status >= 100 && status < 200 && status !== 101 && rest.startsWith('HTTP/')) continue;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { status, body: rest, headers };
  }
}
