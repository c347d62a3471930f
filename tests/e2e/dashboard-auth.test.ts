import { createServer, request, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, openRegistry, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { launchBrowser } from '../helpers/browser.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so the test can name any Host and Origin, as an attacker's page or a rebinding DNS would. */
function raw(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOutcome(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode ?? 0}`));
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

describe('dashboard auth: cookie from a one-time link, Host and Origin checked', () => {
  let browser: Browser;
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  let evil: Server | null = null;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(() => {
    box = sandbox('dashboard-auth');
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (evil ? evil.close(() => resolve()) : resolve()));
    evil = null;
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('refuses the unauthenticated, a used link, a wrong Host, a foreign Origin, and a cross-site page in a signed-in browser', async () => {
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', 'Wait'])).stdout) as { id: number };
    await waitForState(box, id, 'running');
    const registry = openRegistry(box);
    const session = registry.latestAttempt(id, 'agent')!.session_id;
    registry.close();
    const { url } = JSON.parse((await swarm(box.repo, ['dashboard', '--json'])).stdout) as { url: string };
    const port = Number(new URL(url).port);
    const host = `127.0.0.1:${port}`;

    // Nothing without a token or cookie: the API, the page, the event stream, a terminal.
    expect((await raw(port, '/api/v1/tasks', { headers: { host } })).status).toBe(401);
    expect((await raw(port, '/api/v1/tasks', { headers: { host, authorization: 'Bearer wrong' } })).status).toBe(401);
    const page = await raw(port, '/', { headers: { host } });
    expect(page.status).toBe(401);
    expect(page.body).toContain('swarm dashboard');
    expect((await raw(port, '/api/v1/events', { headers: { host } })).status).toBe(401);
    expect(await wsOutcome(`ws://${host}/api/v1/sessions/${session}/terminal`, {})).toBe('refused 401');

    // The link signs in once: an HttpOnly, SameSite=Strict cookie; the same link again is refused.
    const login = await raw(port, new URL(url).pathname + new URL(url).search, { headers: { host } });
    expect(login.status).toBe(303);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    expect((await raw(port, new URL(url).pathname + new URL(url).search, { headers: { host } })).status).toBe(401);
    expect((await raw(port, '/api/v1/tasks', { headers: { host, cookie } })).status).toBe(200);

    // DNS rebinding: the right cookie (or token) under another Host name is refused.
    expect((await raw(port, '/api/v1/tasks', { headers: { host: `evil.example:${port}`, cookie } })).status).toBe(421);
    const token = (JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { token: string }).token;
    expect((await raw(port, '/api/v1/status', { headers: { host: `evil.example:${port}`, authorization: `Bearer ${token}` } })).status).toBe(421);
    expect(await wsOutcome(`ws://${host}/api/v1/sessions/${session}/terminal`, { host: `evil.example:${port}`, cookie, origin: `http://evil.example:${port}` })).toBe('refused 421');

    // Cross-origin with the cookie: state changes, reads and terminals refused; a cookie POST must say its Origin.
    const foreign = { host, cookie, origin: 'http://evil.example' };
    expect((await raw(port, `/api/v1/tasks/${id}/kill`, { method: 'POST', headers: foreign })).status).toBe(403);
    expect((await raw(port, '/api/v1/tasks', { headers: foreign })).status).toBe(403);
    expect((await raw(port, `/api/v1/tasks/${id}/kill`, { method: 'POST', headers: { host, cookie } })).status).toBe(403);
    expect(await wsOutcome(`ws://${host}/api/v1/sessions/${session}/terminal`, foreign)).toBe('refused 403');
    expect(await wsOutcome(`ws://${host}/api/v1/sessions/${session}/terminal`, { host, cookie })).toBe('refused 403');
    expect(await wsOutcome(`ws://${host}/api/v1/sessions/${session}/terminal`, { host, cookie, origin: `http://${host}` })).toBe('open');
    // The browser cannot ask for a login link or stop the daemon: those are the CLI's (bearer) alone.
    expect((await raw(port, '/api/v1/dashboard/ticket', { method: 'POST', headers: { host, cookie, origin: `http://${host}` } })).status).toBe(403);
    expect((await raw(port, '/api/v1/stop', { method: 'POST', headers: { host, cookie, origin: `http://${host}` } })).status).toBe(403);

    // A real signed-in browser visits another site on loopback that attacks the daemon: nothing gets through.
    const context = await browser.newContext();
    const tab = await context.newPage();
    const fresh = JSON.parse((await swarm(box.repo, ['dashboard', '--json'])).stdout) as { url: string };
    await tab.goto(fresh.url);
    await tab.waitForSelector(`.card[data-task="${id}"]`);
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script>
        const base = 'http://${host}';
        const results = {};
        Promise.all([
          fetch(base + '/api/v1/tasks/${id}/kill', { method: 'POST', credentials: 'include', mode: 'no-cors' }).then(() => 'sent', (e) => 'blocked'),
          fetch(base + '/api/v1/tasks', { credentials: 'include' }).then((r) => r.text(), () => 'blocked'),
          new Promise((resolve) => { const ws = new WebSocket('ws://${host}/api/v1/sessions/${session}/terminal'); ws.onmessage = () => resolve('got output'); ws.onclose = () => resolve('closed'); }),
        ]).then((r) => { document.title = 'done'; window.results = r; });
      </script>`);
    });
    await new Promise<void>((resolve) => evil!.listen(0, '127.0.0.1', resolve));
    const evilPort = (evil.address() as { port: number }).port;
    const attack = await context.newPage();
    await attack.goto(`http://localhost:${evilPort}/`);
    await attack.waitForFunction(() => document.title === 'done');
    const results = (await attack.evaluate(() => (window as unknown as { results: string[] }).results));
    expect(results[1]).toBe('blocked'); // no CORS: the board is not readable from another site
    expect(results[2]).toBe('closed'); // the terminal refused
    expect(openRegistry(box).getTask(id)?.state).toBe('running'); // the kill did not land
    await context.close();
  });

  it('serves an OpenAPI document generated from the schemas, covering every route the dashboard and CLI use', async () => {
    writeConfig(box, {});
    daemon = await runDaemon(box);
    const { url } = JSON.parse((await swarm(box.repo, ['dashboard', '--json'])).stdout) as { url: string };
    const port = Number(new URL(url).port);
    type Schema = { $ref?: string; properties?: Record<string, unknown> };
    const doc = JSON.parse((await raw(port, '/api/openapi.json', { headers: { host: `127.0.0.1:${port}` } })).body) as { openapi: string; components: { schemas: Record<string, Schema> }; paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/api/v1/status', 'get'],
      ['/api/v1/tasks', 'get'],
      ['/api/v1/tasks', 'post'],
      ['/api/v1/tasks/{id}', 'get'],
      ['/api/v1/tasks/{id}/retry', 'post'],
      ['/api/v1/tasks/{id}/kill', 'post'],
      ['/api/v1/tasks/{id}/merge', 'post'],
      ['/api/v1/tasks/{id}/approve', 'post'],
      ['/api/v1/events', 'get'],
      ['/api/v1/sessions/{session}/terminal', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    // The task page schema names what the page shows.
    const ref = doc.paths['/api/v1/tasks/{id}']!.get!.responses['200']!.content['application/json']!.schema.$ref ?? '';
    expect(ref).toBe('#/components/schemas/TaskPage');
    const page = doc.components.schemas[ref.split('/').pop()!]!;
    expect(Object.keys(page.properties ?? {})).toEqual(expect.arrayContaining(['task', 'attempts', 'events', 'ci_log', 'diff', 'depends_on', 'dependents', 'pr']));
    // A bad spawn body gets a 400 saying what is wrong, in words.
    const token = (JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { token: string }).token;
    const bad = await raw(port, '/api/v1/tasks', { method: 'POST', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/prompt/);
  });

  it('listens on loopback only unless an address is configured; a configured one adds it (and the public URL as a Host), a busy configured port is a clear error', async () => {
    writeConfig(box, {});
    daemon = await runDaemon(box);
    const { url } = JSON.parse((await swarm(box.repo, ['dashboard', '--json'])).stdout) as { url: string };
    const port = Number(new URL(url).port);
    const other = (path: string, headers: Record<string, string>) =>
      new Promise<number | string>((resolve) => {
        const req = request({ host: '127.0.0.2', port, path, headers }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        req.end();
      });
    expect(await other('/api/openapi.json', { host: `127.0.0.2:${port}` })).toBe('ECONNREFUSED');
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    // The same port again after a restart (an open page reconnects), now also on a configured address.
    writeConfig(box, { dashboard: { host: '127.0.0.2', port, public_url: `https://devbox.example.ts.net` } });
    daemon = await runDaemon(box);
    const second = JSON.parse((await swarm(box.repo, ['dashboard', '--json'])).stdout) as { url: string; port: number };
    expect(second.port).toBe(port);
    const login = await raw(port, new URL(second.url).pathname + new URL(second.url).search, { headers: { host: `127.0.0.1:${port}` } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(String(login.headers['set-cookie'])).toMatch(/Secure/); // the public URL is https
    expect(await other('/api/v1/tasks', { host: `127.0.0.2:${port}`, cookie })).toBe(200);
    expect(await other('/api/v1/tasks', { host: 'devbox.example.ts.net', cookie })).toBe(200);
    expect(await other('/api/v1/tasks', { host: `elsewhere.example:${port}`, cookie })).toBe(421);
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    // Someone else holds the configured port: the daemon says so and what to change.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    evil = squatter;
    writeConfig(box, { dashboard: { port } });
    daemon = null;
    await expect(runDaemon(box)).rejects.toThrow(/dashboard\.port/);
  });
});
