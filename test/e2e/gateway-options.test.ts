import { createServer, Agent, request as httpRequest, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, tlsSecretManifest } from './harness/certs.js';
import { localPortOf, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type BackendAnswer, type FerryUnderTest, type HttpBackend } from './harness/index.js';
import { serviceWithEndpoints } from './harness/manifests.js';

const INGRESS = `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: options
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  tls:
  - {hosts: [a.example.com], secretNamespace: default, secretName: a-cert}
  rules:
  - hosts: [a.example.com]
    visibility: ExternalIP
    http:
      paths:
      - path: /slow
        splits: [{serviceNamespace: default, serviceName: app-slow, servicePort: 80, percent: 100}]
      - splits: [{serviceNamespace: default, serviceName: app-a, servicePort: 80, percent: 100}]
  - hosts: [server.example.com]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app-server, servicePort: 80, percent: 100}]
`;

/** config-ferry as files mode reads it (ferry-system), with the given gateway options. */
function configFerry(data: Record<string, string>): string {
  const lines = Object.entries(data).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-ferry, namespace: ferry-system}\ndata:\n  FERRY_ROUTE_TABLES: scoped\n${lines.join('\n')}\n`;
}

/** A backend that names itself in its own Server header, to tell Envoy's header from a passed-through one. */
async function startServerHeaderBackend(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.setHeader('server', 'backend-7');
    res.end(JSON.stringify({ backend: 'app-server' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A TLS handshake with the gateway's HTTPS listener: the version and cipher agreed, or the error. */
function handshake(port: number, options: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string }): Promise<{ version: string | null; cipher: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false, ...options }, () => {
      const answer = { version: socket.getProtocol(), cipher: socket.getCipher().standardName };
      socket.end();
      resolve(answer);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (error) => resolve({ error: error.message }));
  });
}

/** A plain TCP connection to the HTTP listener that Envoy keeps open (it is closed only when Envoy closes it). */
function openConnection(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => resolve({ socket, closed }));
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', reject);
  });
}

/** The request headers the test backend received, from its JSON answer. */
function received(result: { body: string }): BackendAnswer['headers'] {
  return (JSON.parse(result.body) as BackendAnswer).headers;
}

// Each option of config-ferry, changed while Ferry and the gateway run, shown by what a real Envoy then does.
describe('gateway options (config-ferry) through Ferry and a real Envoy', () => {
  let backend: HttpBackend;
  let slow: HttpBackend;
  let serverBackend: { server: Server; port: number };
  let env: FerryUnderTest;
  let http: number;
  let https: number;

  /** Writes config-ferry and waits until the gateway shows the change (`effect` true). */
  async function setOptions(data: Record<string, string>, effect: () => Promise<boolean>, description: string): Promise<void> {
    await env.writeManifest('config-ferry.yaml', configFerry(data));
    await waitFor(async () => effect(), 30_000, description);
  }

  const accessLogLines = (): string[] => env.envoy.logTail(300).split('\n');

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'app-a' });
    slow = await startHttpBackend({ name: 'app-slow', delayMs: 3_000 });
    serverBackend = await startServerHeaderBackend();
    env = await startFerry({
      manifests: {
        'services.yaml': [serviceWithEndpoints('app-a', backend.port), serviceWithEndpoints('app-slow', slow.port), serviceWithEndpoints('app-server', serverBackend.port)].join('---\n'),
        'ingress.yaml': INGRESS,
        'a-cert.yaml': tlsSecretManifest('default', 'a-cert', selfSignedCertificate('a.example.com')),
      },
      // As a gateway of deploy/kubernetes drains (Envoy's default is 600 s): connections of a replaced listener
      // finish what they are doing.
      drainTimeSeconds: 60,
    });
    http = env.ports.external.http;
    https = env.ports.external.https;
    await waitFor(async () => (await request(http, 'a.example.com')).status === 200, 30_000, 'a.example.com served');
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await Promise.all([backend?.close(), slow?.close(), new Promise((resolve) => serverBackend?.server.close(resolve))]);
    await stopAllEnvoys();
  });

  it('by default: no access log, Server: envoy, X-Forwarded-For as the client sent it, no stream idle timeout', async () => {
    const answer = await request(http, 'a.example.com', '/default-check', { 'x-forwarded-for': '203.0.113.7' });
    expect(answer.status).toBe(200);
    expect(answer.headers.server).toBe('envoy');
    expect(received(answer)['x-forwarded-for']).toBe('203.0.113.7');
    expect(received(answer)['x-envoy-external-address']).toBeUndefined();
    // The slow backend answers after 3 s: nothing cuts it.
    expect((await request(http, 'a.example.com', '/slow')).status).toBe(200);
    expect(accessLogLines().some((line) => line.includes('/default-check'))).toBe(false);
  }, 60_000);

  it('access-log text: one line per request on the gateway\'s stdout; a request in flight across the change completes', async () => {
    const inFlight = request(http, 'a.example.com', '/slow');
    await setOptions({ 'access-log': 'text', 'access-log-format': 'ferry-access %REQ(:AUTHORITY)% %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER%' }, async () => {
      await request(http, 'a.example.com', '/text-probe');
      return accessLogLines().some((line) => line.startsWith('ferry-access a.example.com /text-probe 200 '));
    }, 'a text access log line');
    const line = accessLogLines().find((l) => l.startsWith('ferry-access a.example.com /text-probe 200 '))!;
    expect(line).toMatch(/^ferry-access a\.example\.com \/text-probe 200 default\/app-a:80$/);
    expect((await inFlight).status).toBe(200);
  }, 60_000);

  it('access-log json: Ferry\'s default fields as one JSON object per line', async () => {
    await setOptions({ 'access-log': 'json' }, async () => {
      await request(http, 'a.example.com', '/json-probe', { 'user-agent': 'ferry-test' });
      return accessLogLines().some((line) => line.includes('"/json-probe"'));
    }, 'a JSON access log line');
    const entry = JSON.parse(accessLogLines().find((line) => line.includes('"/json-probe"'))!) as Record<string, unknown>;
    expect(entry).toMatchObject({ method: 'GET', path: '/json-probe', authority: 'a.example.com', response_code: 200, upstream_cluster: 'default/app-a:80', user_agent: 'ferry-test' });
  }, 60_000);

  it('a bad value is refused naming its key; the options before it and the routes keep working', async () => {
    await env.writeManifest('config-ferry.yaml', configFerry({ 'access-log': 'yes', 'stream-idle-timeout': 'soon' }));
    const problems = env.ferry.files!.problems().filter((problem) => problem.file === 'config-ferry.yaml');
    expect(problems.map((problem) => `${problem.field}: ${problem.message}`).join('\n')).toMatch(/data\.access-log: "yes" is not one of off, text, json[\s\S]*data\.stream-idle-timeout: "soon" is not a duration/);
    await request(http, 'a.example.com', '/still-json');
    await waitFor(() => accessLogLines().some((line) => line.includes('"/still-json"')), 30_000, 'the JSON access log still written');
  }, 60_000);

  it('server-header: a fixed value, pass-through of the backend\'s, or none at all', async () => {
    const server = async () => (await request(http, 'server.example.com')).headers.server;
    await setOptions({ 'server-header': 'ferry-gateway' }, async () => (await server()) === 'ferry-gateway', 'Server: ferry-gateway');
    await setOptions({ 'server-header': 'pass-through' }, async () => (await server()) === 'backend-7', 'the backend\'s Server header');
    await setOptions({ 'server-header': 'off' }, async () => (await server()) === undefined, 'no Server header');
    // Off holds for Envoy's own answers too (no route: 404 from Envoy).
    expect((await request(http, 'nowhere.example.com')).headers.server).toBeUndefined();
  }, 90_000);

  it('use-remote-address and trusted-hops-count: the backend sees the client address Envoy trusts', async () => {
    const xff = { 'x-forwarded-for': '203.0.113.7' };
    const seen = async () => received(await request(http, 'a.example.com', '/', xff));
    // Envoy appends the peer to X-Forwarded-For (for a loopback peer: its own address, which depends on the machine).
    await setOptions({ 'use-remote-address': 'true' }, async () => /^203\.0\.113\.7,[^,]+$/.test(String((await seen())['x-forwarded-for'])), 'the peer appended to X-Forwarded-For');
    // No hop is trusted: the client address is the peer's own (Envoy 1.40 counts no address as internal by default).
    expect((await seen())['x-envoy-external-address']).toBe('127.0.0.1');
    await setOptions({ 'use-remote-address': 'true', 'trusted-hops-count': '1' },
      async () => (await seen())['x-envoy-external-address'] === '203.0.113.7', 'the client behind one trusted hop');
  }, 90_000);

  it('stream-idle-timeout: a stream idle longer than the timeout is closed by the gateway', async () => {
    await setOptions({ 'stream-idle-timeout': '1s' }, async () => (await request(http, 'a.example.com', '/slow')).status === 504, 'the slow request cut after 1 s');
    const started = Date.now();
    const answer = await request(http, 'a.example.com', '/slow');
    expect(answer.status).toBe(504);
    expect(answer.body).toBe('stream timeout');
    expect(Date.now() - started).toBeLessThan(2_900);
    await setOptions({ 'stream-idle-timeout': '0s' }, async () => (await request(http, 'a.example.com', '/slow')).status === 200, 'no stream idle timeout again');
  }, 90_000);

  it('max-request-headers-kb: larger request headers are refused with 431', async () => {
    const big = { 'x-big': 'x'.repeat(3 * 1024) };
    expect((await request(http, 'a.example.com', '/', big)).status).toBe(200);
    await setOptions({ 'max-request-headers-kb': '2' }, async () => (await request(http, 'a.example.com', '/', big)).status === 431, 'a 3 KiB header refused');
    expect((await request(http, 'a.example.com', '/')).status).toBe(200);
  }, 60_000);

  it('max-connections: a connection beyond the limit is closed at once; a freed slot is taken again', async () => {
    await setOptions({ 'max-connections': '2' }, async () => (await envoyStat('connection_limit.external-http.active_connections')) !== undefined, 'the connection limit in place');
    const first = await openConnection(http);
    const second = await openConnection(http);
    await waitFor(async () => (await envoyStat('connection_limit.external-http.active_connections')) === 2, 15_000, 'two connections counted');
    const third = await openConnection(http);
    await third.closed;
    expect(await envoyStat('connection_limit.external-http.limited_connections')).toBeGreaterThanOrEqual(1);
    first.socket.destroy();
    await waitFor(async () => (await envoyStat('connection_limit.external-http.active_connections')) === 1, 15_000, 'a slot freed');
    expect((await request(http, 'a.example.com')).status).toBe(200);
    second.socket.destroy();
    await setOptions({}, async () => (await envoyStat('connection_limit.external-http.active_connections')) === undefined || (await request(http, 'a.example.com')).status === 200, 'the limit removed');
  }, 90_000);

  it('TLS policy: versions and cipher suites of the HTTPS listener; a kept-alive plain HTTP connection is not touched', async () => {
    expect(await handshake(https, { maxVersion: 'TLSv1.2' })).toMatchObject({ version: 'TLSv1.2' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await localPortOf(http, agent);
    await setOptions({ 'tls-min-version': '1.3' }, async () => 'error' in (await handshake(https, { maxVersion: 'TLSv1.2' })), 'TLS 1.2 refused');
    expect(await handshake(https, {})).toMatchObject({ version: 'TLSv1.3' });
    // Only the HTTPS listener changed: the plain HTTP connection of before is still open and reused.
    expect(await localPortOf(http, agent)).toBe(before);
    await setOptions({ 'tls-max-version': '1.2', 'cipher-suites': 'ECDHE-ECDSA-AES256-GCM-SHA384' },
      async () => 'error' in (await handshake(https, { minVersion: 'TLSv1.3' })), 'TLS 1.3 refused');
    expect(await handshake(https, { maxVersion: 'TLSv1.2' })).toEqual({ version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' });
    expect(await handshake(https, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toHaveProperty('error');
    expect(await localPortOf(http, agent)).toBe(before);
    agent.destroy();
  }, 90_000);

  it('listen-addresses: IPv4 and IPv6 together', async () => {
    const ipv6 = () => new Promise<number>((resolve) => {
      const req = httpRequest({ host: '::1', port: http, path: '/', headers: { host: 'a.example.com' }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    expect(await ipv6()).toBe(0);
    await setOptions({ 'listen-addresses': '127.0.0.1,::1' }, async () => (await ipv6()) === 200, 'served on [::1]');
    expect((await request(http, 'a.example.com')).status).toBe(200);
    // IPv6 alone: the listener binds anew (another first address), IPv4 clients are refused.
    const ipv4 = async () => request(http, 'a.example.com').then((answer) => answer.status, () => 0);
    await setOptions({ 'listen-addresses': '::1' }, async () => (await ipv4()) === 0, 'IPv4 no longer served');
    expect(await ipv6()).toBe(200);
  }, 60_000);

  /** A counter or gauge of the gateway Envoy (undefined when it does not exist). */
  async function envoyStat(name: string): Promise<number | undefined> {
    const { host, port } = env.envoy.adminAddress;
    const text = await new Promise<string>((resolve, reject) => {
      httpRequest({ host, port, path: `/stats?filter=${encodeURIComponent(`^${name.replaceAll('.', '\\.')}$`)}` }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
    const match = new RegExp(`^${name.replaceAll('.', '\\.')}: (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  }
});
