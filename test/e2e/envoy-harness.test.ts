import { afterAll, describe, expect, it } from 'vitest';
import { freePort, loadLoop, request, startHttpBackend, waitFor, type HttpBackend } from './harness/index.js';

/** The harness must be able to see failures, or "no request lost" checks prove nothing. */
describe('end-to-end harness', () => {
  const backends: HttpBackend[] = [];
  afterAll(async () => {
    await Promise.all(backends.map((backend) => backend.close()));
  });

  it('loadLoop records every answer with another status, and every connection error', async () => {
    const failing = await startHttpBackend({ name: 'failing', status: 503 });
    backends.push(failing);
    const result = await loadLoop({ port: failing.port, host: 'x', durationMs: 10_000, maxRequests: 10 }).done;
    expect(result.sent).toBe(10);
    expect(result.succeeded).toBe(0);
    expect(result.failures).toHaveLength(10);
    expect(result.failures[0]).toMatchObject({ status: 503 });
    expect(failing.requests).toBe(10);

    const closedPort = await freePort();
    const refused = await loadLoop({ port: closedPort, host: 'x', durationMs: 10_000, maxRequests: 4, concurrency: 1 }).done;
    expect(refused.failures.map((f) => f.error)).toEqual(Array(4).fill(expect.stringMatching(/ECONNREFUSED/)));
  });

  it('loadLoop stops on demand, with keep-alive connections, and counts answers per backend', async () => {
    const backend = await startHttpBackend({ name: 'steady' });
    backends.push(backend);
    const load = loadLoop({ port: backend.port, host: 'steady.example.com', durationMs: 30_000, maxRequests: 1_000_000, keepAlive: true });
    await waitFor(() => load.countBy('steady') >= 30, 10_000, '30 answers');
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.succeeded).toBe(result.sent);
    expect(result.answeredBy.every((name) => name === 'steady')).toBe(true);
  });

  it('request sends the Host header and returns status, body and headers', async () => {
    const backend = await startHttpBackend({ name: 'echo' });
    backends.push(backend);
    const answer = await request(backend.port, 'echo.example.com', '/p', { 'x-a': '1' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toMatchObject({ backend: 'echo', method: 'GET', path: '/p', headers: { host: 'echo.example.com', 'x-a': '1' } });
  });

  it('waitFor returns the first truthy value, and names the condition and the last error on timeout', async () => {
    let calls = 0;
    expect(await waitFor(() => (++calls >= 3 ? 'done' : undefined), 5_000)).toBe('done');
    await expect(waitFor(() => {
      throw new Error('not yet');
    }, 200, 'the impossible')).rejects.toThrow(/the impossible not reached within 200 ms; last error: not yet/);
  });
});
