import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_HEADER, DENIED_BODY, startGrpcAuthorizationServer, startHttpAuthorizationServer, type AuthorizationServer } from './harness/authz-server.js';
import { backendOf, freePort, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type BackendAnswer, type FerryUnderTest, type HttpBackend, type HttpResult } from './harness/index.js';
import { configMapManifest, ingressByHost, serviceWithEndpoints } from './harness/manifests.js';
import { DISABLE_EXT_AUTHZ_ANNOTATION } from '../../src/translate/envoy/ext-authz-routes.js';

/** What Knative's prober sends (knative.dev/networking/pkg/status). */
const PROBE_HEADERS = { 'k-network-probe': 'probe', 'k-network-hash': 'override' };

/** The request headers the test backend received, from its JSON answer. */
function received(result: HttpResult): BackendAnswer['headers'] {
  return (JSON.parse(result.body) as BackendAnswer).headers;
}

/** A POST with a body to the gateway. */
function post(port: number, host: string, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// External authorization (config-ferry ext-authz-*) switched on, changed and broken while Ferry and a real Envoy run,
// with real HTTP and gRPC authorization servers that allow some requests and deny others.
describe('external authorization through Ferry and a real Envoy', () => {
  let checkedBackend: HttpBackend;
  let openBackend: HttpBackend;
  let slow: HttpBackend;
  let httpAuthz: AuthorizationServer;
  let grpcAuthz: AuthorizationServer;
  let env: FerryUnderTest;
  let port: number;
  let probeHash: string;

  const get = (path: string, headers: Record<string, string> = {}, host = 'checked.example.com') => request(port, host, path, headers);
  /** Writes config-ferry and waits until the gateway shows the change (`effect` true). */
  async function setOptions(data: Record<string, string>, effect: () => Promise<boolean>, description: string): Promise<void> {
    await env.writeManifest('config-ferry.yaml', configMapManifest('config-ferry', data));
    await waitFor(effect, 30_000, description);
  }
  /** The gateway's own view of its listeners (Envoy's admin config_dump). */
  function listenerDump(): Promise<string> {
    const { host, port: adminPort } = env.envoy.adminAddress;
    return new Promise((resolve, reject) => {
      httpRequest({ host, port: adminPort, path: '/config_dump?resource=dynamic_listeners' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
  }
  /** Runs `action`; returns the checks the server received meanwhile. */
  async function checksDuring(server: AuthorizationServer, action: () => Promise<void>): Promise<AuthorizationServer['checks']> {
    const before = server.checks.length;
    await action();
    return server.checks.slice(before);
  }

  beforeAll(async () => {
    [checkedBackend, openBackend, slow, httpAuthz, grpcAuthz] = await Promise.all([
      startHttpBackend({ name: 'app-checked' }), startHttpBackend({ name: 'app-open' }), startHttpBackend({ name: 'app-slow', delayMs: 2_000 }),
      startHttpAuthorizationServer(), startGrpcAuthorizationServer(),
    ]);
    env = await startFerry({
      manifests: {
        'services.yaml': [serviceWithEndpoints('app-checked', checkedBackend.port), serviceWithEndpoints('app-open', openBackend.port), serviceWithEndpoints('app-slow', slow.port)].join('---\n'),
        'checked.yaml': ingressByHost('checked', { 'checked.example.com': 'app-checked', 'slow.example.com': 'app-slow' }),
        'open.yaml': ingressByHost('open', { 'open.example.com': 'app-open' }, { annotations: { [DISABLE_EXT_AUTHZ_ANNOTATION]: 'true' } }),
      },
      drainTimeSeconds: 30,
    });
    port = env.ports.external.http;
    await waitFor(async () => (await get('/')).status === 200 && (await get('/', {}, 'open.example.com')).status === 200, 30_000, 'both hosts served');
    probeHash = env.ferry.reconciler.current().ingresses.get('default/checked')!.probeHash;
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await Promise.all([checkedBackend?.close(), openBackend?.close(), slow?.close(), httpAuthz?.close(), grpcAuthz?.close()]);
    await stopAllEnvoys();
  });

  it('off by default: nothing is checked', async () => {
    expect(backendOf(await get('/deny'))).toBe('app-checked');
    expect(httpAuthz.checks).toHaveLength(0);
  }, 30_000);

  it('HTTP service: allowed requests reach the backend, denied ones get its 403 and never reach the backend; a request in flight across the change completes', async () => {
    const inFlight = get('/in-flight', {}, 'slow.example.com');
    await setOptions(
      { 'ext-authz-host': `127.0.0.1:${httpAuthz.port}`, 'ext-authz-protocol': 'http', 'ext-authz-path-prefix': '/check', 'ext-authz-max-request-bytes': '5' },
      async () => (await get('/deny/wait')).status === 403, 'requests checked by the HTTP authorization service');
    expect((await inFlight).status).toBe(200);

    const allowed = await checksDuring(httpAuthz, async () => expect(backendOf(await get('/allow/me?x=1'))).toBe('app-checked'));
    expect(allowed).toEqual([expect.objectContaining({ method: 'GET', path: '/check/allow/me?x=1', host: 'checked.example.com' })]);

    const served = checkedBackend.requests;
    const denied = await get('/deny/me');
    expect(denied).toMatchObject({ status: 403, body: DENIED_BODY });
    expect(checkedBackend.requests).toBe(served);

    // The first ext-authz-max-request-bytes of the body go with the check (a partial body, not a 413).
    const withBody = await checksDuring(httpAuthz, async () => expect(await post(port, 'checked.example.com', '/allow/post', 'hello world')).toBe(200));
    expect(withBody).toEqual([expect.objectContaining({ method: 'POST', body: 'hello' })]);
  }, 60_000);

  it('an opted-out KIngress and Knative\'s probes are never sent to the authorization service', async () => {
    const opted = await checksDuring(httpAuthz, async () => expect(backendOf(await get('/deny/open', {}, 'open.example.com'))).toBe('app-open'));
    expect(opted).toEqual([]);

    let probe: HttpResult | undefined;
    const probed = await checksDuring(httpAuthz, async () => void (probe = await get('/deny/probe', PROBE_HEADERS)));
    expect(probed).toEqual([]);
    expect(probe!.status).toBe(200);
    // The probe route's hash reached the backend (a queue-proxy answers the probe with it).
    expect(received(probe!)['k-network-hash']).toBe(probeHash);

    // What is not a probe (no K-Network-Probe: probe) is checked, whatever K-Network-Hash says: no way around the check.
    const spoofed = await checksDuring(httpAuthz, async () => expect((await get('/deny/spoofed', { 'k-network-hash': 'override' })).status).toBe(403));
    expect(spoofed).toHaveLength(1);
  }, 30_000);

  it('gRPC service (envoy.service.auth.v3.Authorization): allows and denies, the backend sees what it adds', async () => {
    await setOptions({ 'ext-authz-host': `127.0.0.1:${grpcAuthz.port}`, 'ext-authz-protocol': 'grpc' },
      async () => (await get('/allow/wait')).status === 200 && grpcAuthz.checks.length > 0, 'requests checked by the gRPC authorization service');
    const checks = await checksDuring(grpcAuthz, async () => {
      const allowed = await get('/allow/grpc');
      expect(backendOf(allowed)).toBe('app-checked');
      expect(received(allowed)[ALLOWED_HEADER]).toBe('grpc');
      const served = checkedBackend.requests;
      expect(await get('/deny/grpc')).toMatchObject({ status: 403, body: DENIED_BODY });
      expect(checkedBackend.requests).toBe(served);
      expect((await get('/deny/probe', PROBE_HEADERS)).status).toBe(200);
      expect(backendOf(await get('/deny/open', {}, 'open.example.com'))).toBe('app-open');
    });
    expect(checks.map((check) => `${check.host}${check.path}`)).toEqual(['checked.example.com/allow/grpc', 'checked.example.com/deny/grpc']);
  }, 60_000);

  it('with the authorization service down: 403 by default (fail closed), allowed with ext-authz-failure-mode-allow', async () => {
    const nobody = `127.0.0.1:${await freePort()}`;
    await setOptions({ 'ext-authz-host': nobody, 'ext-authz-protocol': 'grpc' }, async () => (await get('/allow/down')).status === 403, 'gRPC checks failing closed');
    const served = checkedBackend.requests;
    expect((await get('/allow/down')).status).toBe(403);
    // Both answer 403: the gateway's configuration says when the HTTP check is in force.
    await setOptions({ 'ext-authz-host': nobody, 'ext-authz-protocol': 'http' }, async () => (await listenerDump()).includes(`"uri": "http://${nobody}"`), 'the HTTP check in force');
    expect((await get('/allow/down')).status).toBe(403);
    // The backend was never reached while the service was down.
    expect(checkedBackend.requests).toBe(served);
    await setOptions({ 'ext-authz-host': nobody, 'ext-authz-protocol': 'http', 'ext-authz-failure-mode-allow': 'true' },
      async () => (await get('/allow/down')).status === 200, 'requests let through with failure-mode-allow');
    expect(backendOf(await get('/deny/down'))).toBe('app-checked');
  }, 90_000);

  it('a bad value is refused naming its key; the options before it stay in force and everything keeps being served', async () => {
    await setOptions({ 'ext-authz-host': `127.0.0.1:${httpAuthz.port}`, 'ext-authz-protocol': 'http' }, async () => (await get('/deny/again')).status === 403, 'HTTP checks again');
    await env.writeManifest('config-ferry.yaml', configMapManifest('config-ferry', { 'ext-authz-host': `127.0.0.1:${httpAuthz.port}`, 'ext-authz-protocol': 'soap', 'ext-authz-timeout': '0s' }));
    const problems = env.ferry.files!.problems().filter((problem) => problem.file === 'config-ferry.yaml').map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems.join('\n')).toMatch(/data\.ext-authz-protocol: "soap" is not one of grpc, http[\s\S]*data\.ext-authz-timeout: must be longer than 0/);
    expect((await get('/deny/still')).status).toBe(403);
    expect(backendOf(await get('/allow/still'))).toBe('app-checked');
    // Off again: nothing checked.
    await setOptions({}, async () => (await get('/deny/off')).status === 200, 'external authorization off');
  }, 60_000);
});
