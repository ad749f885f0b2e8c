import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { FerryMetrics } from '../metrics.js';

/** What the admin endpoints read from the running Ferry; each is cheap to call and never throws for missing data. */
export interface AdminProviders {
  /** Undefined when ready, else the reason Ferry is not ready yet. */
  notReadyReason(): string | undefined;
  configDump(query: { role?: string; type?: string; name?: string }): unknown;
  status(): unknown;
  /** The gateway part of status() in one line: cheap enough to poll. */
  synced(): unknown;
  /** Ingresses, Routes and DomainMappings with their readiness, for `ferry get`. */
  objects(kind: string): unknown;
}

const BARE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/debug/config_dump', '/debug/status', '/debug/synced', '/debug/objects']);

/** Ferry's own HTTP endpoints: health, readiness, Prometheus metrics, config dump, gateway sync status. */
export class AdminServer {
  private server: Server | undefined;

  constructor(private readonly options: { providers: AdminProviders; metrics: FerryMetrics; logger: Logger }) {}

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.error({ err, url: req.url }, 'admin request failed');
        if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${String(err)}\n`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A bare known path (what pollers send) needs no URL parser; anything else is parsed (dot segments, queries).
    const bare = req.url !== undefined && BARE_PATHS.has(req.url);
    const url = bare ? undefined : new URL(req.url ?? '/', 'http://admin');
    const query = (name: string): string | undefined => url?.searchParams.get(name) ?? undefined;
    const { providers, metrics } = this.options;
    switch (bare ? req.url : url!.pathname) {
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz': {
        const reason = providers.notReadyReason();
        return reason === undefined ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', `not ready: ${reason}\n`);
      }
      case '/metrics':
        return send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
      case '/debug/config_dump':
        return sendQueryAnswer(res, () => providers.configDump({ role: query('role'), type: query('type'), name: query('name') }));
      case '/debug/status':
        return sendJson(res, providers.status());
      case '/debug/synced':
        return send(res, 200, 'application/json', `${JSON.stringify(providers.synced())}\n`);
      case '/debug/objects':
        return sendQueryAnswer(res, () => providers.objects(query('kind') ?? 'ingresses'));
      default:
        return send(res, 404, 'text/plain', 'not found: try /healthz, /readyz, /metrics, /debug/config_dump, /debug/status, /debug/synced, /debug/objects?kind=ingresses\n');
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  // With the length known, the head and the body leave in one write; without, a chunked answer takes several.
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A provider that rejects its query parameters (unknown role, type or kind) answers 400 with its message. */
function sendQueryAnswer(res: ServerResponse, answer: () => unknown): void {
  let value: unknown;
  try {
    value = answer();
  } catch (error) {
    return send(res, 400, 'text/plain', `${(error as Error).message}\n`);
  }
  sendJson(res, value);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
}
