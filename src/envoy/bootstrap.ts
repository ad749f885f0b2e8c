import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isIP } from 'node:net';

/** Which Ferry view a gateway Envoy asks for; it travels as the Envoy's node.cluster. */
export type GatewayNodeRole = 'external' | 'local' | 'both';
export const GATEWAY_NODE_ROLES: readonly GatewayNodeRole[] = ['external', 'local', 'both'];

/** The xDS transport: delta ADS (DELTA_GRPC) by default, state-of-the-world (GRPC) on demand. */
export type XdsMode = 'delta' | 'sotw';

export interface BootstrapValues {
  nodeId: string;
  role: GatewayNodeRole;
  xdsAddress: string;
  xdsPort: number;
  /** Loopback only: the admin interface can reconfigure and stop Envoy. Default 127.0.0.1. */
  adminAddress?: string;
  /** 0 lets the OS choose; Envoy then writes the bound address to --admin-address-path. */
  adminPort: number;
  /** For bootstrap-mtls.yaml: this gateway's client certificate and key, the CA of Ferry's server certificate, and a DNS name in it. */
  xdsTls?: { cert: string; key: string; ca: string; serverName: string };
}

const PLACEHOLDER = /\$\{([A-Z_]+)\}/g;

/**
 * Fills the ${NAME} placeholders of a bootstrap template. Strings are written as JSON strings (valid
 * YAML scalars whatever they contain), ports as numbers. Pure: no I/O.
 */
export function renderBootstrap(template: string, values: BootstrapValues): string {
  const adminAddress = values.adminAddress ?? '127.0.0.1';
  if (!GATEWAY_NODE_ROLES.includes(values.role)) {
    throw new Error(`bootstrap: role "${values.role}" is not one of ${GATEWAY_NODE_ROLES.join(', ')}`);
  }
  if (values.nodeId.trim() === '') throw new Error('bootstrap: nodeId is empty; give each gateway Envoy a unique node id');
  if (values.xdsAddress.trim() === '') throw new Error('bootstrap: xdsAddress is empty; set the address of Ferry\'s xDS server');
  if (!isLoopback(adminAddress)) {
    throw new Error(`bootstrap: adminAddress "${adminAddress}" is not a loopback address; the Envoy admin interface must stay on 127.0.0.1 or ::1`);
  }
  const substitutions: Record<string, string> = {
    NODE_ID: JSON.stringify(values.nodeId),
    NODE_CLUSTER: JSON.stringify(values.role),
    XDS_ADDRESS: JSON.stringify(values.xdsAddress),
    XDS_PORT: String(checkPort('xdsPort', values.xdsPort, false)),
    ADMIN_ADDRESS: JSON.stringify(adminAddress),
    ADMIN_PORT: String(checkPort('adminPort', values.adminPort, true)),
    ...(values.xdsTls && {
      XDS_TLS_CERT: JSON.stringify(values.xdsTls.cert),
      XDS_TLS_KEY: JSON.stringify(values.xdsTls.key),
      XDS_TLS_CA: JSON.stringify(values.xdsTls.ca),
      XDS_SERVER_NAME: JSON.stringify(values.xdsTls.serverName),
    }),
  };
  const unknown = new Set<string>();
  const rendered = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = substitutions[name];
    if (value === undefined) unknown.add(name);
    return value ?? whole;
  });
  if (unknown.size > 0) {
    throw new Error(`bootstrap: template has unknown placeholders ${[...unknown].map((n) => `\${${n}}`).join(', ')}; known: ${Object.keys(substitutions).join(', ')}`);
  }
  return rendered;
}

/** Reads deploy/envoy/bootstrap-<mode>.yaml of this repository. */
export function loadBootstrapTemplate(mode: XdsMode, root: string = repositoryRoot()): string {
  return readFileSync(join(root, 'deploy', 'envoy', `bootstrap-${mode}.yaml`), 'utf8');
}

/** The directory holding Ferry's package.json, found upwards from this file (works from src/ and dist/). */
export function repositoryRoot(from: string = import.meta.dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ferry') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find Ferry's package.json above ${from}`);
  }
}

function checkPort(field: string, port: number, zeroAllowed: boolean): number {
  if (!Number.isInteger(port) || port < (zeroAllowed ? 0 : 1) || port > 65535) {
    throw new Error(`bootstrap: ${field} ${port} is not a valid port (${zeroAllowed ? 0 : 1}-65535)`);
  }
  return port;
}

function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1';
}
