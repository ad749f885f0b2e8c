import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBootstrap, repositoryRoot } from '../../src/envoy/bootstrap.js';
import { ManagedEnvoy } from '../../src/envoy/managed-envoy.js';
import { certificateAuthority, selfSignedCertificate, signedCertificate, tlsSecretManifest, type TestCertificate } from './harness/certs.js';
import { freePort, printEnvoyLogsOnFailure, startHttpBackend, waitFor, type HttpBackend } from './harness/index.js';
import { serviceWithEndpoints } from './harness/manifests.js';

const ROOT = repositoryRoot();
const CLI = resolve(ROOT, 'dist/src/cli/main.js');
const SERVER_NAME = 'ferry-xds.test';
const run = promisify(execFile);

const work = mkdtempSync(join(tmpdir(), 'ferry-private-keys-'));
const manifests = join(work, 'manifests');
const xdsFiles = { cert: join(work, 'xds', 'tls.crt'), key: join(work, 'xds', 'tls.key'), ca: join(work, 'xds', 'ca.crt') };
/** Every private key the run handles: the xDS server's, the gateway's, and those of the ingresses' Secrets. */
const keys: Array<{ what: string; key: string }> = [];
let xdsCa: TestCertificate;
let ferryProcess: ChildProcess | undefined;
let ferryOutput = '';
let envoy: ManagedEnvoy | undefined;
let backend: HttpBackend;
let adminPort: number;
let httpsPort: number;

function tlsIngress(name: string, host: string, secret: string): string {
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  tls:
  - {hosts: [${host}], secretNamespace: default, secretName: ${secret}}
  rules:
  - hosts: [${host}]
    visibility: ExternalIP
    http:
      paths:
      - splits: [{serviceNamespace: default, serviceName: app, servicePort: 80, percent: 100}]
`;
}

function remember(what: string, certificate: TestCertificate): TestCertificate {
  keys.push({ what, key: certificate.key });
  return certificate;
}

function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

/**
 * What would give a key away, in every form a program might print it: a run of its PEM body, a run of the Secret's
 * base64 (the PEM encoded once more), the PEM text's bytes as a JSON Buffer ([45,45,...]) and as hex.
 */
function needles(key: string): string[] {
  // The second line of the PEM body: past the first line's ASN.1 header, which every P-256 key shares.
  const distinctive = key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'))[1]!;
  const offset = key.indexOf(distinctive);
  // The same bytes in the Secret's base64: 3 bytes of PEM give 4 characters, from a multiple of 3 on.
  const secretData = Buffer.from(key, 'utf8').toString('base64').slice(Math.ceil(offset / 3) * 4, Math.ceil(offset / 3) * 4 + 40);
  const bytes = Buffer.from(distinctive.slice(0, 16), 'latin1');
  return [distinctive.slice(0, 32), distinctive.slice(24, 56), secretData, [...bytes].join(','), bytes.toString('hex')];
}

/** The certificate the external HTTPS listener presents for `host`. */
function presentedCertificate(host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: host, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(raw ? new X509Certificate(raw).fingerprint256 : undefined);
    });
    socket.on('error', () => resolve(undefined));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

async function admin(path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${adminPort}${path}`);
  return `${res.status} ${await res.text()}`;
}

async function ferryCli(...args: string[]): Promise<string> {
  return run('node', [CLI, ...args], { cwd: ROOT }).then(({ stdout, stderr }) => `${stdout}${stderr}`, (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}${error.message}`);
}

describe('private keys never leave Ferry: logs, admin endpoints, CLI output, Envoy\'s config dump', () => {
  printEnvoyLogsOnFailure();

  beforeAll(async () => {
    if (!existsSync(resolve(ROOT, 'dist/src/xds/tls-credentials-listener.js'))) throw new Error(`${CLI} is older than the sources (no xDS mutual TLS): run npm run build`);
    const ca = xdsCa = certificateAuthority('ferry-test-ca');
    const xdsServer = remember('xDS server key', signedCertificate(ca, SERVER_NAME));
    const gateway = remember('gateway client key', signedCertificate(ca, 'gateway-keys'));
    mkdirSync(join(work, 'xds'));
    mkdirSync(join(work, 'gateway'));
    writeFileSync(xdsFiles.cert, xdsServer.cert);
    writeFileSync(xdsFiles.key, xdsServer.key);
    writeFileSync(xdsFiles.ca, ca.cert);
    writeFileSync(join(work, 'gateway', 'tls.crt'), gateway.cert);
    writeFileSync(join(work, 'gateway', 'tls.key'), gateway.key);
    writeFileSync(join(work, 'gateway', 'ca.crt'), ca.cert);
    backend = await startHttpBackend({ name: 'app' });
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'app.yaml'), serviceWithEndpoints('app', backend.port));
    writeFileSync(join(manifests, 'a.yaml'), `${tlsSecretManifest('default', 'a-cert', remember('a.example.com key', selfSignedCertificate('a.example.com')))}---\n${tlsIngress('a', 'a.example.com', 'a-cert')}`);
    adminPort = await freePort();
    httpsPort = await freePort();
    const xdsPort = await freePort();
    ferryProcess = spawn('node', [CLI, 'serve', '--manifests', manifests, '--envoy', 'none', '--log-level', 'debug',
      '--xds-address', `127.0.0.1:${xdsPort}`, '--admin-address', `127.0.0.1:${adminPort}`,
      '--xds-tls-cert', xdsFiles.cert, '--xds-tls-key', xdsFiles.key, '--xds-tls-client-ca', xdsFiles.ca,
      '--listen-address', '127.0.0.1', '--external-http-port', String(await freePort()), '--external-https-port', String(httpsPort),
      '--local-http-port', String(await freePort()), '--local-https-port', String(await freePort()), '--local-gateway', '127.0.0.1:1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    ferryProcess.stdout!.on('data', (chunk: Buffer) => { ferryOutput += chunk.toString('utf8'); });
    ferryProcess.stderr!.on('data', (chunk: Buffer) => { ferryOutput += chunk.toString('utf8'); });
    await waitFor(async () => (await admin('/readyz').catch(() => '')).startsWith('200'), 30_000, `Ferry ready (output so far:\n${ferryOutput})`);
    const template = readFileSync(join(ROOT, 'deploy', 'envoy', 'bootstrap-mtls.yaml'), 'utf8');
    const gatewayTls = { cert: join(work, 'gateway', 'tls.crt'), key: join(work, 'gateway', 'tls.key'), ca: join(work, 'gateway', 'ca.crt'), serverName: SERVER_NAME };
    envoy = new ManagedEnvoy({
      bootstrap: { yaml: renderBootstrap(template, { nodeId: 'gateway-keys', role: 'both', xdsAddress: '127.0.0.1', xdsPort, adminPort: 0, xdsTls: gatewayTls }) },
      name: 'gateway-keys', restart: false, stopTimeoutMs: 3_000, logLevel: 'debug',
    });
    await envoy.start();
    await envoy.ready();
  });

  afterAll(async () => {
    await envoy?.stop();
    if (ferryProcess && ferryProcess.exitCode === null) {
      const exited = new Promise((resolve) => ferryProcess!.once('exit', resolve));
      ferryProcess.kill('SIGTERM');
      await exited;
    }
    await backend?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('after TLS ingresses, rotations and invalid Secrets at debug level, no key material is found anywhere', async () => {
    const first = await waitFor(() => presentedCertificate('a.example.com'), 15_000, 'a.example.com served over HTTPS');

    // A certificate rotation of an ingress, and one of the xDS server.
    const rotated = remember('a.example.com key, rotated', selfSignedCertificate('a.example.com'));
    writeFileSync(join(manifests, 'a.yaml'), `${tlsSecretManifest('default', 'a-cert', rotated)}---\n${tlsIngress('a', 'a.example.com', 'a-cert')}`);
    const expected = new X509Certificate(rotated.cert).fingerprint256;
    await waitFor(async () => (await presentedCertificate('a.example.com')) === expected, 15_000, 'the rotated certificate served');
    expect(expected).not.toBe(first);
    const nextXds = remember('xDS server key, rotated', signedCertificate(xdsCa, SERVER_NAME));
    replaceFile(xdsFiles.cert, nextXds.cert);
    replaceFile(xdsFiles.key, nextXds.key);
    await waitFor(() => ferryOutput.includes('certificate and client CA reloaded'), 10_000, 'the xDS certificate reloaded');
    // xDS files that do not load: a key of another certificate.
    replaceFile(xdsFiles.key, remember('a key of no xDS certificate', selfSignedCertificate('nobody')).key);
    await waitFor(() => ferryOutput.includes('the changed files do not load'), 10_000, 'the bad xDS key reported');

    // Invalid Secrets: a key of another certificate (Envoy rejects it), a key not in base64, a file that is not YAML.
    const other = remember('mismatched Secret key', selfSignedCertificate('other.example.com'));
    const mismatched = { cert: selfSignedCertificate('b.example.com').cert, key: other.key };
    writeFileSync(join(manifests, 'b.yaml'), `${tlsSecretManifest('default', 'b-cert', mismatched)}---\n${tlsIngress('b', 'b.example.com', 'b-cert')}`);
    const raw = remember('key given as plain PEM in data', selfSignedCertificate('c.example.com'));
    writeFileSync(join(manifests, 'c.yaml'), `apiVersion: v1\nkind: Secret\nmetadata: {name: c-cert, namespace: default}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${Buffer.from(raw.cert).toString('base64')}\n  tls.key: ${JSON.stringify(raw.key)}\n---\n${tlsIngress('c', 'c.example.com', 'c-cert')}`);
    const broken = remember('key in a file that does not parse', selfSignedCertificate('d.example.com'));
    writeFileSync(join(manifests, 'd.yaml'), `${tlsSecretManifest('default', 'd-cert', broken).replace('  tls.key:', '   tls.key:')}  : [unclosed\n`);
    await waitFor(async () => (await admin('/debug/objects?kind=ingresses')).includes('"b"') && ferryOutput.includes('c.yaml') && ferryOutput.includes('d.yaml'), 15_000, 'Ferry read the invalid Secrets');
    await waitFor(async () => /GatewayRejected|rejected/i.test(await ferryCli('get', 'ingresses', '-o', 'yaml', '--admin', `127.0.0.1:${adminPort}`)), 15_000, 'the mismatched key reported on its ingress');

    // Everything an operator can see.
    const adminAddress = `127.0.0.1:${adminPort}`;
    const collected: Record<string, string> = {
      'ferry serve output': ferryOutput,
      'ferry validate': await ferryCli('validate', manifests),
      'ferry dump': await ferryCli('dump', '--admin', adminAddress),
      'ferry dump --type secrets -o yaml': await ferryCli('dump', '--type', 'secrets', '-o', 'yaml', '--admin', adminAddress),
      'ferry status': await ferryCli('status', '--admin', adminAddress),
      'ferry status -o json': await ferryCli('status', '-o', 'json', '--admin', adminAddress),
      'envoy config_dump': (await envoy!.admin.get('/config_dump?include_eds')).body,
      'envoy certs': (await envoy!.admin.get('/certs')).body,
      'envoy log': envoy!.logTail(100_000),
    };
    for (const kind of ['ingresses', 'routes', 'domainmappings']) {
      collected[`ferry get ${kind}`] = await ferryCli('get', kind, '-A', '--admin', adminAddress);
      collected[`ferry get ${kind} -o json`] = await ferryCli('get', kind, '-o', 'json', '--admin', adminAddress);
      collected[`admin /debug/objects?kind=${kind}`] = await admin(`/debug/objects?kind=${kind}`);
    }
    for (const path of ['/healthz', '/readyz', '/metrics', '/debug/config_dump', '/debug/config_dump?type=secrets', '/debug/status', '/debug/synced', '/debug/objects?kind=secrets', '/debug/config_dump?type=nothing', '/nothing']) {
      collected[`admin ${path}`] = await admin(path);
    }

    // The run did handle the keys: served (redacted) in the dumps, reported where they were wrong.
    expect(collected['envoy config_dump']).toContain('default/a-cert');
    // Envoy's own form of a redacted DataSource: the bytes "[redacted]", base64.
    expect(collected['ferry dump --type secrets -o yaml']).toContain(`private_key:\n                inline_bytes: ${Buffer.from('[redacted]').toString('base64')}`);
    expect(collected['ferry validate']).toMatch(/c\.yaml[^\n]*data\[tls\.key\]: is not base64/);
    expect(collected['ferry validate']).toContain('d.yaml');
    // And the needles do find a key where one is written.
    const manifestText = ['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml'].map((file) => readFileSync(join(manifests, file), 'utf8')).join('');
    expect(manifestText).toContain(needles(rotated.key)[2]);

    const found: string[] = [];
    for (const [source, text] of Object.entries(collected)) {
      if (text.includes('PRIVATE KEY-----')) found.push(`${source}: a PEM private key header`);
      for (const { what, key } of keys) {
        for (const needle of needles(key)) if (text.includes(needle)) found.push(`${source}: ${what} (${needle})`);
      }
    }
    expect(found).toEqual([]);
    console.log(`private keys: ${keys.length} keys, ${Object.keys(collected).length} outputs (${Object.values(collected).reduce((sum, text) => sum + text.length, 0)} characters) searched, none found`);
  });
});
