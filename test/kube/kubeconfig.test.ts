import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiServerAccess } from '../../src/kube/kubeconfig.js';

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-kubeconfig-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const path = join(dir, 'config');
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'team' } }],
  }));
  return path;
}

describe('reaching the API server a kubeconfig names', () => {
  it('reads the server, a CA file relative to the kubeconfig and a token', async () => {
    const access = loadApiServerAccess(kubeconfig({ 'certificate-authority': 'ca.crt' }, { token: 'secret' }, { 'ca.crt': 'CA PEM' }));
    expect([access.server, access.proxied]).toEqual(['https://127.0.0.1:6443', false]);
    const options = await access.requestOptions();
    expect(options.ca).toBe('CA PEM');
    expect(options.headers).toEqual({ Authorization: 'Bearer secret' });
  });

  it('reads a token file again for every request options (a rotated token is used)', async () => {
    const path = kubeconfig({ 'insecure-skip-tls-verify': true }, { tokenFile: 'token' }, { token: 'first\n' });
    const access = loadApiServerAccess(path);
    expect((await access.requestOptions()).headers).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(join(path, '..', 'token'), 'second');
    const options = await access.requestOptions();
    expect(options.headers).toEqual({ Authorization: 'Bearer second' });
    expect(options.rejectUnauthorized).toBe(false);
  });

  it('takes client certificates from data and basic auth with impersonation', async () => {
    const access = loadApiServerAccess(kubeconfig({}, {
      'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64'), username: 'admin', password: 'pw', as: 'someone',
    }));
    const options = await access.requestOptions();
    expect([options.cert, options.key]).toEqual(['CERT', 'KEY']);
    expect(options.headers).toEqual({ Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'Impersonate-User': 'someone' });
  });

  it('hands an exec plugin to the client library', async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    const access = loadApiServerAccess(kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`] } }));
    expect((await access.requestOptions()).headers).toMatchObject({ Authorization: 'Bearer from-exec' });
  });

  it('says what is missing when the current context names no cluster', () => {
    const path = kubeconfig({}, {});
    writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'nowhere' }));
    expect(() => loadApiServerAccess(path)).toThrow(/has no current context with a cluster/);
  });
});
