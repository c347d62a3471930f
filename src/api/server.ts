/**
 * The daemon's HTTP server: the REST API (/api/v1, from the route table), its OpenAPI document, the live event
 * stream, terminal WebSockets, and the dashboard's page and assets. Every request names an allowed Host; API
 * calls carry the CLI's bearer token or the dashboard cookie; a browser's Origin must be this server's own.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import * as z from 'zod';
import { ExitCode, SwarmError, errorMessage } from '../errors.js';
import { bearerValid, COOKIE, cookieValid, hostAllowed, originAllowed, readCookie, safeNext, setCookieHeader, signCookie, type Tickets } from './auth.js';
import type { Live } from './live.js';
import { openApiDocument } from './openapi.js';
import { matchPath, ROUTES, type ApiContext } from './routes.js';
import { relayTerminal, type TerminalStats } from './terminal.js';
import { runnersOf } from '../runners/runners.js';
import { ASSETS, indexHtml, messagePage } from './web-assets.js';

const MAX_BODY = 16 * 1024 * 1024;

export interface ServerDeps {
  api: ApiContext;
  live: Live;
  token: string;
  key: Buffer;
  tickets: Tickets;
  /** Hosts (host:port) a request may name; filled in once the port is known. */
  hosts: Set<string>;
  secureCookie: boolean;
  terminals: TerminalStats;
}

type Auth = 'bearer' | 'cookie' | null;

function authOf(req: IncomingMessage, deps: ServerDeps): Auth {
  if (req.headers.authorization !== undefined) return bearerValid(req.headers.authorization, deps.token) ? 'bearer' : null;
  const cookie = readCookie(req.headers.cookie, COOKIE);
  return cookie && cookieValid(deps.key, cookie, Date.now()) ? 'cookie' : null;
}

function statusFor(err: unknown): number {
  if (err instanceof z.ZodError) return 400;
  if (!(err instanceof SwarmError)) return 500;
  if (err.exitCode === ExitCode.notFound) return 404;
  if (err.exitCode === ExitCode.conflict) return 409;
  if (err.exitCode === ExitCode.usage) return 400;
  return 422;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new SwarmError('SWARM_USAGE', 'The request body is larger than 16 MB.', ExitCode.usage);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SwarmError('SWARM_USAGE', 'The request body is not JSON.', ExitCode.usage);
  }
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function sendPage(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(html);
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): Promise<void> {
  if (!hostAllowed(req.headers.host, deps.hosts)) return sendJson(res, 421, { error: `Host "${req.headers.host ?? ''}" is not this swarm daemon's address; open the link \`swarm dashboard\` prints.` });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const auth = authOf(req, deps);
  if (auth === 'cookie' && !originAllowed(req.headers.origin, deps.hosts)) return sendJson(res, 403, { error: 'Cross-origin request refused.' });

  if (method === 'GET' && url.pathname === '/login') {
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!deps.tickets.redeem(ticket, Date.now())) return sendPage(res, 401, messagePage('This link was used already or has expired.', 'Run `swarm dashboard` again for a fresh one.'));
    // Signed in: a cookie the page's scripts cannot read and no other site can send.
    const cookie = setCookieHeader(signCookie(deps.key, Date.now()), deps.secureCookie);
    res.writeHead(303, { location: safeNext(url.searchParams.get('next')), 'set-cookie': cookie, 'cache-control': 'no-store', ...SECURITY_HEADERS });
    return void res.end();
  }
  if (method === 'GET' && url.pathname === '/api/openapi.json') return sendJson(res, 200, openApiDocument(ROUTES));
  const asset = method === 'GET' ? ASSETS[url.pathname] : undefined;
  if (asset) {
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    return void res.end(readFileSync(asset.file));
  }

  if (url.pathname.startsWith('/api/')) {
    if (!auth) return sendJson(res, 401, { error: 'Not signed in. The CLI sends the token in .swarm/daemon.json; a browser opens the link `swarm dashboard` prints.' });
    // A browser's state change must say where it comes from: no Origin on a cookie POST is refused.
    if (auth === 'cookie' && method !== 'GET' && req.headers.origin === undefined) return sendJson(res, 403, { error: 'Cross-origin request refused (no Origin).' });
    if (method === 'GET' && url.pathname === '/api/v1/events') return deps.live.add(res);
    for (const route of ROUTES) {
      if (route.method !== method) continue;
      const params = matchPath(route.path, url.pathname);
      if (!params) continue;
      if (route.bearerOnly && auth !== 'bearer') return sendJson(res, 403, { error: 'Only the swarm CLI may do this.' });
      try {
        const body = method === 'POST' ? await readBody(req) : undefined;
        return sendJson(res, route.status ?? 200, await route.handler({ params, body, api: deps.api, via: auth === 'bearer' ? 'api' : 'dashboard' }));
      } catch (err) {
        const status = statusFor(err);
        return sendJson(res, status, { error: err instanceof z.ZodError ? `Bad request: ${z.prettifyError(err)}` : errorMessage(err) });
      }
    }
    return sendJson(res, 404, { error: `No route ${method} ${url.pathname}. The API is described at /api/openapi.json.` });
  }
  if (method !== 'GET') return sendJson(res, 405, { error: 'Method not allowed.' });
  if (!auth) return sendPage(res, 401, messagePage('Not signed in.', 'Run `swarm dashboard` in the repository: it opens (or prints) a one-time link that signs this browser in.'));
  return sendPage(res, 200, indexHtml());
}

function refuseUpgrade(socket: Duplex, status: number, why: string): void {
  socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createApiServer(deps: ServerDeps): Server {
  const server = createServer((req, res) => {
    handle(req, res, deps).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: errorMessage(err) });
      else res.end();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (!hostAllowed(req.headers.host, deps.hosts)) return refuseUpgrade(socket, 421, 'Misdirected Request');
    const auth = authOf(req, deps);
    if (!auth) return refuseUpgrade(socket, 401, 'Unauthorized');
    // Cross-site WebSocket hijacking: a browser always sends Origin on a WebSocket, and it must be ours.
    if (auth === 'cookie' && (req.headers.origin === undefined || !originAllowed(req.headers.origin, deps.hosts))) return refuseUpgrade(socket, 403, 'Forbidden');
    const params = matchPath('/api/v1/sessions/{session}/terminal', new URL(req.url ?? '/', 'http://localhost').pathname);
    const attempt = params ? deps.api.project.registry.attemptBySession(params.session!) : null;
    const task = attempt ? deps.api.project.registry.getTask(attempt.task_id) : null;
    if (!attempt || !task) return refuseUpgrade(socket, 404, 'Not Found');
    const runner = runnersOf(deps.api.project).for(task);
    wss.handleUpgrade(req, socket, head, (ws) => void relayTerminal(ws, runner, attempt.session_dir, deps.terminals));
  });
  // Stopping: upgraded sockets are not the HTTP server's any more, so they are ended here.
  server.on('terminate-sockets', () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
  return server;
}
