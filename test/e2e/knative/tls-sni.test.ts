import { connect as http2Connect } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, tlsSecretManifest, type TestCertificate } from '../harness/certs.js';
import { echoClient, startGrpcBackend, type GrpcBackend } from '../harness/grpc.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type BackendAnswer, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { serviceWithEndpoints } from '../harness/manifests.js';

interface TlsAnswer {
  status: number;
  backend: string | undefined;
  /** Subject CN and SHA-256 fingerprint of the certificate the gateway presented. */
  commonName: string;
  fingerprint: string;
  /** The client's local port: tells whether a kept-alive connection was reused. */
  localPort: number;
}

/** One HTTPS request to 127.0.0.1:port with SNI `servername` and Host `host`; a fresh connection unless an agent is given. */
function httpsGet(port: number, servername: string, host: string, agent?: Agent): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    // The socket is taken from the request: a keep-alive response's socket may already be back in the agent's pool.
    let socket: TLSSocket | undefined;
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', servername, headers: { host }, rejectUnauthorized: false, agent: agent ?? false }, (res) => {
      const peer = socket!.getPeerCertificate();
      const localPort = socket!.localPort ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let backend: string | undefined;
        try {
          backend = (JSON.parse(body) as BackendAnswer).backend;
        } catch {
          backend = undefined;
        }
        resolve({ status: res.statusCode ?? 0, backend, commonName: String(peer.subject?.CN), fingerprint: peer.fingerprint256, localPort });
      });
      res.on('error', reject);
    });
    req.on('socket', (s) => (socket = s as TLSSocket));
    req.setTimeout(10_000, () => req.destroy(new Error(`https request to ${host} (SNI ${servername}) timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The certificate presented to a TLS client that sends no SNI at all (connecting to an IP address). */
function certificateWithoutSni(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cn = String(socket.getPeerCertificate().subject?.CN);
      socket.end();
      resolve(cn);
    });
    socket.on('error', reject);
  });
}

/** One HTTP/2 request over TLS (ALPN h2) with SNI and :authority `host`. */
function http2Get(port: number, host: string): Promise<{ status: number; backend: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { servername: host, rejectUnauthorized: false });
    session.on('error', reject);
    const stream = session.request({ ':path': '/', ':authority': host });
    let body = '';
    let status = 0;
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      const alpn = session.alpnProtocol ?? false;
      session.close();
      resolve({ status, backend: (JSON.parse(body) as BackendAnswer).backend, alpn });
    });
    stream.on('error', reject);
    stream.end();
  });
}

const INGRESS = `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: tls
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  tls:
  - {hosts: [a.example.com], secretNamespace: default, secretName: a-cert}
  - {hosts: [b.example.com], secretNamespace: default, secretName: b-cert}
  - {hosts: [grpc.example.com], secretNamespace: default, secretName: grpc-cert}
  rules:
  - hosts: [a.example.com]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app-a, servicePort: 80, percent: 100}]
  - hosts: [b.example.com]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app-b, servicePort: 80, percent: 100}]
  - hosts: [grpc.example.com]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app-grpc, servicePort: 80, percent: 100}]
`;

const REDIRECTED_INGRESS = `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: redirected
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  httpOption: Redirected
  rules:
  - hosts: [r.example.com]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app-b, servicePort: 80, percent: 100}]
`;

// Per-host certificates selected by SNI, served to Envoy over SDS, and a default certificate.
describe('TLS per host through Ferry and a real Envoy', () => {
  let backendA: HttpBackend;
  let backendB: HttpBackend;
  let grpcBackend: GrpcBackend;
  let grpcCertificate: TestCertificate;
  let env: FerryUnderTest;

  beforeAll(async () => {
    backendA = await startHttpBackend({ name: 'app-a', websocket: true });
    backendB = await startHttpBackend({ name: 'app-b' });
    grpcBackend = await startGrpcBackend('app-grpc');
    grpcCertificate = selfSignedCertificate('grpc.example.com');
    env = await startFerry({
      manifests: {
        'services.yaml': [
          serviceWithEndpoints('app-a', backendA.port),
          serviceWithEndpoints('app-b', backendB.port),
          serviceWithEndpoints('app-grpc', grpcBackend.port, { name: 'h2c' }),
        ].join('---\n'),
        'ingress.yaml': INGRESS,
        'redirected.yaml': REDIRECTED_INGRESS,
        'a-cert.yaml': tlsSecretManifest('default', 'a-cert', selfSignedCertificate('a.example.com')),
        'grpc-cert.yaml': tlsSecretManifest('default', 'grpc-cert', grpcCertificate),
        'b-cert.yaml': tlsSecretManifest('default', 'b-cert', selfSignedCertificate('b.example.com')),
        'default-cert.yaml': tlsSecretManifest('knative-serving', 'default-cert', selfSignedCertificate('default.example.com')),
      },
      translateConfig: { defaultCertificate: { namespace: 'knative-serving', name: 'default-cert' } },
    });
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([backendA?.close(), backendB?.close(), grpcBackend?.close()]);
    await stopAllEnvoys();
  });

  it.each([
    ['a.example.com', 'app-a'],
    ['b.example.com', 'app-b'],
  ])('presents the certificate of %s and routes it to %s', async (host, backend) => {
    const answer = await httpsGet(env.ports.external.https, host, host);
    expect(answer).toMatchObject({ status: 200, backend, commonName: host });
  });

  it('presents the default certificate for an unknown SNI and for no SNI', async () => {
    const answer = await httpsGet(env.ports.external.https, 'unknown.example.com', 'unknown.example.com');
    expect(answer.commonName).toBe('default.example.com');
    expect(answer.status).toBe(404);
    expect(await certificateWithoutSni(env.ports.external.https)).toBe('default.example.com');
  });

  it('serves a Redirected host over https and answers 301 on plain HTTP (both listeners share its route table)', async () => {
    expect(await httpsGet(env.ports.external.https, 'r.example.com', 'r.example.com')).toMatchObject({ status: 200, backend: 'app-b', commonName: 'default.example.com' });
    const plain = await request(env.ports.external.http, 'r.example.com', '/x');
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe('https://r.example.com/x');
    // A client naming the https listener in Ferry's own header is still redirected: the header is overwritten.
    expect((await request(env.ports.external.http, 'r.example.com', '/x', { 'x-ferry-listener': 'external-https' })).status).toBe(301);
  });

  it('speaks HTTP/2 to clients that negotiate h2 by ALPN', async () => {
    expect(await http2Get(env.ports.external.https, 'b.example.com')).toEqual({ status: 200, backend: 'app-b', alpn: 'h2' });
  });

  it('serves gRPC over TLS to an h2c backend, the client verifying the host certificate', async () => {
    const client = echoClient(env.ports.external.https, 'grpc.example.com', { trustedCertificate: grpcCertificate.cert });
    try {
      expect(await client.echo({ message: 'secure' })).toMatchObject({ backend: 'app-grpc', message: 'secure' });
      expect((await client.count({ message: 'secure', count: 5 })).map((answer) => answer.index)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      client.close();
    }
  });

  it('echoes WebSocket messages over TLS (wss)', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      // ws passes TLS options (servername: the SNI) through to tls.connect; its types list only the HTTP ones.
      const options = { servername: 'a.example.com', headers: { host: 'a.example.com' }, rejectUnauthorized: false } as WebSocket.ClientOptions;
      const socket = new WebSocket(`wss://127.0.0.1:${env.ports.external.https}/chat`, options);
      socket.on('open', () => socket.send('over tls'));
      socket.on('message', (data) => {
        socket.close();
        resolve(String(data));
      });
      socket.on('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade answered ${res.statusCode}`)));
      socket.on('error', reject);
    });
    expect(received).toBe('app-a: over tls');
  });

  it('keeps serving the last good certificate when a Secret is replaced by an unusable one', async () => {
    const https = env.ports.external.https;
    const good = await httpsGet(https, 'b.example.com', 'b.example.com');
    const broken = { cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n', key: selfSignedCertificate('b.example.com').key };
    await env.writeManifest('b-cert.yaml', tlsSecretManifest('default', 'b-cert', broken));
    // Host a's certificate changes after the broken one: the broken Secret must not hold it back.
    const rotatedA = selfSignedCertificate('a.example.com');
    const beforeA = await httpsGet(https, 'a.example.com', 'a.example.com');
    await env.writeManifest('a-cert.yaml', tlsSecretManifest('default', 'a-cert', rotatedA));
    await waitFor(async () => (await httpsGet(https, 'a.example.com', 'a.example.com')).fingerprint !== beforeA.fingerprint, 10_000, 'the rotated certificate of a.example.com');
    const stillB = await httpsGet(https, 'b.example.com', 'b.example.com');
    expect(stillB).toMatchObject({ status: 200, backend: 'app-b', commonName: 'b.example.com', fingerprint: good.fingerprint });

    // A good certificate for b is served again.
    const fixed = selfSignedCertificate('b.example.com');
    await env.writeManifest('b-cert.yaml', tlsSecretManifest('default', 'b-cert', fixed));
    await waitFor(async () => (await httpsGet(https, 'b.example.com', 'b.example.com')).fingerprint !== good.fingerprint, 10_000, 'the fixed certificate of b.example.com');
  });

  it('adds a host with its own certificate without closing the connections of other hosts', async () => {
    const https = env.ports.external.https;
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const seen: TlsAnswer[] = [];
    const failures: string[] = [];
    let running = true;
    const keepAliveClient = async (): Promise<void> => {
      while (running) {
        try {
          seen.push(await httpsGet(https, 'b.example.com', 'b.example.com', agent));
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    const clients = [keepAliveClient(), keepAliveClient()];
    try {
      await waitFor(() => seen.length >= 10, 10_000, 'keep-alive requests before the new host');
      const portsBefore = new Set(seen.map((answer) => answer.localPort));
      await env.writeManifest('c.yaml', [
        tlsSecretManifest('default', 'c-cert', selfSignedCertificate('c.example.com')),
        INGRESS.replaceAll('name: tls', 'name: tls-c').replaceAll('b.example.com', 'c.example.com').replaceAll('b-cert', 'c-cert')
          .replaceAll('a.example.com', 'a2.example.com').replaceAll('grpc.example.com', 'grpc2.example.com'),
      ].join('---\n'));
      const c = await waitFor(async () => {
        const answer = await httpsGet(https, 'c.example.com', 'c.example.com');
        return answer.commonName === 'c.example.com' ? answer : undefined;
      }, 10_000, 'the certificate of c.example.com');
      expect(c).toMatchObject({ status: 200, backend: 'app-b' });
      const countAtChange = seen.length;
      await waitFor(() => seen.length >= countAtChange + 10, 10_000, 'keep-alive requests after the new host');
      expect(new Set(seen.map((answer) => answer.localPort))).toEqual(portsBefore);
    } finally {
      running = false;
      await Promise.all(clients);
      agent.destroy();
    }
    expect(failures).toEqual([]);
    expect(seen.filter((answer) => answer.status !== 200 || answer.backend !== 'app-b')).toEqual([]);
  });

  it('serves a rotated certificate without re-creating the listener or failing keep-alive requests', async () => {
    const https = env.ports.external.https;
    const before = await httpsGet(https, 'a.example.com', 'a.example.com');
    const listenerStats = async () => ({
      added: await env.envoy.admin.stat('listener_manager.listener_added'),
      modified: await env.envoy.admin.stat('listener_manager.listener_modified'),
      created: await env.envoy.admin.stat('listener_manager.listener_create_success'),
      removed: await env.envoy.admin.stat('listener_manager.listener_removed'),
    });
    const statsBefore = await listenerStats();
    // Guards against misspelt stat names, which would read 0 before and after.
    expect(statsBefore.added).toBeGreaterThan(0);
    expect(statsBefore.created).toBeGreaterThan(0);

    // Keep-alive clients with connections opened before the rotation keep sending throughout it.
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const seenByKeepAlive: TlsAnswer[] = [];
    const failures: string[] = [];
    let rotating = true;
    const keepAliveClient = async (): Promise<void> => {
      while (rotating) {
        try {
          seenByKeepAlive.push(await httpsGet(https, 'a.example.com', 'a.example.com', agent));
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    const clients = [keepAliveClient(), keepAliveClient()];
    try {
      await waitFor(() => seenByKeepAlive.length >= 10, 10_000, 'keep-alive requests before the rotation');
      const rotated = selfSignedCertificate('a.example.com');
      await env.writeManifest('a-cert.yaml', tlsSecretManifest('default', 'a-cert', rotated));
      const after = await waitFor(async () => {
        const answer = await httpsGet(https, 'a.example.com', 'a.example.com');
        return answer.fingerprint !== before.fingerprint ? answer : undefined;
      }, 10_000, 'the rotated certificate on a new connection');
      expect(after).toMatchObject({ status: 200, backend: 'app-a', commonName: 'a.example.com' });
      const countAtRotation = seenByKeepAlive.length;
      await waitFor(() => seenByKeepAlive.length >= countAtRotation + 10, 10_000, 'keep-alive requests after the rotation');
    } finally {
      rotating = false;
      await Promise.all(clients);
      agent.destroy();
    }

    expect(failures).toEqual([]);
    expect(seenByKeepAlive.filter((answer) => answer.status !== 200 || answer.backend !== 'app-a')).toEqual([]);
    // The connections opened before the rotation were never closed: they still show the old certificate.
    expect(new Set(seenByKeepAlive.map((answer) => answer.fingerprint))).toEqual(new Set([before.fingerprint]));
    expect(await listenerStats()).toEqual(statsBefore);
    // Host b's certificate is untouched.
    expect((await httpsGet(https, 'b.example.com', 'b.example.com')).commonName).toBe('b.example.com');
  });
});
