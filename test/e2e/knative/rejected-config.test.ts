import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdminJson } from '../../../src/cli/admin-client.js';
import type { ObjectRow, StatusReport } from '../../../src/status/views.js';
import { fingerprintOf, presentedFingerprint, selfSignedCertificate, tlsSecretManifest, type TestCertificate } from '../harness/certs.js';
import { backendOf, printEnvoyLogsOnFailure, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { serviceWithEndpoints } from '../harness/manifests.js';

/*
 * Issue 14, rejected configuration: an input that makes Envoy NACK is isolated to its object. The input is a TLS
 * Secret whose tls.crt is not a certificate: Ferry's validation checks that tls.crt and tls.key are there and base64,
 * not what they hold, and Envoy refuses the SDS update ("Failed to load certificate chain"). A certificate rotation that
 * goes wrong that way must not stop the other ingresses, must say so on the KIngress that uses the Secret, in the admin
 * status and in the metrics, while the gateway keeps serving the last good certificate; fixing the Secret ends it.
 */

const NOT_A_CERTIFICATE: TestCertificate = {
  cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
  key: selfSignedCertificate('broken.example.com').key,
};

function tlsIngress(name: string, host: string, secret: string, service: string): string {
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: ${name}, namespace: default, annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}}
spec:
  tls: [{hosts: [${host}], secretName: ${secret}, secretNamespace: default}]
  rules:
  - hosts: [${host}]
    visibility: ExternalIP
    http: {paths: [{splits: [{serviceNamespace: default, serviceName: ${service}, servicePort: 80, percent: 100}]}]}
`;
}

function secured(name: string, host: string, certificate: TestCertificate, service = 'first'): string {
  return `${tlsSecretManifest('default', `cert-${name}`, certificate)}---\n${tlsIngress(name, host, `cert-${name}`, service)}`;
}

describe('a configuration Envoy rejects is isolated to its object and recovers when fixed', () => {
  let first: HttpBackend;
  let second: HttpBackend;
  let env: FerryUnderTest;
  const certificates = { a: selfSignedCertificate('a.example.com'), b: selfSignedCertificate('b.example.com') };
  printEnvoyLogsOnFailure();

  const admin = () => `127.0.0.1:${env.ferry.adminPort}`;
  const ingressRows = async () => new Map((await getAdminJson<ObjectRow[]>(admin(), '/debug/objects?kind=ingresses')).map((row) => [row.name, row]));
  const metricLines = async (prefix: string): Promise<string[]> =>
    (await (await fetch(`http://${admin()}/metrics`)).text()).split('\n').filter((line) => line.startsWith(prefix));
  const rejectedMetric = () => metricLines('ferry_xds_rejected_resources{');
  const secretNacks = async () => Number((await metricLines('ferry_xds_nacks_total{type="secrets"}'))[0]?.split(' ')[1] ?? 0);

  beforeAll(async () => {
    first = await startHttpBackend({ name: 'first' });
    second = await startHttpBackend({ name: 'second' });
    env = await startFerry({
      manifests: {
        'services.yaml': `${serviceWithEndpoints('first', first.port)}---\n${serviceWithEndpoints('second', second.port)}`,
        'a.yaml': secured('a', 'a.example.com', certificates.a),
        'b.yaml': secured('b', 'b.example.com', certificates.b),
      },
    });
    await waitFor(async () => (await presentedFingerprint(env.ports.external.https, 'a.example.com')) === fingerprintOf(certificates.a), 15_000, 'a.example.com served with its certificate');
    await waitFor(async () => [...(await ingressRows()).values()].every((row) => row.ready === 'True'), 15_000, 'every KIngress Ready');
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([first?.close(), second?.close()]);
    await stopAllEnvoys();
  });

  it('reports the rejection on the KIngress, in the admin status and in the metrics, keeps the last good certificate, and lets the others change', async () => {
    const https = env.ports.external.https;
    await env.writeManifest('a.yaml', secured('a', 'a.example.com', NOT_A_CERTIFICATE));

    // On the object: `ferry get ingresses` (the admin endpoint behind it) says which gateway refused what, and why.
    const rejected = await waitFor(async () => {
      const row = (await ingressRows()).get('a');
      return row?.reason === 'GatewayRejected' ? row : undefined;
    }, 20_000, 'KIngress a reported as rejected');
    expect(rejected.ready).toBe('False');
    expect(rejected.message).toMatch(/rejected secrets default\/cert-a: Failed to load certificate chain/);
    // In the admin status (`ferry status`): the rejected resource alone, with Envoy's message.
    const status = await getAdminJson<StatusReport>(admin(), '/debug/status');
    expect(status.nacks).toEqual([expect.objectContaining({ type: 'secrets', resources: ['default/cert-a'], message: expect.stringMatching(/Failed to load certificate chain/) })]);
    // In the metrics: the resource, counted per gateway that rejects it.
    expect(await rejectedMetric()).toEqual(['ferry_xds_rejected_resources{type="secrets",resource="default/cert-a"} 1']);
    // The gateway keeps the last good certificate: a.example.com is still served, with its old certificate.
    expect(await presentedFingerprint(https, 'a.example.com')).toBe(fingerprintOf(certificates.a));

    // Other ingresses keep updating while the rejection stands: a certificate rotation, a backend swap, a new KIngress.
    const rotated = selfSignedCertificate('b.example.com');
    await env.writeManifest('b.yaml', secured('b', 'b.example.com', rotated, 'second'));
    await env.writeManifest('c.yaml', secured('c', 'c.example.com', selfSignedCertificate('c.example.com'), 'second'));
    await waitFor(async () => (await presentedFingerprint(https, 'b.example.com')) === fingerprintOf(rotated), 20_000, 'b.example.com rotated');
    await waitFor(async () => backendOf(await request(env.ports.external.http, 'b.example.com')) === 'second', 20_000, 'b.example.com swapped to the second backend');
    await waitFor(async () => backendOf(await request(env.ports.external.http, 'c.example.com')) === 'second', 20_000, 'c.example.com served');
    await waitFor(async () => {
      const rows = await ingressRows();
      return rows.get('b')?.ready === 'True' && rows.get('c')?.ready === 'True' && rows.get('a')?.reason === 'GatewayRejected';
    }, 20_000, 'b and c Ready while a stays rejected');
    expect(await presentedFingerprint(https, 'a.example.com')).toBe(fingerprintOf(certificates.a));
    expect((await getAdminJson<StatusReport>(admin(), '/debug/status')).nacks.map((nack) => nack.resources)).toEqual([['default/cert-a']]);

    // Fixed: the new certificate goes out by itself, and nothing is reported any more.
    const fixed = selfSignedCertificate('a.example.com');
    await env.writeManifest('a.yaml', secured('a', 'a.example.com', fixed));
    await waitFor(async () => (await presentedFingerprint(https, 'a.example.com')) === fingerprintOf(fixed), 20_000, 'a.example.com serves the fixed certificate');
    await waitFor(async () => (await ingressRows()).get('a')?.ready === 'True', 20_000, 'KIngress a Ready again');
    expect((await getAdminJson<StatusReport>(admin(), '/debug/status')).nacks).toEqual([]);
    expect(await rejectedMetric()).toEqual([]);
    certificates.a = fixed;
    certificates.b = rotated;
  });

  it('ties the rejection to the one bad Secret of two that changed in one pass, and applies the other', async () => {
    const https = env.ports.external.https;
    const nacksBefore = await secretNacks();
    const rotated = selfSignedCertificate('b.example.com');
    // Both files in the same tick: one pass that changes both Secrets.
    writeFileSync(join(env.dir, 'b.yaml'), secured('b', 'b.example.com', rotated, 'second'));
    await env.writeManifest('a.yaml', secured('a', 'a.example.com', NOT_A_CERTIFICATE));

    await waitFor(async () => (await presentedFingerprint(https, 'b.example.com')) === fingerprintOf(rotated), 20_000, 'b.example.com rotated');
    const rows = await waitFor(async () => {
      const current = await ingressRows();
      return current.get('a')?.reason === 'GatewayRejected' && current.get('b')?.ready === 'True' ? current : undefined;
    }, 20_000, 'a rejected, b Ready');
    expect(rows.get('a')!.message).toMatch(/rejected secrets default\/cert-a: Failed to load certificate chain/);
    expect((await getAdminJson<StatusReport>(admin(), '/debug/status')).nacks.map((nack) => nack.resources)).toEqual([['default/cert-a']]);
    // Changed Secrets go to a gateway one per response (Envoy's SDS ACKs a rejected content sent again without applying
    // it, so a rejected update of several could not be told apart afterwards): one NACK, of cert-a alone.
    expect(await secretNacks() - nacksBefore).toBe(1);
    expect(await presentedFingerprint(https, 'a.example.com')).toBe(fingerprintOf(certificates.a));

    const fixed = selfSignedCertificate('a.example.com');
    await env.writeManifest('a.yaml', secured('a', 'a.example.com', fixed));
    await waitFor(async () => (await presentedFingerprint(https, 'a.example.com')) === fingerprintOf(fixed), 20_000, 'a.example.com serves the fixed certificate');
    await waitFor(async () => [...(await ingressRows()).values()].every((row) => row.ready === 'True'), 20_000, 'every KIngress Ready again');
    expect(await rejectedMetric()).toEqual([]);
  });

  it('serves the other new hosts when a new KIngress comes with a certificate Envoy refuses, and that one once fixed', async () => {
    const https = env.ports.external.https;
    const fresh = selfSignedCertificate('e.example.com');
    await env.writeManifest('d.yaml', secured('d', 'd.example.com', NOT_A_CERTIFICATE));
    await env.writeManifest('e.yaml', secured('e', 'e.example.com', fresh));
    await waitFor(async () => (await presentedFingerprint(https, 'e.example.com')) === fingerprintOf(fresh), 20_000, 'e.example.com served with its certificate');
    const rows = await waitFor(async () => {
      const current = await ingressRows();
      return current.get('d')?.reason === 'GatewayRejected' && current.get('e')?.ready === 'True' ? current : undefined;
    }, 20_000, 'd rejected, e Ready');
    expect(rows.get('d')!.message).toMatch(/rejected secrets default\/cert-d: Failed to load certificate chain/);
    expect(rows.get('a')!.ready).toBe('True');

    const fixed = selfSignedCertificate('d.example.com');
    await env.writeManifest('d.yaml', secured('d', 'd.example.com', fixed));
    await waitFor(async () => (await presentedFingerprint(https, 'd.example.com')) === fingerprintOf(fixed), 20_000, 'd.example.com served once fixed');
    await waitFor(async () => [...(await ingressRows()).values()].every((row) => row.ready === 'True'), 20_000, 'every KIngress Ready');
    expect(await rejectedMetric()).toEqual([]);
  });
});
