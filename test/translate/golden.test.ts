import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, goldenCases, goldenFiles, renderCase } from './golden-render.js';

/**
 * Golden files: test/golden/<case>/input.yaml and beside it the expected resources per role.
 * Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/translate` and review the diff.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('golden translation', () => {
  for (const caseName of goldenCases()) {
    it(caseName, () => {
      for (const [file, text] of goldenFiles(renderCase(caseName))) {
        const path = join(GOLDEN_DIR, caseName, file);
        if (UPDATE) {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, text);
        } else {
          if (!existsSync(path)) throw new Error(`${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/translate and review the new files`);
          expect(text, `${caseName}/${file}`).toBe(readFileSync(path, 'utf8'));
        }
      }
    });
  }
});
