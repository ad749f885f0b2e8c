import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, tlsSecretManifest } from '../harness/certs.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { answerOf, kingress, revisionService, split, toYaml } from './routing-manifests.js';

const APPS = 24;
const TLS_APPS = [3, 11, 20];

/** Status, backend and certificate CN of one HTTPS request with SNI = Host = `host`. */
function httpsGet(port: number, host: string): Promise<{ status: number; backend: string | undefined; commonName: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', servername: host, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
      const commonName = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: body.startsWith('{') ? (JSON.parse(body) as { backend: string }).backend : undefined, commonName }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`https request to ${host} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

// The gateway Envoy is connected before Ferry starts, as the managed Envoy of `ferry serve` is: it takes the first
// pass batch by batch (4 KIngresses each here), and ends with everything, TLS and host conflicts included.
describe('a first pass handed over in batches to a connected Envoy', () => {
  let blue: HttpBackend;
  let green: HttpBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    blue = await startHttpBackend({ name: 'blue' });
    green = await startHttpBackend({ name: 'green' });
    const ingresses = Array.from({ length: APPS }, (_, i) => {
      const host = `app${i}.example.com`;
      const tls = TLS_APPS.includes(i) ? { tls: [{ hosts: [host], secretNamespace: 'default', secretName: `app${i}-cert` }] } : {};
      return kingress(`app${String(i).padStart(2, '0')}`, { ...tls, rules: [{ hosts: [host], visibility: 'ExternalIP', http: { paths: [{ splits: [split(`app${i}-1`, 100)] }] } }] });
    });
    // A younger KIngress listed first that claims app5's host: app5 (older) keeps it.
    const usurper = kingress('a-usurper', { rules: [{ hosts: ['app5.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('green-1', 100)] }] } }] });
    usurper.metadata.creationTimestamp = '2030-01-01T00:00:00Z';
    for (const ingress of ingresses) ingress.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
    env = await startFerry({
      envoyFirst: { firstPassBatch: 4 },
      manifests: {
        // A revision (a cluster) per app, so that every batch brings clusters of its own.
        'backends.yaml': toYaml(...Array.from({ length: APPS }, (_, i) => revisionService(`app${i}-1`, i % 2 ? green.port : blue.port)).flat(), ...revisionService('green-1', green.port)),
        'ingresses.yaml': toYaml(usurper, ...ingresses),
        ...Object.fromEntries(TLS_APPS.map((i) => [`cert${i}.yaml`, tlsSecretManifest('default', `app${i}-cert`, selfSignedCertificate(`app${i}.example.com`))])),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await blue?.close();
    await green?.close();
    await stopAllEnvoys();
  });

  it('serves every host, the TLS ones with their own certificate, and a contested host by its older KIngress', async () => {
    for (let i = 0; i < APPS; i++) {
      expect(answerOf(await request(env.ports.external.http, `app${i}.example.com`, '/')).backend, `app${i}`).toBe(i % 2 ? 'green' : 'blue');
    }
    for (const i of TLS_APPS) {
      expect(await httpsGet(env.ports.external.https, `app${i}.example.com`), `app${i} over https`).toEqual({ status: 200, backend: i % 2 ? 'green' : 'blue', commonName: `app${i}.example.com` });
    }
    expect(env.ferry.reconciler.current().ingresses.get('default/a-usurper')?.conflict?.winner).toBe('default/app05');
  });

  it('handed the clusters over in several responses (delta ADS), never a listener twice, and got no NACK', async () => {
    const metrics = await env.ferry.metrics.registry.getMetricsAsJSON();
    const value = (name: string, type: string) => metrics.find((m) => m.name === name)?.values.find((v) => v.labels.type === type)?.value ?? 0;
    // SotW sends nothing before the pass is complete (a partial set would remove the rest): one push then.
    if (process.env.FERRY_TEST_XDS_MODE !== 'sotw') expect(value('ferry_xds_pushes_total', 'clusters')).toBeGreaterThan(1);
    // Plain-HTTP listeners with the first batch, the https listeners once, complete: one response each time.
    expect(value('ferry_xds_pushes_total', 'listeners')).toBeLessThanOrEqual(2);
    expect(env.ferry.view.status().nacks).toEqual([]);
  });
});
