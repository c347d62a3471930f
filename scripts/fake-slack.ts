/**
 * A loopback Slack for the tests and the benchmark, speaking what swarm's Slack SDKs use: the Web API
 * (`POST <api>/<method>`, form-encoded as @slack/web-api sends it, bearer tokens, `{ ok, ... }` or
 * `{ ok: false, error }`, 429 with Retry-After), Socket Mode (`apps.connections.open` with the app token
 * hands out a WebSocket URL; the socket says `hello`, delivers envelopes, wants each acknowledged with its
 * `envelope_id`, pings, and may ask for a reconnect with `disconnect`), the three-step file upload, and
 * incoming webhooks (`POST /services/...`, `ok` or an error word). The test plays the people in the channel.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  /** The buttons, by row: label and value. */
  buttons: { text: string; value: string; style?: string }[][];
  thread_ts: string | null;
  edits: string[];
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface FakeSlack {
  /** The Web API's base, for notify.slack.api_url. */
  apiUrl: string;
  /** An incoming webhook's URL, for notify.slack.webhook_url_env. */
  webhookUrl: string;
  botToken: string;
  appToken: string;
  messages: SlackMessage[];
  ephemerals: { channel: string; user: string; text: string }[];
  files: { channel: string; thread_ts: string | null; title: string; bytes: number }[];
  webhookPosts: { text: string; blocks: unknown[] }[];
  /** Envelopes the app acknowledged, by id. */
  acks: Set<string>;
  calls: Map<string, number>;
  /** Socket Mode connections opened so far. */
  connections(): number;
  /** Someone presses a button of a message (by its value); the envelope's id. */
  press(message: SlackMessage, value: string, options: { user: string; channel?: string }): string;
  /** Someone types `/swarm <text>` in a channel. */
  command(channel: string, user: string, text: string): string;
  /** Someone writes in a message's thread. */
  reply(message: SlackMessage, user: string, text: string): string;
  /** Slack asks the app to reconnect (as it does when it recycles a connection). */
  recycle(): void;
  /** The next `n` calls of `method` fail: an error word (HTTP 200), or a 429 with Retry-After. */
  failNext(method: string, n: number, failure: { error: string } | { retryAfter: number }): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

const USERS: Record<string, string> = { U0ANA: 'ana', U0BOB: 'bob', U0EVE: 'eve' };

export async function startFakeSlack(options: { botToken?: string; appToken?: string } = {}): Promise<FakeSlack> {
  const botToken = options.botToken ?? 'xoxb-test-bot-token';
  const appToken = options.appToken ?? 'xapp-1-test-app-token';
  const messages: SlackMessage[] = [];
  const ephemerals: FakeSlack['ephemerals'] = [];
  const files: FakeSlack['files'] = [];
  const webhookPosts: FakeSlack['webhookPosts'] = [];
  const acks = new Set<string>();
  const calls = new Map<string, number>();
  const failures = new Map<string, { n: number; failure: { error: string } | { retryAfter: number } }>();
  const uploads = new Map<string, number>();
  const pending: string[] = [];
  let clock = 1_760_000_000;
  let envelopes = 0;
  let opened = 0;
  let base = '';
  const nextTs = (): string => `${clock++}.000100`;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const buttonsOf = (blocks: string | undefined): SlackMessage['buttons'] => {
    const parsed = blocks ? (JSON.parse(blocks) as { type: string; elements?: { type: string; text?: { text: string }; value?: string; style?: string }[] }[]) : [];
    return parsed.filter((b) => b.type === 'actions').map((b) => (b.elements ?? []).filter((e) => e.type === 'button').map((e) => ({ text: e.text?.text ?? '', value: e.value ?? '', ...(e.style ? { style: e.style } : {}) })));
  };

  const api = async (method: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    calls.set(method, (calls.get(method) ?? 0) + 1);
    const raw = (await readBody(req)).toString('utf8');
    const body = Object.fromEntries(new URLSearchParams(raw)) as Record<string, string | undefined>;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const wanted = method === 'apps.connections.open' ? appToken : botToken;
    if (!auth) return json(res, 200, { ok: false, error: 'not_authed' });
    if (auth !== wanted) return json(res, 200, { ok: false, error: 'invalid_auth' });
    const failure = failures.get(method);
    if (failure && failure.n > 0) {
      failure.n--;
      if ('retryAfter' in failure.failure) return json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.failure.retryAfter) });
      return json(res, 200, { ok: false, error: failure.failure.error });
    }
    switch (method) {
      case 'apps.connections.open':
        return json(res, 200, { ok: true, url: `${base.replace(/^http/, 'ws')}/link/?ticket=${++opened}&app_id=A0FAKE` });
      case 'chat.postMessage': {
        if (!body.channel) return json(res, 200, { ok: false, error: 'channel_not_found' });
        if (!body.text && !body.blocks) return json(res, 200, { ok: false, error: 'no_text' });
        const message: SlackMessage = { channel: body.channel, ts: nextTs(), text: body.text ?? '', buttons: buttonsOf(body.blocks), thread_ts: body.thread_ts ?? null, edits: [], at: Date.now() };
        messages.push(message);
        return json(res, 200, { ok: true, channel: message.channel, ts: message.ts, message: { type: 'message', text: message.text, ts: message.ts } });
      }
      case 'chat.update': {
        const message = messages.find((m) => m.channel === body.channel && m.ts === body.ts);
        if (!message) return json(res, 200, { ok: false, error: 'message_not_found' });
        message.text = body.text ?? '';
        message.buttons = buttonsOf(body.blocks);
        message.edits.push(message.text);
        return json(res, 200, { ok: true, channel: message.channel, ts: message.ts, text: message.text });
      }
      case 'chat.postEphemeral':
        ephemerals.push({ channel: body.channel ?? '', user: body.user ?? '', text: body.text ?? '' });
        return json(res, 200, { ok: true, message_ts: nextTs() });
      case 'files.getUploadURLExternal': {
        const id = `F0${uploads.size + 1}`;
        uploads.set(id, 0);
        return json(res, 200, { ok: true, upload_url: `${base}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const list = JSON.parse(body.files ?? '[]') as { id: string; title?: string }[];
        for (const f of list) {
          if (!uploads.get(f.id)) return json(res, 200, { ok: false, error: 'file_upload_not_found' });
          files.push({ channel: body.channel_id ?? '', thread_ts: body.thread_ts ?? null, title: f.title ?? '', bytes: uploads.get(f.id)! });
        }
        return json(res, 200, { ok: true, files: list.map((f) => ({ id: f.id, title: f.title })) });
      }
      default:
        return json(res, 200, { ok: false, error: 'unknown_method' });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', base);
    const method = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
    if (method) return api(method, req, res);
    const upload = /^\/upload\/(F\w+)$/.exec(url.pathname)?.[1];
    if (upload && uploads.has(upload)) {
      // Slack takes the file's bytes raw or as a multipart form's file part.
      const raw = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      let bytes = raw.length;
      if (type.startsWith('multipart/form-data')) {
        const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(raw) }).formData();
        bytes = 0;
        for (const [, value] of form as unknown as Iterable<[string, string | Blob]>) if (typeof value !== 'string') bytes += value.size;
      }
      uploads.set(upload, bytes);
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${bytes}`);
    }
    if (url.pathname === '/services/T0FAKE/B0FAKE/hooksecret') {
      try {
        const post = JSON.parse((await readBody(req)).toString('utf8')) as { text?: string; blocks?: unknown[] };
        if (!post.text && !post.blocks) throw new Error('empty');
        webhookPosts.push({ text: post.text ?? '', blocks: post.blocks ?? [] });
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('ok');
      } catch {
        res.writeHead(400, { 'content-type': 'text/html' });
        return void res.end('invalid_payload');
      }
    }
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end(url.pathname.startsWith('/services/') ? 'no_service' : 'not found');
  };

  // Socket Mode: one live connection at a time (the app's); envelopes wait for it, and one sent but never
  // acknowledged is sent again on the next connection, as Slack retries them.
  let live: WebSocket | null = null;
  const unacked = new Map<string, string>();
  const wss = new WebSocketServer({ noServer: true });
  const flush = (): void => {
    while (live && live.readyState === live.OPEN && pending.length) {
      const envelope = pending.shift()!;
      unacked.set((JSON.parse(envelope) as { envelope_id: string }).envelope_id, envelope);
      live.send(envelope);
    }
  };
  wss.on('connection', (ws) => {
    live = ws;
    const retries = [...unacked].filter(([id]) => !acks.has(id)).map(([, envelope]) => {
      const again = JSON.parse(envelope) as { retry_attempt: number; retry_reason: string };
      return JSON.stringify({ ...again, retry_attempt: again.retry_attempt + 1, retry_reason: 'timeout' });
    });
    pending.unshift(...retries);
    unacked.clear();
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-fake', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0FAKE' } }));
    const pinger = setInterval(() => ws.ping('ping'), 5_000);
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string };
      if (message.envelope_id) acks.add(message.envelope_id);
    });
    ws.on('close', () => {
      clearInterval(pinger);
      if (live === ws) live = null;
    });
    flush();
  });
  const deliver = (type: 'interactive' | 'slash_commands' | 'events_api', payload: unknown): string => {
    const envelope_id = `env-${++envelopes}`;
    pending.push(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    flush();
    return envelope_id;
  };
  const user = (id: string) => ({ id, username: USERS[id] ?? id.toLowerCase(), name: USERS[id] ?? id.toLowerCase(), team_id: 'T0FAKE' });

  const sockets = new Set<Socket>();
  let server: Server;
  const listen = async (port: number): Promise<number> => {
    server = createServer((req, res) => void handle(req, res).catch((err: unknown) => json(res, 500, { ok: false, error: String(err) })));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith('/link/')) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(0);
  base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    for (const ws of wss.clients) ws.terminate();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    apiUrl: `${base}/api/`,
    webhookUrl: `${base}/services/T0FAKE/B0FAKE/hooksecret`,
    botToken,
    appToken,
    messages,
    ephemerals,
    files,
    webhookPosts,
    acks,
    calls,
    connections: () => opened,
    press(message, value, { user: id, channel }) {
      const where = channel ?? message.channel;
      const row = message.buttons.findIndex((r) => r.some((b) => b.value === value));
      return deliver('interactive', {
        type: 'block_actions',
        user: user(id),
        api_app_id: 'A0FAKE',
        token: 'verification-token',
        container: { type: 'message', message_ts: message.ts, channel_id: where, is_ephemeral: false },
        trigger_id: `trigger-${envelopes}`,
        team: { id: 'T0FAKE', domain: 'fake' },
        channel: { id: where, name: 'swarm' },
        message: { type: 'message', ts: message.ts, text: message.text },
        response_url: `${base}/actions/response`,
        actions: [{ action_id: `swarm-${Math.max(row, 0)}-0`, block_id: `swarm-${Math.max(row, 0)}`, value, type: 'button', action_ts: nextTs(), text: { type: 'plain_text', text: 'button' } }],
      });
    },
    command(channel, id, text) {
      return deliver('slash_commands', { token: 'verification-token', team_id: 'T0FAKE', channel_id: channel, channel_name: 'swarm', user_id: id, user_name: USERS[id] ?? id, command: '/swarm', text, api_app_id: 'A0FAKE', response_url: `${base}/commands/response`, trigger_id: `trigger-${envelopes}` });
    },
    reply(message, id, text) {
      const ts = nextTs();
      return deliver('events_api', { token: 'verification-token', team_id: 'T0FAKE', api_app_id: 'A0FAKE', type: 'event_callback', event_id: `Ev${envelopes}`, event_time: clock, event: { type: 'message', channel: message.channel, user: id, text, ts, thread_ts: message.thread_ts ?? message.ts, event_ts: ts, channel_type: 'channel' } });
    },
    recycle() {
      live?.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'applink-fake' } }));
    },
    failNext(method, n, failure) {
      failures.set(method, { n, failure });
    },
    down: stop,
    async up() {
      await listen(port);
    },
    close: async () => {
      await stop();
      wss.close();
    },
  };
}
