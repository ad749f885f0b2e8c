import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IngressSpec, KIngress } from '../../src/model/ingress.js';
import { probeHash } from '../../src/translate/probe-hash.js';

const VECTORS_BINARY = resolve(import.meta.dirname, '../../.cache/go-tools/knative-vectors');

function ingress(name: string, spec: IngressSpec, namespace = 'default'): KIngress {
  return { apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name, namespace }, spec };
}

const split = (serviceName: string, extra: object = {}) => ({ serviceNamespace: 'default', serviceName, servicePort: 80, ...extra });

const CASES: KIngress[] = [
  ingress('empty', {}),
  ingress('empty-arrays', { tls: [], rules: [] }),
  ingress('basic', { rules: [{ hosts: ['hello.default.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [split('hello-00001', { percent: 100 })] }] } }] }),
  ingress('no-visibility', { rules: [{ hosts: ['a.example.com'], http: { paths: [{ path: '/', splits: [split('a')] }] } }] }),
  ingress('rule-without-http', { rules: [{ hosts: ['a.example.com'] }] }),
  ingress('http-empty-paths', { rules: [{ hosts: ['a.example.com'], http: { paths: [] } }] }),
  ingress('html-chars', { rules: [{ hosts: ['a<b>&c.example.com'], http: { paths: [{ path: '/x?a=1&b=<2>', splits: [split('s&<>')] }] } }] }),
  ingress('unicode', { rules: [{ hosts: ['bücher.example.com', 'κόσμε.example', '日本.jp', '😀.emoji'], http: { paths: [{ splits: [split('ü')] }] } }] }, 'ns-ü'),
  ingress('control-chars', { rules: [{ hosts: ['tab\there', 'nl\nhere', 'bell\u0007', 'bs\b ff\f', 'quote"back\\slash', 'del\u007f', 'ls\u2028ps\u2029'], http: { paths: [{ splits: [split('x')] }] } }] }),
  ingress('string-port', { rules: [{ hosts: ['a'], http: { paths: [{ splits: [split('a', { servicePort: 'http2' })] }] } }] }),
  ingress('zero-port', { rules: [{ hosts: ['a'], http: { paths: [{ splits: [split('a', { servicePort: 0, percent: 0 })] }] } }] }),
  ingress('many-splits', {
    rules: [{ hosts: ['s.example.com'], http: { paths: [{ splits: Array.from({ length: 10 }, (_, i) => split(`rev-${i}`, { percent: i === 9 ? 0 : i + 1 })) }] } }],
  }),
  ingress('headers-maps', {
    rules: [{
      hosts: ['h.example.com'],
      http: { paths: [{
        path: '/api',
        headers: { 'X-Zeta': { exact: 'z' }, 'x-alpha': { exact: 'a' }, Accept: { exact: 'text/html' }, 'ü-key': { exact: '' }, 'é-key': { exact: 'é' }, '😀': { exact: 'e' }, '\uff61': { exact: 'f' } },
        appendHeaders: { 'Knative-Serving-Revision': 'r1', 'Knative-Serving-Namespace': 'default', 'a&b': '<x>' },
        splits: [split('r1', { percent: 100, appendHeaders: { 'K-Original-Host': 'x.com', 'B': '2', 'A': '1' } })],
      }] },
    }],
  }),
  ingress('empty-maps', { rules: [{ hosts: ['a'], http: { paths: [{ headers: {}, appendHeaders: {}, splits: [split('a', { appendHeaders: {} })] }] } }] }),
  ingress('rewrite-host', { rules: [{ hosts: ['dm.example.org'], http: { paths: [{ rewriteHost: 'hello.default.svc.cluster.local', splits: [split('hello', { servicePort: 80, percent: 100 })] }] } }] }),
  ingress('tls', {
    tls: [
      { hosts: ['a.example.com', 'b.example.com'], secretName: 'cert-a', secretNamespace: 'knative-serving' },
      { secretName: 'only-name', secretNamespace: '' },
      { hosts: [], secretName: '', secretNamespace: 'ns' },
    ],
    rules: [{ hosts: ['a.example.com'], http: { paths: [{ splits: [split('a')] }] } }],
    httpOption: 'Redirected',
  }),
  ingress('http-enabled', { rules: [{ hosts: ['a'], http: { paths: [{ splits: [split('a')] }] } }], httpOption: 'Enabled' }),
  ingress('cluster-local', {
    rules: [
      { hosts: ['hello.default', 'hello.default.svc', 'hello.default.svc.cluster.local'], visibility: 'ClusterLocal', http: { paths: [{ splits: [split('hello-00001', { percent: 100 })] }] } },
      { hosts: ['hello.default.example.com'], visibility: 'ExternalIP', http: { paths: [{ path: '/b', splits: [split('b', { percent: 30 }), split('c', { percent: 70 })] }, { path: '', splits: [split('d')] }] } },
    ],
  }),
  ingress('long-names-namespace', { rules: [{ hosts: ['x'], http: { paths: [{ splits: [split('y')] }] } }] }, 'a-very-long-namespace-name-with-dashes-0123456789'),
  ingress('empty-host-strings', { rules: [{ hosts: [''], http: { paths: [{ path: '', splits: [{ serviceNamespace: '', serviceName: '', servicePort: '' }] }] } }] }),
  ingress('\u00e9t\u00e9', { rules: [{ hosts: ['été'], http: { paths: [{ splits: [split('été')] }] } }] }, 'ünï'),
];

describe('probeHash (K-Network-Hash)', () => {
  it("matches Knative's own ComputeHash on varied ingresses", () => {
    if (!existsSync(VECTORS_BINARY)) {
      throw new Error(`${VECTORS_BINARY} is missing: run \`make test\` (it builds the Go test tools via scripts/tools/*.sh)`);
    }
    const stdin = CASES.map((c) => JSON.stringify(c)).join('\n');
    const fromKnative = execFileSync(VECTORS_BINARY, { input: stdin, encoding: 'utf8' }).trim().split('\n');
    expect(fromKnative).toHaveLength(CASES.length);
    const fromFerry = CASES.map(probeHash);
    const mismatches = CASES.map((c, i) => ({ name: c.metadata.name, knative: fromKnative[i], ferry: fromFerry[i] })).filter((m) => m.knative !== m.ferry);
    expect(mismatches).toEqual([]);
  });
});
