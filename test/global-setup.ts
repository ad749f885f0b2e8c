import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Fails the whole run loudly when the set-up that tests rely on is missing, instead of skipping. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  const needed: Array<[string, string]> = [
    ['.venv/bin/envoy', 'the real Envoy binary'],
    ['protos/dist/envoy/service/discovery/v3/ads.js', 'the generated Envoy types'],
    ['.cache/kube-tools.env', 'the kube-apiserver, kubectl and etcd of the kube tests (scripts/tools/kube.sh)'],
    ['.cache/cluster-tools.env', 'Knative Serving, kn and the conformance suite of the one-machine cluster (scripts/tools/knative.sh)'],
    ['dist/src/cli/main.js', 'the built Ferry CLI, which the one-machine cluster runs (npx tsc)'],
  ];
  // The files the tool env files name live outside the clone (a cache that may have been cleared since).
  const tools: Array<[string, string[]]> = [
    ['.cache/kube-tools.env', ['KUBE_APISERVER', 'KUBECTL', 'ETCD', 'KNATIVE_NETWORKING_CRDS', 'KUBE_CONTROLLER_MANAGER', 'KUBE_SCHEDULER', 'KUBE_PROXY']],
    ['.cache/cluster-tools.env', ['KN', 'KNATIVE_SERVING_BIN', 'KNATIVE_CONFORMANCE_BIN']],
  ];
  for (const [file, names] of tools) {
    if (!existsSync(resolve(root, file))) continue;
    const values = new Map(readFileSync(resolve(root, file), 'utf8').split('\n').filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const name of names) needed.push([values.get(name) || `(${name} not set)`, `${name} of ${file}`]);
  }
  const missing = needed.filter(([path]) => !existsSync(resolve(root, path)));
  if (missing.length > 0) {
    throw new Error(`test set-up incomplete: ${missing.map(([p, what]) => `${what} (${p})`).join(', ')} missing; run \`make test\`, which installs them`);
  }
}
