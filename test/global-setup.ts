import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Fails the whole run loudly when the set-up that tests rely on is missing, instead of skipping. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  const needed: Array<[string, string]> = [
    ['.venv/bin/envoy', 'the real Envoy binary'],
    ['protos/dist/envoy/service/discovery/v3/ads.js', 'the generated Envoy types'],
    ['.cache/kube-tools.env', 'the kube-apiserver, kubectl and etcd of the kube tests (scripts/tools/kube.sh)'],
  ];
  // The files kube-tools.env names live outside the clone (a cache that may have been cleared since).
  const kubeTools = resolve(root, '.cache/kube-tools.env');
  if (existsSync(kubeTools)) {
    const values = new Map(readFileSync(kubeTools, 'utf8').split('\n').filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const name of ['KUBE_APISERVER', 'KUBECTL', 'ETCD', 'KNATIVE_NETWORKING_CRDS']) {
      needed.push([values.get(name) || `(${name} not set)`, `${name} of .cache/kube-tools.env`]);
    }
  }
  const missing = needed.filter(([path]) => !existsSync(resolve(root, path)));
  if (missing.length > 0) {
    throw new Error(`test set-up incomplete: ${missing.map(([p, what]) => `${what} (${p})`).join(', ')} missing; run \`make test\`, which installs them`);
  }
}
