import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAllEnvoys } from '../e2e/harness/index.js';
import { startObservedFerry, type ObservedFerry } from '../admin/capture-ferry.js';
import { helloManifests } from '../admin/fixtures.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** The ferry binary as users run it: compiled by tsc into a private folder (under node_modules, so packages resolve). */
describe('the ferry binary, as a subprocess', () => {
  let outDir: string;
  let env: ObservedFerry;

  beforeAll(async () => {
    outDir = mkdtempSync(join(root, 'node_modules', '.cache-ferry-cli-'));
    await run('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', outDir], { cwd: root }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed, so the CLI cannot be run as a process:\n${error.stdout ?? String(error)}`);
    });
    env = await startObservedFerry(helloManifests(9));
  }, 180_000);
  afterAll(async () => {
    await env?.close();
    await stopAllEnvoys();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const ferry = (...args: string[]) => run('node', [join(outDir, 'src/cli/main.js'), ...args], { cwd: root })
    .then(({ stdout }) => ({ code: 0, stdout, stderr: '' }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));

  it('runs status --wait, get and dump against a running Ferry, and reports usage mistakes with exit 2', async () => {
    const status = await ferry('status', '--wait', '--timeout', '20s', '--admin', env.admin);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^NODE\s+ROLE\s+ADDRESS\s+CDS\s+EDS\s+SDS\s+LDS\s+SRDS\s+RDS\ngateway-both\s+external,local\s+\S+\s+SYNCED\s+SYNCED\s+-\s+SYNCED\s+SYNCED\s+SYNCED\n$/);
    const get = await ferry('get', 'routes', '--admin', env.admin);
    expect(get.stdout).toBe('NAME    URL                                READY   REASON\nhello   http://hello.default.example.com   True\n');
    const dump = await ferry('dump', '--role', 'local', '--type', 'listeners', '--admin', env.admin);
    expect(JSON.parse(dump.stdout).configs[0].dynamic_listeners.map((l: { name: string }) => l.name)).toEqual(['local-http']);
    const wrong = await ferry('get', 'pods', '--admin', env.admin);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown kind "pods"');
    const down = await ferry('status', '--admin', '127.0.0.1:1');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach Ferry's admin endpoint at 127.0.0.1:1");
  });
});
