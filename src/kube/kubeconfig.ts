import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** Where an API server is and how to reach it, from a kubeconfig or the Pod's service account. */
export interface ApiServerAccess {
  /** Without a trailing slash. */
  server: string;
  /** A proxy in between: its agent comes with the options, not a pooled one. */
  proxied: boolean;
  /** TLS options and headers (credentials as they are now: a token file is read again each time). */
  requestOptions(): Promise<RequestOptions>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What a user entry may say that this module reads itself; any other field (exec, auth-provider, ...) goes to the client library. */
const SIMPLE_USER_FIELDS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'as']);
const SIMPLE_CLUSTER_FIELDS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'disable-compression', 'extensions']);

type Entry = Record<string, unknown>;

interface Named {
  name: string;
  cluster?: Entry;
  user?: Entry;
  context?: Entry;
}

interface Kubeconfig {
  'current-context'?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
}

/**
 * A kubeconfig file (the current context), or, without one, the in-cluster service account. Tokens, token files,
 * client certificates and basic auth are read here; a kubeconfig that needs more (an exec plugin, an auth provider, a
 * proxy, impersonated groups) is handed to `@kubernetes/client-node`, loaded only then: loading it costs ~0.6 s of
 * CPU, ~27 MB of heap and ~75 MB of resident memory (its generated API is kept as source and code), a quarter of what
 * Ferry may use at 10k KIngresses.
 */
export function loadApiServerAccess(kubeconfig?: string): ApiServerAccess {
  if (kubeconfig) return fromFile(kubeconfig);
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host) throw new Error('no --kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig PATH');
  const ca = readFileSync(join(SERVICE_ACCOUNT, 'ca.crt'), 'utf8');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port ?? '443'}`, proxied: false,
    requestOptions: async () => ({ ca, headers: bearer(readFileSync(join(SERVICE_ACCOUNT, 'token'), 'utf8')) }),
  };
}

function fromFile(path: string): ApiServerAccess {
  let config: Kubeconfig;
  try {
    config = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Kubeconfig;
  } catch (error) {
    throw new Error(`cannot read the kubeconfig ${path}: ${(error as Error).message}; check --kubeconfig`);
  }
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const server = cluster?.server;
  if (!context || !cluster || typeof server !== 'string') {
    throw new Error(`the kubeconfig ${path} has no current context with a cluster and its server; set one with \`kubectl config use-context\``);
  }
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const simple = Object.keys(user).every((field) => SIMPLE_USER_FIELDS.has(field)) && Object.keys(cluster).every((field) => SIMPLE_CLUSTER_FIELDS.has(field));
  if (!simple) return fromClientLibrary(path, server.replace(/\/$/, ''), typeof cluster['proxy-url'] === 'string');

  const file = (name: unknown): string => (isAbsolute(String(name)) ? String(name) : join(dirname(path), String(name)));
  // PEM text, not Buffers: Node's agent names its pool of connections by the TLS options, once or twice per request,
  // and a Buffer is turned into a new string each time (~0.1 ms per request for a CA certificate).
  const pem = (entry: Entry, field: string): string | undefined => {
    if (typeof entry[`${field}-data`] === 'string') return Buffer.from(entry[`${field}-data`] as string, 'base64').toString('utf8');
    return typeof entry[field] === 'string' ? readFileSync(file(entry[field]), 'utf8') : undefined;
  };
  const tls: RequestOptions = {};
  const ca = pem(cluster, 'certificate-authority');
  const cert = pem(user, 'client-certificate');
  const key = pem(user, 'client-key');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  return {
    server: server.replace(/\/$/, ''), proxied: false,
    requestOptions: async () => {
      const headers: Record<string, string> = {};
      if (typeof user.token === 'string') Object.assign(headers, bearer(user.token));
      else if (typeof user.tokenFile === 'string') Object.assign(headers, bearer(readFileSync(file(user.tokenFile), 'utf8')));
      else if (typeof user.username === 'string') headers.Authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64')}`;
      if (typeof user.as === 'string') headers['Impersonate-User'] = user.as;
      return { ...tls, headers };
    },
  };
}

/** A kubeconfig that needs an exec plugin, an auth provider or a proxy: the client library reads it. */
function fromClientLibrary(path: string, server: string, proxied: boolean): ApiServerAccess {
  const library = import('@kubernetes/client-node').then(({ KubeConfig }) => {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return config;
  });
  return {
    server, proxied,
    requestOptions: async () => {
      const options: RequestOptions = { headers: {} };
      await (await library).applyToHTTPSOptions(options);
      if (!proxied) delete options.agent;
      return options;
    },
  };
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token.trim()}` };
}
