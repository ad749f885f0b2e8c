import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KIngress } from '../../../src/model/ingress.js';
import { probeHash } from '../../../src/translate/probe-hash.js';
import { backendOf, loadLoop, request, startFerry, startHttpBackend, stopAllEnvoys, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { answerOf, kingress, revisionService, split, toYaml } from './routing-manifests.js';
import { rawRequest } from './routing-raw-http.js';

const TAG_HEADER = 'Knative-Serving-Tag';
/** 10 revisions; the last two get 0% and must receive nothing. */
const SPLIT_PERCENTS = [30, 20, 15, 10, 10, 5, 5, 5, 0, 0];
const splitName = (i: number) => `ten-${String(i + 1).padStart(5, '0')}`;

const ingresses: KIngress[] = [
  kingress('basic', { rules: [{ hosts: ['basic.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('rev-a', 100)] }] } }] }),
  kingress('several-hosts', {
    rules: [
      { hosts: ['one.example.com', 'uno.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('rev-a', 100)] }] } },
      { hosts: ['two.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('rev-b', 100)] }] } },
    ],
  }),
  // Written catch-all first: Ferry must still match the longest prefix first.
  kingress('paths', {
    rules: [{
      hosts: ['paths.example.com'],
      visibility: 'ExternalIP',
      http: { paths: [{ splits: [split('rev-a', 100)] }, { path: '/api', splits: [split('rev-b', 100)] }, { path: '/api/v2', splits: [split('rev-c', 100)] }] },
    }],
  }),
  // Knative's tag routing: the tag header path before the plain one.
  kingress('tags', {
    rules: [{
      hosts: ['tags.example.com'],
      visibility: 'ExternalIP',
      http: { paths: [{ splits: [split('rev-a', 100)] }, { headers: { [TAG_HEADER]: { exact: 'canary' } }, splits: [split('rev-b', 100)] }] },
    }],
  }),
  kingress('ten', {
    rules: [{ hosts: ['ten.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: SPLIT_PERCENTS.map((percent, i) => split(splitName(i), percent)) }] } }],
  }),
  kingress('overwrite', {
    rules: [{
      hosts: ['overwrite.example.com'],
      visibility: 'ExternalIP',
      http: { paths: [{ appendHeaders: { 'X-Path-Level': 'from-path' }, splits: [split('rev-a', 100, { 'X-Split-Level': 'from-split', 'Knative-Serving-Revision': 'rev-a' })] }] },
    }],
  }),
  kingress('probe', {
    rules: [{
      hosts: ['probe.example.com'],
      visibility: 'ExternalIP',
      http: { paths: [{ splits: [split('rev-a', 100)] }, { path: '/deep', splits: [split('rev-b', 100)] }] },
    }],
  }),
];

describe('KIngress routing through Ferry (files mode) and a real Envoy', () => {
  const backends = new Map<string, HttpBackend>();
  let env: FerryUnderTest;
  let port: number;

  beforeAll(async () => {
    const names = ['rev-a', 'rev-b', 'rev-c', ...SPLIT_PERCENTS.map((_, i) => splitName(i))];
    for (const name of names) backends.set(name, await startHttpBackend({ name }));
    env = await startFerry({
      manifests: {
        'revisions.yaml': toYaml(...names.flatMap((name) => revisionService(name, backends.get(name)!.port))),
        'ingresses.yaml': toYaml(...ingresses),
      },
    });
    port = env.ports.external.http;
  });
  afterAll(async () => {
    await env?.close();
    for (const backend of backends.values()) await backend.close();
    await stopAllEnvoys();
  });

  it('routes a host to its revision, passing method and path through', async () => {
    const result = await request(port, 'basic.example.com', '/hello?name=world', {}, { method: 'POST' });
    expect(result.status).toBe(200);
    const answer = answerOf(result);
    expect(answer).toMatchObject({ backend: 'rev-a', method: 'POST', path: '/hello?name=world' });
    expect(answer.headers.host).toBe('basic.example.com');
    expect((await request(port, 'unknown.example.com', '/')).status).toBe(404);
  });

  it('serves several hosts of one KIngress, each rule to its own backend', async () => {
    expect(backendOf(await request(port, 'one.example.com', '/'))).toBe('rev-a');
    expect(backendOf(await request(port, 'uno.example.com', '/'))).toBe('rev-a');
    expect(backendOf(await request(port, 'two.example.com', '/'))).toBe('rev-b');
  });

  it('matches a Host header that carries a port', async () => {
    for (const host of ['basic.example.com:8080', 'basic.example.com:80', `basic.example.com:${port}`, 'two.example.com:8080']) {
      const result = await request(port, host, '/');
      expect(result.status, host).toBe(200);
      expect(backendOf(result), host).toBe(host.startsWith('two') ? 'rev-b' : 'rev-a');
    }
  });

  it('dispatches paths by literal prefix, longest first, with a catch-all', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v2/users', 'rev-c'],
      ['/api/v2', 'rev-c'],
      ['/api/v1/users', 'rev-b'],
      ['/api', 'rev-b'],
      ['/other', 'rev-a'],
      ['/', 'rev-a'],
    ];
    for (const [path, backend] of cases) expect(backendOf(await request(port, 'paths.example.com', path)), path).toBe(backend);
  });

  it('matches a header exactly (Knative tag routing)', async () => {
    expect(backendOf(await request(port, 'tags.example.com', '/', { [TAG_HEADER]: 'canary' }))).toBe('rev-b');
    expect(backendOf(await request(port, 'tags.example.com', '/', { [TAG_HEADER.toLowerCase()]: 'canary' }))).toBe('rev-b');
    expect(backendOf(await request(port, 'tags.example.com', '/', { [TAG_HEADER]: 'Canary' }))).toBe('rev-a');
    expect(backendOf(await request(port, 'tags.example.com', '/', { [TAG_HEADER]: 'canary-2' }))).toBe('rev-a');
    expect(backendOf(await request(port, 'tags.example.com', '/'))).toBe('rev-a');
  });

  it('splits traffic 10 ways by weight within 5 percentage points, 0% targets receiving none', async () => {
    const total = 2_000;
    const result = await loadLoop({ port, host: 'ten.example.com', durationMs: 50_000, maxRequests: total, concurrency: 8, keepAlive: true }).done;
    expect(result.failures).toEqual([]);
    expect(result.answeredBy).toHaveLength(total);
    const counts = new Map<string, number>();
    for (const name of result.answeredBy) counts.set(name, (counts.get(name) ?? 0) + 1);
    SPLIT_PERCENTS.forEach((percent, i) => {
      const share = ((counts.get(splitName(i)) ?? 0) / total) * 100;
      if (percent === 0) expect(counts.get(splitName(i)) ?? 0, splitName(i)).toBe(0);
      else expect(Math.abs(share - percent), `${splitName(i)}: ${share.toFixed(1)}% for ${percent}%`).toBeLessThanOrEqual(5);
    });
  });

  it('overwrites client-sent values of path-level and split-level appendHeaders', async () => {
    const result = await request(port, 'overwrite.example.com', '/', {
      'X-Path-Level': 'from-client',
      'X-Split-Level': 'from-client',
      'Knative-Serving-Revision': 'spoofed',
      'X-Untouched': 'from-client',
    });
    const { headers } = answerOf(result);
    expect(headers['x-path-level']).toBe('from-path');
    expect(headers['x-split-level']).toBe('from-split');
    expect(headers['knative-serving-revision']).toBe('rev-a');
    expect(headers['x-untouched']).toBe('from-client');
  });

  it('overwrites every copy of an appendHeaders header that a client sends twice', async () => {
    const result = await rawRequest(port, [
      'GET / HTTP/1.1', 'Host: overwrite.example.com',
      'X-Path-Level: client-1', 'X-Path-Level: client-2', 'X-Split-Level: client-1', 'x-split-level: client-2',
      'Connection: close', '', '',
    ].join('\r\n'));
    expect(result.status).toBe(200);
    // The answer is chunked: its JSON is the one object in the body.
    const { headers } = JSON.parse(result.body.slice(result.body.indexOf('{'), result.body.lastIndexOf('}') + 1)) as { headers: Record<string, string> };
    expect(headers['x-path-level']).toBe('from-path');
    expect(headers['x-split-level']).toBe('from-split');
  });

  it('answers Knative probes: K-Network-Hash override becomes the KIngress hash on every path', async () => {
    const ingress = ingresses.find((i) => i.metadata.name === 'probe')!;
    const hash = probeHash(ingress);
    const probeHeaders = { 'K-Network-Probe': 'probe', 'K-Network-Hash': 'override', 'User-Agent': 'Knative-Ingress-Probe' };
    // Knative's prober asks for /healthz; the queue-proxy answers probes on any path.
    for (const [path, backend] of [['/healthz', 'rev-a'], ['/', 'rev-a'], ['/deep/x', 'rev-b']] as const) {
      const result = await request(port, 'probe.example.com', path, probeHeaders);
      expect(result.status, path).toBe(200);
      const answer = answerOf(result);
      expect(answer.backend, path).toBe(backend);
      expect(answer.headers['k-network-hash'], path).toBe(hash);
      expect(answer.headers['k-network-probe'], path).toBe('probe');
    }
    const local = answerOf(await request(env.ports.local.http, 'probe.example.com', '/', probeHeaders));
    expect(local.headers['k-network-hash']).toBe(hash);
  });

  it('passes any other K-Network-Hash value through unchanged', async () => {
    for (const value of ['some-hash', 'Override', 'override-not']) {
      const answer = answerOf(await request(port, 'probe.example.com', '/', { 'K-Network-Probe': 'probe', 'K-Network-Hash': value }));
      expect(answer.headers['k-network-hash'], value).toBe(value);
    }
  });
});
