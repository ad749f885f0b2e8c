import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdminJson } from '../../../src/cli/admin-client.js';
import type { ObjectRow, StatusReport } from '../../../src/status/views.js';
import { backendOf, printEnvoyLogsOnFailure, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { serviceWithEndpoints } from '../harness/manifests.js';

/*
 * Sharded route tables hold several KIngresses per table, so a route table Envoy rejects is several KIngresses' at
 * once: one shard here, so both KIngresses share the table. The input: a header value longer than Envoy's 16 KiB limit
 * on header values (Ferry's validation does not bound the length; Envoy's proto validation does). Envoy's message
 * dumps the whole table before its reason and is cut at 4 KiB, so it does not say which virtual host it refused: every
 * member of the shard is reported (rejected-objects.ts narrows it when the message names one).
 */

function kingress(name: string, service: string, headerValue = 'yes'): string {
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: ${name}, namespace: default, annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}}
spec:
  rules:
  - hosts: [${name}.example.com]
    visibility: ExternalIP
    http: {paths: [{splits: [{serviceNamespace: default, serviceName: ${service}, servicePort: 80, percent: 100}], appendHeaders: {X-Value: "${headerValue}"}}]}
`;
}

describe('a rejected shard route table is reported on its KIngresses', () => {
  let first: HttpBackend;
  let second: HttpBackend;
  let env: FerryUnderTest;
  printEnvoyLogsOnFailure();

  const admin = () => `127.0.0.1:${env.ferry.adminPort}`;
  const ingressRows = async () => new Map((await getAdminJson<ObjectRow[]>(admin(), '/debug/objects?kind=ingresses')).map((row) => [row.name, row]));

  beforeAll(async () => {
    first = await startHttpBackend({ name: 'first' });
    second = await startHttpBackend({ name: 'second' });
    env = await startFerry({
      manifests: {
        'services.yaml': `${serviceWithEndpoints('first', first.port)}---\n${serviceWithEndpoints('second', second.port)}`,
        'a.yaml': kingress('a', 'first'),
        'b.yaml': kingress('b', 'first'),
      },
      translateConfig: { routeTables: 'sharded', routeTableShards: 1 },
    });
    for (const host of ['a.example.com', 'b.example.com']) {
      await waitFor(async () => backendOf(await request(env.ports.external.http, host)) === 'first', 15_000, `${host} served`);
    }
    await waitFor(async () => [...(await ingressRows()).values()].every((row) => row.ready === 'True'), 15_000, 'every KIngress Ready');
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([first?.close(), second?.close()]);
    await stopAllEnvoys();
  });

  it('reports every member of the rejected shard; the gateway keeps the last good table; fixing b ends it', async () => {
    await env.writeManifest('b.yaml', kingress('b', 'second', 'x'.repeat(17_000)));
    const rows = await waitFor(async () => {
      const current = await ingressRows();
      return current.get('b')?.reason === 'GatewayRejected' && current.get('a')?.reason === 'GatewayRejected' ? current : undefined;
    }, 20_000, 'KIngresses a and b reported as rejected');
    for (const name of ['a', 'b']) expect(rows.get(name)!.message).toMatch(/^gateway \S+ rejected routes both\/shard-0-of-1: .*\(truncated\)/s);
    expect((await getAdminJson<StatusReport>(admin(), '/debug/status')).nacks.map((nack) => nack.resources)).toEqual([['both/shard-0-of-1']]);
    // The gateway serves the table it accepted last: b still goes to the first backend, a is served as before.
    expect(backendOf(await request(env.ports.external.http, 'b.example.com'))).toBe('first');
    expect(backendOf(await request(env.ports.external.http, 'a.example.com'))).toBe('first');

    await env.writeManifest('b.yaml', kingress('b', 'second'));
    await waitFor(async () => backendOf(await request(env.ports.external.http, 'b.example.com')) === 'second', 20_000, 'b served from the second backend once fixed');
    await waitFor(async () => [...(await ingressRows()).values()].every((row) => row.ready === 'True'), 20_000, 'every KIngress Ready again');
    expect((await getAdminJson<StatusReport>(admin(), '/debug/status')).nacks).toEqual([]);
  });
});
