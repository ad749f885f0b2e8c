import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkManifests } from '../../src/cli/check-manifests.js';
import { formatValidationError } from '../../src/model/validation-error.js';
import { DEFAULT_TRANSLATE_CONFIG, resourceToJson, type TranslateConfig } from '../../src/translate/envoy/index.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { GATEWAY_ROLES } from '../../src/xds/roles.js';
import type { XdsCache } from '../../src/xds/cache.js';
import { envoyRejects, staticBootstrap, type StaticResources } from '../translate/static-bootstrap.js';
import { anyManifest, inNamespace, manifestInput, mutated } from './arbitraries.js';
import { TLS_SECRET } from './tls-secret.js';

const workDir = mkdtempSync(join(tmpdir(), 'ferry-properties-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let folders = 0;

/** `ferry validate` on these files (name → documents): its problems and what Ferry would serve. */
async function validateFiles(files: Record<string, ReadonlyArray<unknown>>, config: Partial<TranslateConfig> = {}) {
  const dir = join(workDir, `run-${folders++}`);
  mkdirSync(dir);
  for (const [name, documents] of Object.entries(files)) writeFileSync(join(dir, name), documents.map((d) => JSON.stringify(d)).join('\n---\n'));
  return checkManifests(dir, { ...DEFAULT_TRANSLATE_CONFIG, bindAddress: '127.0.0.1', ...config });
}

function servedResources(cache: XdsCache, role: (typeof GATEWAY_ROLES)[number]): StaticResources {
  const json = (typeUrl: TypeUrl) => cache.list([role], typeUrl).map((resource) => resourceToJson(resource, { revealPrivateKeys: true }) as Record<string, any>);
  return { listeners: json(TypeUrl.Listener), routes: json(TypeUrl.Route), clusters: json(TypeUrl.Cluster), endpoints: json(TypeUrl.Endpoint), secrets: json(TypeUrl.Secret), scopedroutes: json(TypeUrl.ScopedRoute) };
}

const figures = { tried: 0, valid: 0, envoyRuns: 0, manifestsTried: 0 };
afterAll(() => {
  console.log(`hostile properties: ${figures.manifestsTried} arbitrary manifests validated without a crash; ${figures.tried} generated KIngress inputs, `
    + `${figures.valid} of them valid, all accepted by Envoy in ${figures.envoyRuns} envoy --mode validate runs`);
});

describe('property: validation answers any manifest', () => {
  it('never throws, and every problem names its file; an object it cannot check is never served silently', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(mutated, anyManifest), { minLength: 1, maxLength: 6 }), async (objects) => {
      figures.manifestsTried += objects.length;
      const check = await validateFiles({ 'any.yaml': objects });
      for (const problem of check.problems) {
        expect(problem.file, formatValidationError(problem)).toBeDefined();
        // The catch-all of parseManifests is for gaps in validation: a generated input must never reach it.
        expect(problem.message, formatValidationError(problem)).not.toMatch(/cannot be checked/);
      }
    }), { numRuns: 600 });
  });
});

describe('property: every generated input that passes validation yields configuration Envoy accepts', () => {
  // Inputs are checked in batches: one `ferry validate` and one `envoy --mode validate` per role for 40 inputs, each
  // in a namespace of its own (their hosts may still meet: then DomainConflict decides, as in a cluster).
  const BATCH = 40;
  // Sharded: two shards per kind, so that a batch's KIngresses share tables (a repeated domain would be refused there).
  it.each(['scoped', 'sharded', 'single'] as const)('route tables %s', async (routeTables) => {
    await fc.assert(fc.asyncProperty(fc.array(manifestInput, { minLength: 1, maxLength: BATCH, size: 'max' }), async (inputs) => {
      const files = Object.fromEntries(inputs.map((objects, i) => [`input-${i}.yaml`, [...inNamespace(objects, `p${i}`), { ...TLS_SECRET, metadata: { name: 'cert', namespace: `p${i}` } }]]));
      const check = await validateFiles(files, { routeTables, routeTableShards: 2 });
      const invalid = new Set(check.problems.filter((p) => p.severity === 'error').map((p) => p.file));
      figures.tried += inputs.length;
      figures.valid += inputs.length - invalid.size;
      for (const role of GATEWAY_ROLES) {
        figures.envoyRuns++;
        const rejected = await envoyRejects(staticBootstrap(servedResources(check.cache, role)), workDir, `${routeTables}-${role}`);
        expect(rejected, `Envoy rejected what Ferry serves (${role}) for valid inputs`).toBeUndefined();
      }
    }), { numRuns: 20, interruptAfterTimeLimit: 40_000 });
  }, 120_000);
});
