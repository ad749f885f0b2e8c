import { Agent, request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, tlsSecretManifest } from './harness/certs.js';
import { localPortOf, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type BackendAnswer, type FerryUnderTest, type HttpBackend } from './harness/index.js';
import { configMapManifest, ingressByHost, serviceWithEndpoints } from './harness/manifests.js';

/** A PROXY protocol v1 header (text), as HAProxy or a cloud load balancer writes it. */
function proxyV1(source: string, sourcePort: number, destinationPort: number): Buffer {
  return Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 ${sourcePort} ${destinationPort}\r\n`);
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A PROXY protocol v2 header (binary): version 2 PROXY command, TCP over IPv4 or IPv6, then addresses and ports. */
function proxyV2(source: string, sourcePort: number, destinationPort: number): Buffer {
  const ipv6 = source.includes(':');
  const addresses = ipv6 ? Buffer.concat([ipv6Bytes(source), ipv6Bytes('::1')]) : Buffer.from([...source.split('.').map(Number), 127, 0, 0, 1]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(addresses.length + ports.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, ipv6 ? 0x21 : 0x11]), length, addresses, ports]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':').map((group) => parseInt(group, 16)));
  const known = [...groups(head), ...groups(tail)];
  const all = [...groups(head), ...Array<number>(8 - known.length).fill(0), ...groups(tail)];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

/**
 * One HTTP request over a raw TCP connection that first sends `header` (a PROXY header, or nothing), over TLS when
 * `tls`: the request headers the backend received, or the error when the gateway closed the connection.
 */
function requestAfter(header: Buffer | undefined, port: number, tls = false): Promise<BackendAnswer['headers'] | { error: string }> {
  return new Promise((resolve) => {
    // Without an agent, the request goes over the connection this makes (with `agent: false` Node would dial its own).
    const createConnection = (): Socket => {
      const socket = netConnect({ host: '127.0.0.1', port });
      if (header) socket.write(header);
      return tls ? tlsConnect({ socket, servername: 'a.example.com', rejectUnauthorized: false }) : socket;
    };
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host: 'a.example.com', connection: 'close' }, createConnection }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as BackendAnswer).headers : { error: `status ${res.statusCode}` }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ error: error.message }));
    req.end();
  });
}

// PROXY protocol (config-ferry proxy-protocol) on the external listeners of a real Envoy: raw TCP clients send v1 and
// v2 headers, the backend sees the address they carry.
describe('PROXY protocol through Ferry and a real Envoy', () => {
  let backend: HttpBackend;
  let env: FerryUnderTest;

  async function setOptions(data: Record<string, string>, effect: () => Promise<boolean>, description: string): Promise<void> {
    await env.writeManifest('config-ferry.yaml', configMapManifest('config-ferry', data));
    await waitFor(effect, 30_000, description);
  }
  /** When the gateway last took each listener (Envoy's config_dump). */
  async function listenersUpdated(): Promise<Map<string, string>> {
    const { host, port } = env.envoy.adminAddress;
    const dump = await (await fetch(`http://${host}:${port}/config_dump?resource=dynamic_listeners`)).json() as { configs: Array<{ name: string; active_state?: { last_updated: string } }> };
    return new Map(dump.configs.map((listener) => [listener.name, listener.active_state?.last_updated ?? '']));
  }
  const plainServed = async () => 'host' in (await requestAfter(undefined, env.ports.external.http));

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'app-a' });
    env = await startFerry({
      manifests: {
        'services.yaml': serviceWithEndpoints('app-a', backend.port),
        'ingress.yaml': ingressByHost('proxied', { 'a.example.com': 'app-a' }, { tls: { 'a.example.com': 'a-cert' } }),
        'a-cert.yaml': tlsSecretManifest('default', 'a-cert', selfSignedCertificate('a.example.com')),
        // The client address trusted from the start: turning PROXY protocol on then changes the external listeners only.
        'config-ferry.yaml': configMapManifest('config-ferry', { 'use-remote-address': 'true' }),
      },
      drainTimeSeconds: 30,
    });
    await waitFor(async () => (await request(env.ports.external.https, 'a.example.com', '/', {}, { tls: true })).status === 200, 30_000, 'a.example.com served over https');
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await stopAllEnvoys();
  });

  it('with proxy-protocol and use-remote-address, the backend sees the client of a v1 or v2 header; the local gateway is untouched', async () => {
    const { http, https } = env.ports.external;
    const local = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await localPortOf(env.ports.local.http, local);
    const updatedBefore = await listenersUpdated();
    await setOptions({ 'proxy-protocol': 'true', 'use-remote-address': 'true' }, async () => !(await plainServed()), 'a connection without a PROXY header refused');

    for (const [version, header, client] of [
      ['v1', proxyV1('203.0.113.9', 51234, http), '203.0.113.9'],
      ['v2', proxyV2('198.51.100.23', 40001, http), '198.51.100.23'],
      ['v2 IPv6', proxyV2('2001:db8::7', 40002, http), '2001:db8::7'],
    ] as const) {
      expect(await requestAfter(header, http), version).toMatchObject({ 'x-forwarded-for': client, 'x-envoy-external-address': client });
    }
    // The HTTPS listener reads the header before the TLS handshake.
    expect(await requestAfter(proxyV1('192.0.2.44', 40003, https), https, true)).toMatchObject({ 'x-forwarded-for': '192.0.2.44', 'x-envoy-external-address': '192.0.2.44' });
    expect(await requestAfter(undefined, https, true)).toHaveProperty('error');

    // The local listeners never take PROXY headers and were not replaced: their kept-alive connection of before is still
    // open and reused, and a new connection without a header is served.
    const updatedAfter = await listenersUpdated();
    expect(updatedAfter.get('local-http')).toBe(updatedBefore.get('local-http'));
    expect(updatedAfter.get('local-https')).toBe(updatedBefore.get('local-https'));
    expect(updatedAfter.get('external-http')).not.toBe(updatedBefore.get('external-http'));
    expect(await localPortOf(env.ports.local.http, local)).toBe(before);
    expect((await request(env.ports.local.http, 'a.example.com')).status).toBe(200);
    local.destroy();
  }, 60_000);

  it('a bad value is refused naming its key, the option before it stays; off again, plain connections are served', async () => {
    await env.writeManifest('config-ferry.yaml', configMapManifest('config-ferry', { 'proxy-protocol': 'v2', 'use-remote-address': 'true' }));
    const problems = env.ferry.files!.problems().filter((problem) => problem.file === 'config-ferry.yaml').map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems).toEqual(['data.proxy-protocol: "v2" is not one of true, false']);
    expect(await plainServed()).toBe(false);
    expect(await requestAfter(proxyV1('203.0.113.10', 51235, env.ports.external.http), env.ports.external.http)).toMatchObject({ 'x-forwarded-for': '203.0.113.10' });

    await setOptions({ 'use-remote-address': 'true' }, plainServed, 'plain connections served again');
    // Without PROXY protocol the client is the TCP peer again.
    expect(await requestAfter(undefined, env.ports.external.http)).toMatchObject({ 'x-envoy-external-address': '127.0.0.1' });
  }, 60_000);
});
