import { connect as connectHttp2, constants as http2, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOf, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { selfSignedCertificate, tlsSecretManifest } from '../harness/certs.js';
import { answerOf, kingress, knativeService, revisionService, split, toYaml } from './routing-manifests.js';
import { rawRequest } from './routing-raw-http.js';

const PRIVATE_HOSTS = ['priv.default', 'priv.default.svc', 'priv.default.svc.cluster.local'];

/** Ferry's own routing headers, as a client could send them to pass for the local gateway (they must be overwritten). */
const SPOOFED_HEADERS = { 'x-ferry-gateway': 'local', 'x-ferry-listener': 'local-http' };

/** One HTTP/2 request over cleartext (prior knowledge), with the given :authority (and other headers). */
function http2Request(port: number, authority: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ...headers, [http2.HTTP2_HEADER_PATH]: '/', [http2.HTTP2_HEADER_AUTHORITY]: authority });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => { status = Number(headers[http2.HTTP2_HEADER_STATUS]); });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => { body += chunk; });
    stream.on('end', () => { session.close(); resolve({ status, body }); });
    stream.on('error', (error) => { session.destroy(); reject(error); });
  });
}

/** One HTTPS request whose TLS SNI and Host differ. */
function httpsWithSni(port: number, servername: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', servername, headers: { host, ...SPOOFED_HEADERS }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('KIngress visibility, rewriteHost, redirect and DomainMapping through Ferry and a real Envoy', () => {
  let publicBackend: HttpBackend;
  let privateBackend: HttpBackend;
  let externalBackend: HttpBackend;
  let quietBackend: HttpBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    publicBackend = await startHttpBackend({ name: 'public' });
    privateBackend = await startHttpBackend({ name: 'private' });
    externalBackend = await startHttpBackend({ name: 'external-name' });
    quietBackend = await startHttpBackend({ name: 'quiet' });
    env = await startFerry({
      manifests: {
        'pub-tls.yaml': tlsSecretManifest('default', 'pub-tls', selfSignedCertificate('pub.example.com')),
        'revisions.yaml': toYaml(
          ...revisionService('public', publicBackend.port),
          ...revisionService('private', privateBackend.port),
          // An ExternalName Service: Envoy resolves `localhost` by DNS and dials the Service port.
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'http', port: externalBackend.port }] } },
          // Without ports, as ExternalName Services often are: the split's servicePort is the port dialled.
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside-portless', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'localhost' } },
        ),
        // As Knative's Route→KIngress writes a Service: public hosts ExternalIP, cluster-local hosts ClusterLocal.
        'ingresses.yaml': toYaml(
          kingress('mixed', {
            tls: [{ hosts: ['pub.example.com'], secretName: 'pub-tls', secretNamespace: 'default' }],
            rules: [
              { hosts: ['pub.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('public', 100)] }] } },
              { hosts: PRIVATE_HOSTS, visibility: 'ClusterLocal', http: { paths: [{ splits: [split('private', 100)] }] } },
            ],
          }),
          kingress('rewrite', {
            rules: [{ hosts: ['rewrite.example.com'], visibility: 'ExternalIP', http: { paths: [{ rewriteHost: 'rewritten.internal.example', splits: [{ serviceNamespace: 'default', serviceName: 'outside', servicePort: externalBackend.port, percent: 100 }] }] } }],
          }),
          kingress('rewrite-portless', {
            rules: [{ hosts: ['portless.example.com'], visibility: 'ExternalIP', http: { paths: [{ rewriteHost: 'portless.internal.example', splits: [{ serviceNamespace: 'default', serviceName: 'outside-portless', servicePort: externalBackend.port, percent: 100 }] }] } }],
          }),
          kingress('redirected', {
            httpOption: 'Redirected',
            rules: [{ hosts: ['secure.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('public', 100)] }] } }],
          }),
        ),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await publicBackend?.close();
    await privateBackend?.close();
    await externalBackend?.close();
    await quietBackend?.close();
    await stopAllEnvoys();
  });

  it('never serves ClusterLocal hosts on the external port, whatever Host a client sends', async () => {
    const port = env.ports.external.http;
    const hosts = PRIVATE_HOSTS.flatMap((host) => [host, `${host}:80`, `${host}:8080`, `${host}:${port}`, host.toUpperCase(), `${host}.`]);
    for (const host of hosts) {
      const result = await request(port, host, '/');
      expect(result.status, host).toBe(404);
      expect(backendOf(result), host).toBeUndefined();
    }
    expect(privateBackend.requests).toBe(0);
  });

  it('never serves ClusterLocal hosts on the external port through an absolute-form request URI', async () => {
    const port = env.ports.external.http;
    // The raw client works: an absolute-form request for a public host is served.
    const control = await rawRequest(port, 'GET http://pub.example.com/ HTTP/1.1\r\nHost: pub.example.com\r\nConnection: close\r\n\r\n');
    expect(control.status).toBe(200);
    expect(control.text).toContain('"backend":"public"');
    for (const host of PRIVATE_HOSTS) {
      for (const hostHeader of [host, 'pub.example.com']) {
        const result = await rawRequest(port, `GET http://${host}/ HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
        expect(result.text, `${host} / Host: ${hostHeader}`).not.toContain('"backend":"private"');
      }
      // Other ways of naming the host: a public absolute URI with a private Host, two Host headers, CONNECT.
      const others = [
        `GET http://pub.example.com/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        `GET / HTTP/1.1\r\nHost: pub.example.com\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        `GET / HTTP/1.1\r\nHost: ${host}\r\nHost: pub.example.com\r\nConnection: close\r\n\r\n`,
        `CONNECT ${host}:80 HTTP/1.1\r\nHost: ${host}:80\r\nConnection: close\r\n\r\n`,
      ];
      for (const text of others) expect((await rawRequest(port, text)).text, text).not.toContain('"backend":"private"');
    }
    expect(privateBackend.requests).toBe(0);
  });

  it('never serves ClusterLocal hosts on the external port over HTTP/2 (:authority)', async () => {
    for (const host of PRIVATE_HOSTS) {
      const result = await http2Request(env.ports.external.http, host);
      expect(result.status, host).toBe(404);
    }
    expect(privateBackend.requests).toBe(0);
  });

  it('never serves ClusterLocal hosts on the external ports to a client that spoofs Ferry\'s headers, sends an :authority and a Host that differ, or a TLS SNI that differs from Host', async () => {
    const { http: httpPort, https: httpsPort } = env.ports.external;
    // Controls: the same clients reach the public host, so a 404 below is the isolation, not a broken client.
    expect((await http2Request(httpPort, 'pub.example.com', SPOOFED_HEADERS)).body).toContain('"backend":"public"');
    expect((await httpsWithSni(httpsPort, 'pub.example.com', 'pub.example.com')).body).toContain('"backend":"public"');
    for (const host of PRIVATE_HOSTS) {
      for (const named of [host, host.toUpperCase(), `${host}.`, `${host}:80`]) {
        const spoofed = await request(httpPort, named, '/', SPOOFED_HEADERS);
        expect(spoofed.status, `HTTP/1.1 ${named} with x-ferry-* headers`).toBe(404);
        expect((await http2Request(httpPort, named, SPOOFED_HEADERS)).status, `HTTP/2 ${named} with x-ferry-* headers`).toBe(404);
        expect((await httpsWithSni(httpsPort, 'pub.example.com', named)).body, `SNI pub.example.com, Host ${named}`).not.toContain('"backend":"private"');
      }
      // HTTP/2 with a public :authority and a private host header, and the other way round.
      expect((await http2Request(httpPort, 'pub.example.com', { host })).body, `:authority pub, host ${host}`).not.toContain('"backend":"private"');
      expect((await http2Request(httpPort, host, { host: 'pub.example.com' })).body, `:authority ${host}, host pub`).not.toContain('"backend":"private"');
    }
    expect(privateBackend.requests).toBe(0);
  });

  it('serves ClusterLocal hosts on the local port', async () => {
    for (const host of [...PRIVATE_HOSTS, 'priv.default.svc.cluster.local:80']) {
      expect(backendOf(await request(env.ports.local.http, host, '/')), host).toBe('private');
    }
    expect((await http2Request(env.ports.local.http, 'priv.default.svc')).status).toBe(200);
    const absolute = await rawRequest(env.ports.local.http, 'GET http://priv.default.svc.cluster.local/ HTTP/1.1\r\nHost: priv.default.svc.cluster.local\r\nConnection: close\r\n\r\n');
    expect(absolute.text).toContain('"backend":"private"');
  });

  it('serves ExternalIP hosts on both the external and the local port', async () => {
    expect(backendOf(await request(env.ports.external.http, 'pub.example.com', '/'))).toBe('public');
    expect(backendOf(await request(env.ports.local.http, 'pub.example.com', '/'))).toBe('public');
  });

  it('rewrites the Host for an ExternalName backend', async () => {
    const result = await request(env.ports.external.http, 'rewrite.example.com', '/path');
    expect(result.status).toBe(200);
    const answer = answerOf(result);
    expect(answer.backend).toBe('external-name');
    expect(answer.headers.host).toBe('rewritten.internal.example');
    expect(answer.path).toBe('/path');
  });

  it('rewrites the Host for an ExternalName backend whose Service lists no ports', async () => {
    const answer = answerOf(await request(env.ports.external.http, 'portless.example.com', '/'));
    expect(answer.backend).toBe('external-name');
    expect(answer.headers.host).toBe('portless.internal.example');
  });

  it('redirects httpOption Redirected hosts to https on the external plain-HTTP port, while the local port serves', async () => {
    const result = await request(env.ports.external.http, 'secure.example.com', '/some/path?q=1');
    expect(result.status).toBe(301);
    expect(result.headers.location).toBe('https://secure.example.com/some/path?q=1');
    expect(backendOf(await request(env.ports.local.http, 'secure.example.com', '/some/path'))).toBe('public');
    // Knative's prober checks the gateway over plain HTTP: probes are not redirected.
    const probe = await request(env.ports.external.http, 'secure.example.com', '/', { 'K-Network-Probe': 'probe', 'K-Network-Hash': 'override' });
    expect(probe.status).toBe(200);
  });

  it('serves a DomainMapping only once its ClusterDomainClaim exists (autocreate off), with K-Original-Host', async () => {
    const port = env.ports.external.http;
    await env.writeManifest('domain-mapping.yaml', toYaml(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-network', namespace: 'knative-serving' }, data: { 'autocreate-cluster-domain-claims': 'false' } },
      ...revisionService('mapped', publicBackend.port),
      { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: 'dm.example.org', namespace: 'default' }, spec: { ref: { apiVersion: 'v1', kind: 'Service', name: 'mapped' } } },
    ));
    expect((await request(port, 'dm.example.org', '/')).status).toBe(404);

    await env.writeManifest('claim.yaml', toYaml(
      { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'ClusterDomainClaim', metadata: { name: 'dm.example.org' }, spec: { namespace: 'default' } },
    ));
    const result = await waitFor(async () => {
      const answer = await request(port, 'dm.example.org', '/x');
      return answer.status === 200 ? answer : undefined;
    }, 5_000, 'dm.example.org served after its ClusterDomainClaim');
    const answer = answerOf(result);
    expect(answer.backend).toBe('public');
    expect(answer.headers['k-original-host']).toBe('dm.example.org');
    expect(answer.headers.host).toBe('mapped.default.svc.cluster.local');
  });

  it('keeps a cluster-local Knative Service off the external port and serves it on the local one', async () => {
    await env.writeManifest('cluster-local-service.yaml', toYaml(
      ...revisionService('quiet-00001', quietBackend.port),
      knativeService('quiet', 'quiet-00001', { 'networking.knative.dev/visibility': 'cluster-local' }),
    ));
    await waitFor(async () => backendOf(await request(env.ports.local.http, 'quiet.default.svc.cluster.local', '/')) === 'quiet', 5_000, 'quiet served on the local port');
    const before = quietBackend.requests;
    for (const host of ['quiet.default.example.com', 'quiet.default', 'quiet.default.svc', 'quiet.default.svc.cluster.local']) {
      expect((await request(env.ports.external.http, host, '/')).status, host).toBe(404);
    }
    expect(quietBackend.requests).toBe(before);
  });

  it('serves a DomainMapping to a Knative Service through the local gateway', async () => {
    await env.writeManifest('domain-mapping-ksvc.yaml', toYaml(
      ...revisionService('web-00001', publicBackend.port),
      knativeService('web', 'web-00001'),
      { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: 'web.example.org', namespace: 'default' }, spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'web' } } },
      { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'ClusterDomainClaim', metadata: { name: 'web.example.org' }, spec: { namespace: 'default' } },
    ));
    const result = await waitFor(async () => {
      const answer = await request(env.ports.external.http, 'web.example.org', '/z');
      return answer.status === 200 ? answer : undefined;
    }, 5_000, 'web.example.org served');
    const answer = answerOf(result);
    expect(answer).toMatchObject({ backend: 'public', path: '/z' });
    expect(answer.headers.host).toBe('web.default.svc.cluster.local');
    expect(answer.headers['k-original-host']).toBe('web.example.org');
    expect(answer.headers['knative-serving-revision']).toBe('web-00001');
  });
});
