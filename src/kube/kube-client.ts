import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import { loadApiServerAccess, type ApiServerAccess } from './kubeconfig.js';

/** An API server answer that was not 2xx: its HTTP code and the Status message the server gave. */
export class KubeApiError extends Error {
  constructor(readonly statusCode: number, readonly reason: string, message: string) {
    super(message);
  }
}

/** One line of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface WatchHandle {
  /** Resolves when the stream ends: undefined when the server closed it, the error otherwise. */
  readonly done: Promise<Error | undefined>;
  abort(): void;
}

export interface KubeClientOptions {
  /** Requests (all but watches) in flight at once, each on its own kept-alive connection; more wait their turn (default 16). */
  connections?: number;
}

/** How long credentials read from the kubeconfig are used before they are read again. */
const CREDENTIALS_REUSE_MS = 10_000;
/** How long an idle kept-alive connection stays open: less than the API server's own idle timeout (90 s). */
const IDLE_CONNECTION_MS = 30_000;

/**
 * The few API calls Ferry makes, as JSON over HTTP(S) with the credentials of a kubeconfig (or the Pod's service
 * account). Typed clients are not used on purpose: lists of thousands of objects are parsed once as plain JSON and
 * trimmed at once, instead of being copied into generated model classes.
 *
 * Connections are kept alive and shared, a bounded number for requests and one per watch: the kubeconfig's own
 * options bring a new agent, so a new TLS connection, to every request, and at thousands of KIngresses (two reads
 * and a status write each) those handshakes cost Ferry and the API server CPU, and Ferry ~100 MB of memory that the
 * allocator kept after the burst.
 */
export class KubeClient {
  readonly server: string;
  /** Undefined when the kubeconfig names a proxy: its agent is used as it is. */
  private readonly agents: { requests: HttpAgent; watches: HttpAgent } | undefined;
  private applied: { options: RequestOptions; until: number } | undefined;

  private constructor(private readonly access: ApiServerAccess, options: KubeClientOptions) {
    this.server = access.server;
    if (!access.proxied) {
      const Agent = this.server.startsWith('http:') ? HttpAgent : HttpsAgent;
      this.agents = {
        requests: new Agent({ keepAlive: true, maxSockets: options.connections ?? 16, timeout: IDLE_CONNECTION_MS }),
        watches: new Agent({ keepAlive: true }),
      };
    }
  }

  /** From a kubeconfig file, or, without one, the in-cluster service account (KUBERNETES_SERVICE_HOST). */
  static load(kubeconfig?: string, options: KubeClientOptions = {}): KubeClient {
    return new KubeClient(loadApiServerAccess(kubeconfig), options);
  }

  async get<T = Record<string, unknown>>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    return (await this.call('GET', path, query)) as T;
  }

  /** A JSON merge patch (or, with a resourceVersion inside, an optimistic-concurrency update of what it names). */
  async mergePatch<T = Record<string, unknown>>(path: string, patch: unknown): Promise<T> {
    return (await this.call('PATCH', path, {}, patch, 'application/merge-patch+json')) as T;
  }

  async create<T = Record<string, unknown>>(path: string, object: unknown): Promise<T> {
    return (await this.call('POST', path, {}, object)) as T;
  }

  async replace<T = Record<string, unknown>>(path: string, object: unknown): Promise<T> {
    return (await this.call('PUT', path, {}, object)) as T;
  }

  /** DELETE, with DeleteOptions (grace period, preconditions) when given. */
  async delete(path: string, options?: Record<string, unknown>): Promise<void> {
    await this.call('DELETE', path, {}, options);
  }

  /**
   * A watch stream: each event is handed over as it arrives. The server ends it after timeoutSeconds; an ERROR event
   * (410 Gone: the resourceVersion is too old) is handed over like any other, the caller decides to relist.
   */
  async watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (event: WatchEvent) => void): Promise<WatchHandle> {
    const response = await this.open('GET', path, { ...query, watch: true }, undefined, undefined, 'watches');
    let resolveDone!: (error: Error | undefined) => void;
    const done = new Promise<Error | undefined>((resolve) => (resolveDone = resolve));
    if (response.statusCode !== 200) {
      resolveDone(await errorOf(response, path));
      return { done, abort: () => undefined };
    }
    let aborted = false;
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (aborted || line.trim() === '') return;
      try {
        onEvent(JSON.parse(line) as WatchEvent);
      } catch (error) {
        aborted = true;
        response.destroy();
        resolveDone(error instanceof Error ? error : new Error(String(error)));
      }
    });
    // readline passes the stream's errors on (a connection cut: 'aborted'); either listener ends the watch.
    lines.on('error', (error) => resolveDone(error));
    response.on('error', (error) => resolveDone(error));
    response.on('close', () => resolveDone(response.complete || aborted ? undefined : new Error(`the watch of ${path} was cut`)));
    return {
      done,
      abort: () => {
        aborted = true;
        response.destroy();
      },
    };
  }

  /**
   * Credentials and TLS options as the kubeconfig gives them, read again every CREDENTIALS_REUSE_MS (a token file is
   * rotated long before its token expires) and after a 401: reading them for every request was a tenth of Ferry's
   * CPU while thousands of KIngresses arrived.
   */
  private async credentials(): Promise<RequestOptions> {
    if (this.applied === undefined || Date.now() >= this.applied.until) {
      this.applied = { options: await this.access.requestOptions(), until: Date.now() + CREDENTIALS_REUSE_MS };
    }
    return this.applied.options;
  }

  private async call(method: string, path: string, query: Record<string, string | number | boolean | undefined>, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const response = await this.open(method, path, query, body, contentType);
    if (response.statusCode === 401) this.applied = undefined;
    if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode >= 300) throw await errorOf(response, `${method} ${path}`);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  private async open(method: string, path: string, query: Record<string, string | number | boolean | undefined>, body?: unknown, contentType = 'application/json', pool: 'requests' | 'watches' = 'requests'): Promise<IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const credentials = await this.credentials();
    const options: RequestOptions = { ...credentials, method, headers: { ...credentials.headers, Accept: 'application/json' } };
    // The connection from the shared pool, which opens new ones with the kubeconfig's TLS options.
    if (this.agents) options.agent = this.agents[pool];
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) Object.assign(options.headers!, { 'Content-Type': contentType, 'Content-Length': payload.length });
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, options, resolve);
      req.on('error', (error) => reject(new Error(`cannot reach the API server at ${this.server} (${method} ${url.pathname}): ${error.message}`)));
      req.end(payload);
    });
  }
}

async function errorOf(response: IncomingMessage, what: string): Promise<KubeApiError> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // Not a Status object: the raw text says it.
  }
  const code = response.statusCode ?? 0;
  const hint = code === 401 ? ': the credentials were refused; check the kubeconfig or the service account token'
    : code === 403 ? ': Ferry\'s service account lacks this permission; apply deploy/kubernetes/ferry.yaml\'s RBAC' : '';
  return new KubeApiError(code, reason, `${what}: ${code} ${reason} ${message}${hint}`.replace(/ +/g, ' '));
}
