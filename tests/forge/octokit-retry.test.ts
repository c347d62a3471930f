import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOctokit } from '../../src/forge/github-client.js';
import { silentLogger } from '../../src/log.js';
import { listenLoopback } from '../../scripts/loopback.js';

/** Counts what really arrives, per path: the client's own counters are not the judge. */
describe('the GitHub client retries only what is worth retrying', () => {
  let server: Server;
  let url = '';
  const hits: Record<string, number> = {};
  let flaky = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      hits[path] = (hits[path] ?? 0) + 1;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-ratelimit-remaining': '4999', 'x-ratelimit-limit': '5000', 'x-ratelimit-reset': '9999999999', ...headers }).end(status === 304 ? undefined : JSON.stringify(body));
      };
      if (path === '/repos/o/r/pulls') return req.headers['if-none-match'] === '"v1"' ? json(304, null, { etag: '"v1"' }) : json(200, [], { etag: '"v1"' });
      if (path === '/repos/o/r/missing') return json(404, { message: 'Not Found' });
      if (path === '/repos/o/r/invalid') return json(422, { message: 'Validation Failed' });
      if (path === '/repos/o/r/unauthorized') return json(401, { message: 'Bad credentials' });
      if (path === '/repos/o/r/flaky') return flaky++ === 0 ? json(502, { message: 'Bad gateway' }) : json(200, { ok: true });
      json(500, { message: 'always down' });
    });
    url = await listenLoopback(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    ['a conditional request answered 304', 1, '/repos/o/r/pulls', { 'if-none-match': '"v1"' }],
    ['404', 1, '/repos/o/r/missing', {}],
    ['422', 1, '/repos/o/r/invalid', {}],
    ['401', 1, '/repos/o/r/unauthorized', {}],
    ['a 502, then success', 2, '/repos/o/r/flaky', {}],
    ['a 500 that stays: 1 + 2 retries', 3, '/repos/o/r/down', {}],
  ])('%s: sent %i time(s)', async (_name, times, path, headers) => {
    const wire = { requests: 0 };
    const octokit = createOctokit({ token: 't', baseUrl: url, retries: 2, log: silentLogger(), wire });
    const before = hits[path] ?? 0;
    await octokit.request(`GET ${path}`, { headers }).catch(() => undefined);
    expect((hits[path] ?? 0) - before).toBe(times);
    // What `daemon status` reports is what went over the wire, retries included.
    expect(wire.requests).toBe(times);
  });
});
