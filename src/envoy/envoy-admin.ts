import { request } from 'node:http';

export interface AdminResponse {
  status: number;
  body: string;
}

/**
 * Reads an Envoy admin interface (loopback only). The address is asked for on every call because a
 * restarted Envoy may listen on another port.
 */
export class EnvoyAdminClient {
  constructor(private readonly address: () => { host: string; port: number }) {}

  get(path: string, method: 'GET' | 'POST' = 'GET'): Promise<AdminResponse> {
    const { host, port } = this.address();
    return new Promise((resolve, reject) => {
      const req = request({ host, port, path, method, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** True when Envoy reports LIVE: initialised, listeners accepting. */
  async isLive(): Promise<boolean> {
    const res = await this.get('/ready');
    return res.status === 200 && res.body.trim() === 'LIVE';
  }

  /** Counters and gauges whose names match the regular expression (histograms are left out). */
  async stats(filter?: string): Promise<Map<string, number>> {
    const query = filter === undefined ? '' : `?filter=${encodeURIComponent(filter)}`;
    const res = await this.get(`/stats${query}`);
    if (res.status !== 200) throw new Error(`Envoy admin /stats answered ${res.status}: ${res.body}`);
    const stats = new Map<string, number>();
    for (const line of res.body.split('\n')) {
      const separator = line.lastIndexOf(': ');
      const value = Number(line.slice(separator + 2));
      if (separator > 0 && Number.isFinite(value)) stats.set(line.slice(0, separator), value);
    }
    return stats;
  }

  /** One counter or gauge; 0 when Envoy has not created it yet. */
  async stat(name: string): Promise<number> {
    const stats = await this.stats(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    return stats.get(name) ?? 0;
  }

  /** /config_dump as parsed JSON; `resource` narrows it (e.g. "dynamic_active_clusters"). */
  async configDump(options: { resource?: string; includeEds?: boolean } = {}): Promise<unknown> {
    const params = new URLSearchParams();
    if (options.resource !== undefined) params.set('resource', options.resource);
    if (options.includeEds === true) params.set('include_eds', '');
    const query = params.size > 0 ? `?${params.toString()}` : '';
    const res = await this.get(`/config_dump${query}`);
    if (res.status !== 200) throw new Error(`Envoy admin /config_dump answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as unknown;
  }

  /** /clusters?format=json as parsed JSON: each cluster with its hosts and their health. */
  async clusters(): Promise<unknown> {
    const res = await this.get('/clusters?format=json');
    if (res.status !== 200) throw new Error(`Envoy admin /clusters answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as unknown;
  }
}
