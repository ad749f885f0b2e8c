import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBootstrap, repositoryRoot, type BootstrapValues } from '../../src/envoy/bootstrap.js';
import { ManagedEnvoy, resolveEnvoyBinary } from '../../src/envoy/managed-envoy.js';
import { FerryMetrics } from '../../src/metrics.js';
import { Ferry } from '../../src/serve/ferry.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../../src/translate/envoy/index.js';
import { certificateAuthority, selfSignedCertificate, signedCertificate, type TestCertificate } from './harness/certs.js';
import { backendOf, freePort, printEnvoyLogsOnFailure, request, startHttpBackend, waitFor, type HttpBackend } from './harness/index.js';
import { ingressByHost, serviceWithEndpoints } from './harness/manifests.js';

/** The DNS name in Ferry's server certificate that the gateways check. */
const SERVER_NAME = 'ferry-xds.test';
/** HTTP/2's client connection preface: an accepted connection answers it with the server's SETTINGS. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1');

const work = mkdtempSync(join(tmpdir(), 'ferry-xds-mtls-'));
const manifests = join(work, 'manifests');
const serverFiles = { cert: join(work, 'server', 'tls.crt'), key: join(work, 'server', 'tls.key'), clientCa: join(work, 'server', 'ca.crt') };
const logs: string[] = [];
const envoys: ManagedEnvoy[] = [];
let ca: TestCertificate;
let serverCertificate: TestCertificate;
let backend: HttpBackend;
let ferry: Ferry;
let translateConfig: TranslateConfig;
let stopped = false;

/** Writes a file the way a Secret volume changes: the new content appears at once (rename), never half-written. */
function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

/** A gateway's client certificate, key and the CA it trusts for Ferry's certificate, in a folder of their own. */
function gatewayFiles(name: string, certificate: TestCertificate, trusted: TestCertificate): NonNullable<BootstrapValues['xdsTls']> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.crt'), certificate.cert);
  writeFileSync(join(dir, 'tls.key'), certificate.key);
  writeFileSync(join(dir, 'ca.crt'), trusted.cert);
  return { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt'), serverName: SERVER_NAME };
}

function mtlsBootstrap(nodeId: string, xdsTls: BootstrapValues['xdsTls']): string {
  const template = readFileSync(join(repositoryRoot(), 'deploy', 'envoy', 'bootstrap-mtls.yaml'), 'utf8');
  return renderBootstrap(template, { nodeId, role: 'both', xdsAddress: '127.0.0.1', xdsPort: ferry.xdsPort, adminPort: 0, xdsTls });
}

async function startMtlsEnvoy(nodeId: string, xdsTls: BootstrapValues['xdsTls']): Promise<ManagedEnvoy> {
  const envoy = new ManagedEnvoy({ bootstrap: { yaml: mtlsBootstrap(nodeId, xdsTls) }, name: nodeId, restart: false, stopTimeoutMs: 3_000 });
  envoys.push(envoy);
  await envoy.start();
  return envoy;
}

/**
 * One TLS connection to the xDS port that sends HTTP/2's preface: `accepted` when Ferry's HTTP/2 answered (its
 * SETTINGS frame), with the server certificate Ferry presented.
 */
function probe(client?: TestCertificate): Promise<{ accepted: boolean; serverCertificate?: X509Certificate }> {
  return new Promise((resolve) => {
    let received = 0;
    let presented: X509Certificate | undefined;
    const socket = tlsConnect({ host: '127.0.0.1', port: ferry.xdsPort, servername: SERVER_NAME, ALPNProtocols: ['h2'], rejectUnauthorized: false, ...(client && { cert: client.cert, key: client.key }) }, () => {
      presented = new X509Certificate(socket.getPeerCertificate().raw);
      socket.write(H2_PREFACE);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ accepted: received > 0, serverCertificate: presented }));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

/** A plaintext HTTP/2 client on the TLS port. */
function plaintextProbe(): Promise<void> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port: ferry.xdsPort }, () => socket.write(H2_PREFACE));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

async function refusedCount(reason: string): Promise<number> {
  const metric = await ferry.metrics.registry.getSingleMetric('ferry_xds_refused_connections_total')!.get();
  return metric.values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

const refusalLogs = (reason: string): number => logs.filter((line) => line.includes('xDS connection refused') && line.includes(`"reason":"${reason}"`)).length;

describe('xDS over mutual TLS (deploy/envoy/bootstrap-mtls.yaml, a real Envoy)', () => {
  printEnvoyLogsOnFailure();

  beforeAll(async () => {
    ca = certificateAuthority('ferry-test-ca');
    serverCertificate = signedCertificate(ca, SERVER_NAME);
    mkdirSync(join(work, 'server'));
    writeFileSync(serverFiles.cert, serverCertificate.cert);
    writeFileSync(serverFiles.key, serverCertificate.key);
    writeFileSync(serverFiles.clientCa, ca.cert);
    backend = await startHttpBackend({ name: 'app' });
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'app.yaml'), `${serviceWithEndpoints('app', backend.port)}---\n${ingressByHost('hello', { 'hello.example.com': 'app' })}`);
    translateConfig = {
      ...DEFAULT_TRANSLATE_CONFIG,
      bindAddress: '127.0.0.1',
      ports: { external: { http: await freePort(), https: await freePort() }, local: { http: await freePort(), https: await freePort() } },
    };
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logs.push(chunk.toString('utf8')); done(); } });
    ferry = new Ferry({
      source: { kind: 'files', manifests, watch: true }, xdsAddress: '127.0.0.1:0', xdsTls: serverFiles, adminAddress: { host: '127.0.0.1', port: 0 },
      translateConfig, envoy: 'none', logger: pino({ level: 'debug' }, sink), metrics: new FerryMetrics({ processMetrics: false }),
    });
    await ferry.start();
  });

  afterAll(async () => {
    await Promise.all(envoys.map((envoy) => envoy.stop()));
    if (!stopped) await ferry?.stop();
    await backend?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('the bootstrap is accepted by the real Envoy (--mode validate)', async () => {
    const path = join(work, 'validate.yaml');
    writeFileSync(path, mtlsBootstrap('gateway-validate', gatewayFiles('validate', signedCertificate(ca, 'gateway-validate'), ca)));
    const { stdout, stderr } = await promisify(execFile)(resolveEnvoyBinary(), ['--mode', 'validate', '-c', path, '--use-dynamic-base-id']);
    expect(`${stdout}${stderr}`).toMatch(/configuration .* OK/);
  });

  it('a gateway with a client certificate of the client CA connects and serves a route end to end', async () => {
    const envoy = await startMtlsEnvoy('gateway-mtls', gatewayFiles('gateway', signedCertificate(ca, 'gateway-mtls'), ca));
    await envoy.ready();
    const answer = await request(translateConfig.ports.external.http, 'hello.example.com');
    expect(answer.status).toBe(200);
    expect(backendOf(answer)).toBe('app');
    const stream = ferry.xds.streams().find((s) => s.nodeId === 'gateway-mtls');
    expect(stream?.peer).toContain('127.0.0.1');
    expect(logs.some((line) => line.includes('"tls":"mutual"') && line.includes('xDS server listening'))).toBe(true);
    const expiry = await ferry.metrics.registry.getSingleMetric('ferry_xds_tls_certificate_expiry_seconds')!.get();
    expect(expiry.values[0]?.value).toBe(Math.floor(new Date(new X509Certificate(serverCertificate.cert).validTo).getTime() / 1000));
  });

  it('refuses clients without a valid certificate (none, self-signed, another CA, expired, plaintext), counts each and logs each peer once', async () => {
    const clients: Array<[string, TestCertificate | undefined]> = [
      ['no_certificate', undefined],
      ['self_signed', selfSignedCertificate('intruder')],
      ['unknown_ca', signedCertificate(certificateAuthority('other-ca'), 'intruder')],
      ['expired', signedCertificate(ca, 'gateway-expired', -1)],
    ];
    for (const [reason, client] of clients) {
      const before = await refusedCount(reason);
      for (let attempt = 0; attempt < 2; attempt += 1) expect((await probe(client)).accepted, `${reason}, attempt ${attempt + 1}`).toBe(false);
      expect(await refusedCount(reason), reason).toBe(before + 2);
      expect(refusalLogs(reason), reason).toBe(1);
    }
    await plaintextProbe();
    await plaintextProbe();
    expect(await refusedCount('handshake_failed')).toBe(2);
    expect(refusalLogs('handshake_failed')).toBe(1);
    // A good client certificate passes the same probe: the refusals above are about the certificates.
    expect((await probe(signedCertificate(ca, 'gateway-probe'))).accepted).toBe(true);
    // A real Envoy with a certificate of another CA never gets a stream, whatever it retries.
    const before = await refusedCount('unknown_ca');
    const otherCa = certificateAuthority('other-ca');
    await startMtlsEnvoy('gateway-intruder', gatewayFiles('intruder', signedCertificate(otherCa, 'gateway-intruder'), ca));
    await waitFor(async () => (await refusedCount('unknown_ca')) >= before + 2, 15_000, 'the intruding Envoy refused twice');
    expect(ferry.xds.streams().map((s) => s.nodeId)).not.toContain('gateway-intruder');
    expect(logs.join('')).not.toContain(serverCertificate.key.split('\n')[1]);
  });

  it('a rotation of the server certificate and client CA applies to new connections; the connected gateway keeps its stream', async () => {
    const envoy = envoys.find((e) => e.name === 'gateway-mtls')!;
    const streamBefore = ferry.xds.streams().find((s) => s.nodeId === 'gateway-mtls')!;
    const connectionsBefore = await envoy.admin.stat('cluster.ferry_xds.upstream_cx_total');
    const nextCa = certificateAuthority('ferry-test-ca-2');
    const nextServer = signedCertificate(ca, SERVER_NAME);
    replaceFile(serverFiles.cert, nextServer.cert);
    replaceFile(serverFiles.key, nextServer.key);
    replaceFile(serverFiles.clientCa, nextCa.cert);
    await waitFor(() => logs.some((line) => line.includes('certificate and client CA reloaded')), 10_000, 'Ferry reloaded its TLS files');

    const fresh = await probe(signedCertificate(nextCa, 'gateway-next'));
    expect(fresh.accepted).toBe(true);
    expect(fresh.serverCertificate?.fingerprint256).toBe(new X509Certificate(nextServer.cert).fingerprint256);
    // The old CA's certificates no longer open new connections...
    expect((await probe(signedCertificate(ca, 'gateway-old'))).accepted).toBe(false);
    // ...but the gateway connected with one keeps its stream, and changes still reach it.
    writeFileSync(join(manifests, 'second.yaml'), ingressByHost('second', { 'second.example.com': 'app' }));
    await waitFor(async () => (await request(translateConfig.ports.external.http, 'second.example.com')).status === 200, 15_000, 'the new route served through the gateway connected before the rotation');
    const streamAfter = ferry.xds.streams().find((s) => s.nodeId === 'gateway-mtls');
    expect(streamAfter?.id).toBe(streamBefore.id);
    expect(await envoy.admin.stat('cluster.ferry_xds.upstream_cx_total')).toBe(connectionsBefore);
  });

  it('files that do not load stop Ferry at start, naming the flag and the file; the managed Envoy is refused', async () => {
    const start = async (xdsTls: typeof serverFiles, envoy: 'none' | 'managed' = 'none'): Promise<unknown> => {
      const other = new Ferry({
        source: { kind: 'files', manifests, watch: false }, xdsAddress: '127.0.0.1:0', xdsTls, adminAddress: { host: '127.0.0.1', port: 0 },
        translateConfig, envoy: envoy === 'none' ? 'none' : { mode: 'delta', adminPort: 0 }, logger: pino({ level: 'silent' }), metrics: new FerryMetrics({ processMetrics: false }),
      });
      return other.start().finally(() => other.stop());
    };
    await expect(start({ ...serverFiles, clientCa: join(work, 'missing.crt') })).rejects.toThrow(`--xds-tls-client-ca ${join(work, 'missing.crt')}: cannot read it (ENOENT)`);
    await expect(start({ ...serverFiles, cert: serverFiles.key })).rejects.toThrow(`--xds-tls-cert ${serverFiles.key}: holds no PEM certificate`);
    await expect(start(serverFiles, 'managed')).rejects.toThrow('the managed Envoy has no client certificate for mutual TLS; run Ferry with --envoy none');
  });

  it('files that do not load keep the certificate in use, with an error naming the file', async () => {
    const inUse = (await probe(signedCertificate(certificateAuthority('unused'), 'x'))).serverCertificate!.fingerprint256;
    replaceFile(serverFiles.key, signedCertificate(ca, 'someone-else').key);
    await waitFor(() => logs.some((line) => line.includes('the changed files do not load')), 10_000, 'Ferry reported the files that do not load');
    const error = logs.find((line) => line.includes('the changed files do not load'))!;
    expect(error).toContain(`is not the key of the certificate in --xds-tls-cert ${serverFiles.cert}`);
    expect(error).not.toContain('PRIVATE KEY');
    const metric = await ferry.metrics.registry.getSingleMetric('ferry_errors_total')!.get();
    expect(metric.values.find((value) => value.labels.reason === 'xds_tls_reload')?.value).toBe(1);
    const after = await probe(signedCertificate(certificateAuthority('unused'), 'x'));
    expect(after.serverCertificate?.fingerprint256).toBe(inUse);
  });

  it('stops promptly with a gateway connected over TLS', async () => {
    expect(ferry.xds.streams().map((s) => s.nodeId)).toContain('gateway-mtls');
    const started = Date.now();
    await ferry.stop();
    stopped = true;
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
