import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLoopback } from './loopback.js';

/** One scripted model turn: text streamed in chunks, tool calls, or a failure. */
export type Turn =
  | { text?: string; tool_calls?: { name: string; arguments: unknown }[] }
  | { http_error: number; message: string }
  | { mid_stream_error: string; text?: string }
  | { hang: true }
  /** Tool calls exactly as given, malformed ones included (`[{}]`), the way a confused model sends them. */
  | { raw_tool_calls: unknown[] };

export interface ChatRequestRecord {
  model: string;
  messages: { role: string; content: string; tool_name?: string; tool_calls?: unknown[] }[];
  tools?: { function: { name: string } }[];
  options?: { num_ctx?: number };
  stream?: boolean;
  format?: unknown;
}

export interface FakeOllama {
  url: string;
  chats: ChatRequestRecord[];
  script: (turns: Turn[]) => void;
  close: () => Promise<void>;
}

/**
 * A loopback server speaking Ollama's HTTP protocol as the real one does: /api/tags, /api/show with
 * capabilities, /api/chat streaming NDJSON that ends with a `done: true` chunk, errors as `{"error": ...}`.
 */
export async function fakeOllama(models: { name: string; capabilities: string[] }[]): Promise<FakeOllama> {
  let turns: Turn[] = [];
  const chats: ChatRequestRecord[] = [];
  const hanging = new Set<ServerResponse>();
  const body = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve(data));
    });
  const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value));
  };
  const now = (): string => new Date().toISOString();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      if (req.method === 'GET' && req.url === '/api/tags') {
        return sendJson(res, 200, {
          models: models.map((m) => ({ name: m.name, model: m.name, modified_at: now(), size: 4_700_000_000, digest: 'sha256:0123', details: { parent_model: '', format: 'gguf', family: 'qwen2', families: ['qwen2'], parameter_size: '7.6B', quantization_level: 'Q4_K_M' } })),
        });
      }
      if (req.method === 'GET' && req.url === '/api/version') return sendJson(res, 200, { version: '0.12.0' });
      if (req.method === 'POST' && req.url === '/api/show') {
        const { model } = JSON.parse(text) as { model: string };
        const found = models.find((m) => m.name === model);
        if (!found) return sendJson(res, 404, { error: `model '${model}' not found` });
        return sendJson(res, 200, { license: '', modelfile: '', parameters: 'num_ctx 4096', template: '{{ .Prompt }}', details: { parent_model: '', format: 'gguf', family: 'qwen2', families: ['qwen2'], parameter_size: '7.6B', quantization_level: 'Q4_K_M' }, model_info: { 'general.architecture': 'qwen2', 'qwen2.context_length': 32768 }, capabilities: found.capabilities, modified_at: now() });
      }
      if (req.method === 'POST' && req.url === '/api/chat') {
        const request = JSON.parse(text) as ChatRequestRecord;
        chats.push(request);
        if (!models.some((m) => m.name === request.model)) return sendJson(res, 404, { error: `model "${request.model}" not found, try pulling it first` });
        const turn = turns.shift() ?? { text: 'I have nothing more to do.' };
        if ('http_error' in turn) return sendJson(res, turn.http_error, { error: turn.message });
        if ('hang' in turn) {
          hanging.add(res);
          return;
        }
        if (request.stream === false) {
          // Non-streaming (structured output): one JSON object, as Ollama answers.
          if ('mid_stream_error' in turn) return sendJson(res, 500, { error: turn.mid_stream_error });
          return sendJson(res, 200, {
            model: request.model,
            created_at: now(),
            message: { role: 'assistant', content: 'text' in turn && turn.text ? turn.text : '', ...('tool_calls' in turn && turn.tool_calls?.length ? { tool_calls: turn.tool_calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) } : {}) },
            done: true,
            done_reason: 'stop',
            total_duration: 1_000_000,
            prompt_eval_count: 60 * request.messages.length,
            eval_count: 30,
          });
        }
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        const chunk = (message: Record<string, unknown>, done: boolean, extra: Record<string, unknown> = {}): void => {
          res.write(`${JSON.stringify({ model: request.model, created_at: now(), message: { role: 'assistant', content: '', ...message }, done, ...extra })}\n`);
        };
        const words = ('text' in turn && turn.text ? turn.text : '').match(/\S+\s*/g) ?? [];
        for (const word of words) chunk({ content: word }, false);
        if ('mid_stream_error' in turn) {
          res.end(`${JSON.stringify({ error: turn.mid_stream_error })}\n`);
          return;
        }
        if ('tool_calls' in turn && turn.tool_calls?.length) chunk({ tool_calls: turn.tool_calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }, false);
        if ('raw_tool_calls' in turn) chunk({ tool_calls: turn.raw_tool_calls }, false);
        chunk({}, true, { done_reason: 'stop', total_duration: 1_000_000, load_duration: 1_000, prompt_eval_count: 60 * request.messages.length, prompt_eval_duration: 1_000, eval_count: 30, eval_duration: 1_000 });
        res.end();
        return;
      }
      sendJson(res, 404, { error: 'not found' });
    })();
  });
  const url = await listenLoopback(server);
  return {
    url,
    chats,
    script: (next) => {
      turns = [...next];
    },
    close: () =>
      new Promise((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The scripted model turns that fix the addNumbers sample like a competent model would. */
export const FIX_ADD_NUMBERS: Turn[] = [
  { text: 'Let me look at the failing test first.', tool_calls: [{ name: 'read', arguments: { path: 'test/add.test.ts' } }] },
  { tool_calls: [{ name: 'grep', arguments: { pattern: 'function addNumbers' } }] },
  { tool_calls: [{ name: 'read', arguments: { path: 'src/add.ts' } }] },
  { text: 'It subtracts; it must add.', tool_calls: [{ name: 'edit', arguments: { path: 'src/add.ts', old_text: 'return a - b;', new_text: 'return a + b;' } }] },
  { tool_calls: [{ name: 'bash', arguments: { command: 'git diff --stat' } }] },
  { tool_calls: [{ name: 'finish', arguments: { summary: 'Fix addNumbers: add instead of subtract\n\nThe test expects 2 + 3 = 5.' } }] },
];
