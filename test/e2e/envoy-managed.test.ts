import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagedEnvoy, type EnvoyRestartEvent } from '../../src/envoy/managed-envoy.js';
import { startHttpBackend, type HttpBackend } from './harness/backend.js';
import { startStaticEnvoy, stopAllEnvoys, stopEnvoy } from './harness/envoy.js';
import { printEnvoyLogsOnFailure } from './harness/failure-logs.js';
import { backendOf, request } from './harness/http-client.js';
import { freePort } from './harness/ports.js';
import { waitFor } from './harness/wait.js';

/** A static gateway: one listener, host "app.example.com" routed to a backend cluster (HTTP/1.1 or h2c). */
function staticBootstrap(listenerPort: number, backendPort: number, h2c: boolean): string {
  const protocol = h2c
    ? `
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }`
    : '';
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
    - name: http
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenerPort} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: http
                upgrade_configs: [{ upgrade_type: websocket }]
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                route_config:
                  virtual_hosts:
                    - name: app
                      domains: [app.example.com]
                      routes: [{ match: { prefix: / }, route: { cluster: backend, timeout: 0s } }]
  clusters:
    - name: backend
      type: STATIC
      connect_timeout: 1s${protocol}
      load_assignment:
        cluster_name: backend
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } } }] }]
`;
}

describe('ManagedEnvoy with a static bootstrap', () => {
  printEnvoyLogsOnFailure();
  const backends: HttpBackend[] = [];
  afterAll(async () => {
    await stopAllEnvoys();
    await Promise.all(backends.map((backend) => backend.close()));
  });

  async function gateway(options: { h2c?: boolean; websocket?: boolean; delayMs?: number } = {}): Promise<{ envoy: ManagedEnvoy; port: number; backend: HttpBackend }> {
    const backend = await startHttpBackend({ name: 'static-backend', protocol: options.h2c ? 'h2c' : 'http1', websocket: options.websocket, delayMs: options.delayMs });
    backends.push(backend);
    const port = await freePort();
    const envoy = await startStaticEnvoy(staticBootstrap(port, backend.port, options.h2c ?? false));
    await envoy.ready();
    return { envoy, port, backend };
  }

  it('serves HTTP/1.1 through Envoy to a real backend, by Host, and exposes its admin interface', async () => {
    const { envoy, port, backend } = await gateway();
    const answer = await request(port, 'app.example.com', '/hello?x=1', { 'x-test': 'yes' });
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ backend: 'static-backend', path: '/hello?x=1', headers: { host: 'app.example.com', 'x-test': 'yes' } });
    expect(backend.requests).toBe(1);
    expect((await request(port, 'other.example.com', '/')).status).toBe(404);
    expect(await envoy.admin.stat('cluster.backend.upstream_rq_200')).toBe(1);
    expect(JSON.stringify(await envoy.admin.clusters())).toContain(`"port_value":${backend.port}`);
    expect(JSON.stringify(await envoy.admin.configDump({ resource: 'static_listeners' }))).toContain('app.example.com');
    expect(envoy.logTail()).toMatch(/starting main dispatch loop/);
  });

  it('speaks h2c to an HTTP/2 backend', async () => {
    const { port } = await gateway({ h2c: true });
    const answer = await request(port, 'app.example.com', '/h2');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ backend: 'static-backend', path: '/h2', headers: { ':authority': 'app.example.com' } });
  });

  it('passes WebSocket upgrades to an echo backend', async () => {
    const { port, backend } = await gateway({ websocket: true });
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'app.example.com' } });
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('ping'));
      socket.once('message', (data) => resolve(data.toString()));
      socket.once('error', reject);
    });
    socket.close();
    expect(echoed).toBe('static-backend: ping');
    expect(backend.requests).toBe(1);
  });

  it('waits for a slow backend (no route timeout)', async () => {
    const { port } = await gateway({ delayMs: 1_500 });
    const answer = await request(port, 'app.example.com', '/slow');
    expect(answer.status).toBe(200);
    expect(backendOf(answer)).toBe('static-backend');
  });

  it('restarts Envoy with backoff after it is killed, and stop() ends it for good', async () => {
    const backend = await startHttpBackend({ name: 'restart-backend' });
    backends.push(backend);
    const port = await freePort();
    const envoy = new ManagedEnvoy({ bootstrap: { yaml: staticBootstrap(port, backend.port, false) }, restart: { initialDelayMs: 50, maxDelayMs: 500 } });
    const restarts: EnvoyRestartEvent[] = [];
    envoy.on('restart', (event) => restarts.push(event));
    try {
      await envoy.start();
      await envoy.ready();
      const firstPid = envoy.pid!;
      const exited = new Promise((resolve) => envoy.once('exit', resolve));
      const restarted = new Promise<{ pid: number }>((resolve) => envoy.once('start', resolve));
      process.kill(firstPid, 'SIGKILL');
      expect(await exited).toMatchObject({ pid: firstPid, signal: 'SIGKILL', expected: false });
      const second = await restarted;
      expect(second.pid).not.toBe(firstPid);
      expect(restarts).toEqual([{ attempt: 1, delayMs: 50 }]);
      await envoy.ready();
      await waitFor(async () => (await request(port, 'app.example.com', '/')).status === 200, 15_000, 'traffic after restart');

      const stopped = new Promise((resolve) => envoy.once('exit', resolve));
      await envoy.stop();
      expect(await stopped).toMatchObject({ expected: true });
      await sleep(300);
      expect(envoy.pid).toBeUndefined();
      expect(restarts).toHaveLength(1);
    } finally {
      await envoy.stop();
    }
  });

  it('fails start() with the Envoy log when the bootstrap is invalid, and names the install script when the binary is missing', async () => {
    await expect(startStaticEnvoy('static_resources: { clusters: [{ name: x, type: NOT_A_TYPE }] }')).rejects.toThrow(/exited before binding its admin interface[\s\S]*NOT_A_TYPE/);
    expect(() => new ManagedEnvoy({ bootstrap: { yaml: '' }, envoyBin: '/nonexistent/envoy' })).toThrow(/\/nonexistent\/envoy.*scripts\/install-envoy\.sh/);
  });
});

describe('stopEnvoy', () => {
  it('stops a single Envoy and is safe to call twice', async () => {
    const envoy = await startStaticEnvoy(`admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }`);
    await envoy.ready();
    await stopEnvoy(envoy);
    await stopEnvoy(envoy);
    expect(envoy.pid).toBeUndefined();
  });
});
