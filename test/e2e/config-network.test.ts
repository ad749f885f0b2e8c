import { Agent, request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition } from '../../src/model/meta.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from './harness/index.js';
import { certificateAuthority, signedCertificate, type TestCertificate } from './harness/certs.js';
import { configMapManifest } from './harness/manifests.js';
import { kingress, knativeService, revisionService, split, toYaml } from './knative/routing-manifests.js';

/** A revision's TLS port as the queue-proxy (or the activator) serves it: TLS 1.3 only, with a data-plane certificate. */
async function startTlsBackend(name: string, certificate: TestCertificate): Promise<{ port: number; server: HttpsServer }> {
  const server = createHttpsServer({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'] }, (req, res) => {
    const socket = req.socket as TLSSocket;
    // A handshake per request: a CA change shows on the next request, not after the pooled connection's idle timeout.
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ backend: name, tls: socket.getProtocol(), revision: req.headers['knative-serving-revision'] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** A revision's public Service with only its TLS port (`https` 443) and an EndpointSlice on loopback. */
function tlsRevisionService(name: string, targetPort: number, ready = true, namespace = 'default'): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'https', port: 443, targetPort }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-local`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready } }], ports: [{ name: 'https', port: targetPort, protocol: 'TCP' }],
    },
  ];
}

/** knative-serving/routing-serving-certs as cert-manager writes it: the CA in ca.crt (what the gateways read). */
function routingCaSecret(ca: TestCertificate, own: TestCertificate): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'routing-serving-certs', namespace: 'knative-serving' }, type: 'kubernetes.io/tls', data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(own.cert), 'tls.key': b64(own.key) } });
}

/**
 * Knative's config-network options that touch the gateways, changed while Ferry and a real Envoy run: http-protocol
 * (for KIngresses written by hand as for those of Routes), default-external-scheme, system-internal-tls (TLS to the
 * queue-proxy and the activator with Knative's CA), and cluster-local-domain-tls where Ferry cannot honour it, which
 * it says in the KIngresses' status.
 */
describe('config-network through Ferry and a real Envoy', () => {
  let backend: HttpBackend;
  const tlsServers: HttpsServer[] = [];
  const ca = certificateAuthority('knative-serving-ca');
  let env: FerryUnderTest;
  let http: number;
  let localHttp: number;

  const setConfigNetwork = (data: Record<string, string>): Promise<void> => env.writeManifest('config-network.yaml', configMapManifest('config-network', data));
  const row = (kind: 'ingresses' | 'routes', name: string) => env.ferry.view.objects(kind).find((object) => object.name === name);
  const conditions = (name: string): Condition[] => (row('ingresses', name)?.conditions ?? []) as Condition[];

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'app' });
    // The queue-proxy's name is kn-user-<namespace>, the activator's kn-routing; a certificate of another namespace is refused.
    const queueProxy = await startTlsBackend('queue-proxy', signedCertificate(ca, 'kn-user-default'));
    const activator = await startTlsBackend('activator', signedCertificate(ca, 'kn-routing'));
    const otherNamespace = await startTlsBackend('other-namespace', signedCertificate(ca, 'kn-user-other'));
    tlsServers.push(queueProxy.server, activator.server, otherNamespace.server);
    const tlsSplit = (serviceName: string) => ({ serviceNamespace: 'default', serviceName, servicePort: 443, percent: 100, appendHeaders: { 'Knative-Serving-Revision': serviceName, 'Knative-Serving-Namespace': 'default' } });
    const tlsIngress = (name: string, service: string) => kingress(name, { rules: [{ hosts: [`${name}.example.com`], visibility: 'ExternalIP', http: { paths: [{ splits: [tlsSplit(service)] }] } }] });
    env = await startFerry({
      manifests: {
        'backends.yaml': toYaml(...revisionService('app', backend.port), ...revisionService('hello-00001', backend.port)),
        'tls-backends.yaml': toYaml(...tlsRevisionService('secure-00001', queueProxy.port), ...tlsRevisionService('asleep-00001', queueProxy.port, false),
          ...tlsRevisionService('activator-service', activator.port, true, 'knative-serving'), ...tlsRevisionService('other-00001', otherNamespace.port)),
        'routing-ca.yaml': routingCaSecret(ca, signedCertificate(ca, 'kn-routing')),
        // Written by hand, no httpOption: config-network's http-protocol decides.
        'given.yaml': toYaml(kingress('given', {
          rules: [
            { hosts: ['given.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('app', 100)] }] } },
            { hosts: ['given.default.svc.cluster.local'], visibility: 'ClusterLocal', http: { paths: [{ splits: [split('app', 100)] }] } },
          ],
        })),
        // Says Enabled itself: http-protocol does not apply.
        'enabled.yaml': toYaml(kingress('enabled', { httpOption: 'Enabled', rules: [{ hosts: ['enabled.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('app', 100)] }] } }] })),
        // Splits to revisions' TLS port, as Knative's Route writes them with system-internal-tls.
        'tls-ingresses.yaml': toYaml(tlsIngress('secure', 'secure-00001'), tlsIngress('asleep', 'asleep-00001'), tlsIngress('other', 'other-00001')),
        'hello.yaml': toYaml(knativeService('hello', 'hello-00001')),
      },
      translateConfig: { activator: { namespace: 'knative-serving', name: 'activator-service' } },
    });
    http = env.ports.external.http;
    localHttp = env.ports.local.http;
    await waitFor(async () => (await request(http, 'given.example.com')).status === 200 && (await request(http, 'hello.default.example.com')).status === 200, 30_000, 'the hosts served');
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await Promise.all(tlsServers.map((server) => new Promise((resolve) => server.close(resolve))));
    await stopAllEnvoys();
  });

  it('http-protocol Redirected: 301 to https on the external plain-HTTP listener for every KIngress without its own httpOption; kept-alive connections stay', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await localPortOf(agent, 'enabled.example.com');
    await setConfigNetwork({ 'http-protocol': 'Redirected' });
    await waitFor(async () => (await request(http, 'given.example.com')).status === 301, 30_000, 'given.example.com redirected');
    const answer = await request(http, 'given.example.com', '/some/path?q=1');
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe('https://given.example.com/some/path?q=1');
    // The Route's KIngress gets Redirected from Knative's translation, the same way.
    await waitFor(async () => (await request(http, 'hello.default.example.com')).status === 301, 30_000, 'the Route redirected');
    // Not on the local gateway (cluster-local traffic), not for a KIngress that says Enabled.
    expect((await request(localHttp, 'given.default.svc.cluster.local')).status).toBe(200);
    expect((await request(localHttp, 'given.example.com')).status).toBe(200);
    expect((await request(http, 'enabled.example.com')).status).toBe(200);
    // Only route tables changed: the connection of before is still open and reused.
    expect(await localPortOf(agent, 'enabled.example.com')).toBe(before);
    agent.destroy();
  }, 90_000);

  it('a bad http-protocol is refused naming config-network and the key; Redirected stays in force; Enabled serves plain HTTP again', async () => {
    await setConfigNetwork({ 'http-protocol': 'Sometimes' });
    const problems = env.ferry.files!.problems().filter((problem) => problem.file === 'config-network.yaml').map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems).toEqual(['data.http-protocol: "Sometimes" is not one of Enabled, Redirected, Disabled']);
    expect((await request(http, 'given.example.com')).status).toBe(301);
    await setConfigNetwork({ 'http-protocol': 'Enabled' });
    await waitFor(async () => (await request(http, 'given.example.com')).status === 200, 30_000, 'given.example.com served over HTTP again');
    expect((await request(http, 'hello.default.example.com')).status).toBe(200);
  }, 60_000);

  it('default-external-scheme https: the Route\'s URL says https (the gateway is unchanged: TLS is terminated in front of it)', async () => {
    expect(row('routes', 'hello')?.url).toBe('http://hello.default.example.com');
    await setConfigNetwork({ 'default-external-scheme': 'https' });
    await waitFor(() => row('routes', 'hello')?.url === 'https://hello.default.example.com', 30_000, 'the https URL');
    expect((await request(http, 'hello.default.example.com')).status).toBe(200);
    await setConfigNetwork({ 'default-external-scheme': 'ftp' });
    expect(env.ferry.files!.problems().filter((problem) => problem.file === 'config-network.yaml').map((problem) => `${problem.field}: ${problem.message}`))
      .toEqual(['data.default-external-scheme: "ftp" is not one of http, https']);
    expect(row('routes', 'hello')?.url).toBe('https://hello.default.example.com');
  }, 60_000);

  it('system-internal-tls: TLS 1.3 to the queue-proxy and, scaled to zero, the activator, with Knative\'s CA and their names; a CA rotation follows over SDS', async () => {
    const json = async (host: string) => {
      const answer = await request(http, host);
      return answer.status === 200 ? JSON.parse(answer.body) as { backend: string; tls: string; revision: string } : answer.status;
    };
    // Without it, the gateway speaks plain HTTP to the TLS port: no answer from the revision.
    expect(await json('secure.example.com')).not.toBe(200);
    expect(typeof (await json('secure.example.com'))).toBe('number');
    await setConfigNetwork({ 'system-internal-tls': 'Enabled' });
    await waitFor(async () => typeof (await json('secure.example.com')) === 'object', 30_000, 'secure.example.com over TLS');
    expect(await json('secure.example.com')).toEqual({ backend: 'queue-proxy', tls: 'TLSv1.3', revision: 'secure-00001' });
    // No ready pod: the activator, over its TLS port, with the headers that say whom to wake.
    expect(await json('asleep.example.com')).toEqual({ backend: 'activator', tls: 'TLSv1.3', revision: 'asleep-00001' });
    // A certificate for another namespace's revisions is refused; plain ports stay plain.
    expect(await json('other.example.com')).toBe(503);
    expect((await request(http, 'given.example.com')).status).toBe(200);

    // Another CA: the same certificates are no longer trusted, and trusted again when the CA comes back.
    const other = certificateAuthority('another-ca');
    await env.writeManifest('routing-ca.yaml', routingCaSecret(other, signedCertificate(other, 'kn-routing')));
    await waitFor(async () => (await json('secure.example.com')) === 503, 30_000, 'refused under another CA');
    await env.writeManifest('routing-ca.yaml', routingCaSecret(ca, signedCertificate(ca, 'kn-routing')));
    await waitFor(async () => typeof (await json('secure.example.com')) === 'object', 30_000, 'trusted again');

    await setConfigNetwork({ 'system-internal-tls': 'Maybe' });
    expect(env.ferry.files!.problems().filter((problem) => problem.file === 'config-network.yaml').map((problem) => `${problem.field}: ${problem.message}`))
      .toEqual(['data.system-internal-tls: "Maybe" is not one of Enabled, Disabled']);
    expect(typeof (await json('secure.example.com'))).toBe('object');
    await setConfigNetwork({});
    await waitFor(async () => typeof (await json('secure.example.com')) === 'number', 30_000, 'plain HTTP again');
  }, 90_000);

  it('cluster-local-domain-tls Enabled: KIngresses whose cluster-local hosts have no certificate say so, naming config-network and the key', async () => {
    await setConfigNetwork({ 'cluster-local-domain-tls': 'Enabled' });
    // Still served (over plain HTTP) and Ready: Knative's readiness does not read that condition.
    await waitFor(() => conditions('given').some((c) => c.type === 'ClusterLocalDomainTLS') && conditions('given').find((c) => c.type === 'Ready')?.status === 'True', 30_000, 'the ClusterLocalDomainTLS condition, Ready');
    const given = conditions('given');
    expect(given.find((c) => c.type === 'ClusterLocalDomainTLS')).toMatchObject({ status: 'False', reason: 'NotHonoured' });
    expect(given.find((c) => c.type === 'ClusterLocalDomainTLS')?.message).toMatch(/^knative-serving\/config-network data\.cluster-local-domain-tls is Enabled, .*\(given\.default\.svc\.cluster\.local\)$/);
    expect((await request(localHttp, 'given.default.svc.cluster.local')).status).toBe(200);
    // A KIngress without cluster-local hosts is not concerned.
    expect(conditions('enabled').find((c) => c.type === 'ClusterLocalDomainTLS')).toBeUndefined();
    await setConfigNetwork({});
    await waitFor(() => !conditions('given').some((c) => c.type === 'ClusterLocalDomainTLS'), 30_000, 'the condition gone');
    expect(conditions('given').map((c) => c.type).sort()).toEqual(['LoadBalancerReady', 'NetworkConfigured', 'Ready']);
  }, 60_000);

  /** One request over the agent's kept-alive connection: the client port says whether it is the same connection. */
  function localPortOf(agent: Agent, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http, path: '/', headers: { host }, agent }, (res) => {
        const localPort = res.socket.localPort ?? 0;
        res.resume();
        res.on('end', () => resolve(localPort));
      });
      req.on('error', reject);
      req.end();
    });
  }
});
