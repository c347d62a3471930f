import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLoopback } from '../loopback.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** What one model call was billed, as the provider reported it to the client. */
export interface UsageSent {
  input: number;
  cached: number;
  output: number;
  /** A request of the agent's own loop (it offered the shell tool), not a side request. */
  main: boolean;
}

export interface Provider {
  url: string;
  requests: RecordedRequest[];
  usage: UsageSent[];
  /** Answer the next n model calls with this HTTP status (429, 529, 500 ...). */
  failNext: (n: number, status: number) => void;
  close: () => Promise<void>;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, usage: UsageSent[]) => void;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** Server-sent events, written one by one as a streaming provider does. */
export function sse(res: ServerResponse, events: { event?: string; data: unknown }[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
  res.end();
}

/**
 * A loopback provider: records every request, answers model calls through `handle`, and can fail the next
 * calls with a status (each protocol's own error body comes from `errorBody`).
 */
export async function startProvider(isModelCall: (path: string) => boolean, handle: Handler, errorBody: (status: number) => unknown): Promise<Provider> {
  const requests: RecordedRequest[] = [];
  const usage: UsageSent[] = [];
  let failures = 0;
  let failStatus = 500;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        // keep it as text
      }
      const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(record);
      if (isModelCall(record.path) && failures > 0) {
        failures--;
        sendJson(res, failStatus, errorBody(failStatus));
        return;
      }
      try {
        handle(record, res, usage);
      } catch (err) {
        sendJson(res, 500, errorBody(500));
        process.stderr.write(`provider handler failed: ${String(err)}\n`);
      }
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    requests,
    usage,
    failNext: (n, status) => {
      failures = n;
      failStatus = status;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
