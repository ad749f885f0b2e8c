import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_ROLES } from '../../src/xds/roles.js';
import { goldenCases, renderCase } from './golden-render.js';
import { envoyRejects, staticBootstrap } from './static-bootstrap.js';

const workDir = mkdtempSync(join(tmpdir(), 'ferry-envoy-validate-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('Envoy accepts the translated resources', () => {
  for (const caseName of goldenCases()) {
    it(caseName, async () => {
      const rendered = renderCase(caseName);
      for (const role of GATEWAY_ROLES) {
        const rejected = await envoyRejects(staticBootstrap(rendered.roles[role].resources), workDir, `${caseName}-${role}`);
        expect(rejected, `${caseName} (${role})`).toBeUndefined();
      }
    });
  }
});
