import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseGatewayOptions } from '../../src/model/gateway-options.js';
import { GATEWAY_ROLES, type GatewayRole } from '../../src/xds/roles.js';
import { buildGatewayResources } from '../../src/translate/envoy/gateway-resources.js';
import { translateIngress } from '../../src/translate/envoy/ingress-translation.js';
import { resourceToJson } from '../../src/translate/envoy/to-json.js';
import { loadFixture } from './fixture-context.js';

export const GOLDEN_DIR = resolve(import.meta.dirname, '../golden');
const RESOURCE_KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export type RoleJson = Record<ResourceKind, Array<Record<string, unknown>>>;

export function goldenCases(): string[] {
  return readdirSync(GOLDEN_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * Translates a case's input.yaml (+ optional config.yaml, a partial TranslateConfig, and config-ferry.yaml, the `data`
 * of a config-ferry ConfigMap: gateway options) for both roles.
 */
export function renderCase(caseName: string) {
  const dir = join(GOLDEN_DIR, caseName);
  const configPath = join(dir, 'config.yaml');
  const config = existsSync(configPath) ? parse(readFileSync(configPath, 'utf8')) : {};
  const optionsPath = join(dir, 'config-ferry.yaml');
  if (existsSync(optionsPath)) {
    const parsed = parseGatewayOptions(parse(readFileSync(optionsPath, 'utf8')));
    if (parsed.problems.length > 0) throw new Error(`${optionsPath}: ${JSON.stringify(parsed.problems)}`);
    config.gateway = parsed.value;
  }
  // Golden files show the single route table per listener: the KIngress → Envoy field mapping reads best there.
  // Scoped route tables are the same virtual hosts split per KIngress (gateway-assembler.test.ts checks both).
  const { ingresses, ctx } = loadFixture(readFileSync(join(dir, 'input.yaml'), 'utf8'), { routeTables: 'single', ...config });
  const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
  const roles = {} as Record<GatewayRole, { resources: RoleJson; status: unknown }>;
  for (const role of GATEWAY_ROLES) {
    const built = buildGatewayResources(role, translations, ctx);
    const resources = Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind, built[kind].map((resource) => resourceToJson(resource, { revealPrivateKeys: true }))])) as RoleJson;
    roles[role] = { resources, status: { conflicts: built.conflicts, warnings: built.warnings } };
  }
  const translation = translations.map((t) => ({ ingress: t.key, probeHash: t.probeHash, hosts: t.hosts, dependencies: t.dependencies, warnings: t.warnings }));
  return { roles, translation };
}

/** The golden files of a case: relative path → JSON text. */
export function goldenFiles(rendered: ReturnType<typeof renderCase>): Map<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const files = new Map<string, string>();
  for (const role of GATEWAY_ROLES) {
    for (const kind of RESOURCE_KINDS) files.set(`${role}/${kind}.json`, json(rendered.roles[role].resources[kind]));
    files.set(`${role}/status.json`, json(rendered.roles[role].status));
  }
  files.set('translation.json', json(rendered.translation));
  return files;
}
