import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Fails the whole run loudly when the set-up that tests rely on is missing, instead of skipping. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  const needed: Array<[string, string]> = [
    ['.venv/bin/envoy', 'the real Envoy binary'],
    ['protos/dist/envoy/service/discovery/v3/ads.js', 'the generated Envoy types'],
  ];
  const missing = needed.filter(([path]) => !existsSync(resolve(root, path)));
  if (missing.length > 0) {
    throw new Error(`test set-up incomplete: ${missing.map(([p, what]) => `${what} (${p})`).join(', ')} missing; run \`make test\`, which installs them`);
  }
}
