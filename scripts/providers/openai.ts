/**
 * Loopback OpenAI-protocol providers: the Responses API (POST /v1/responses, SSE) that codex speaks, and
 * Chat Completions (POST /v1/chat/completions, SSE) that OpenAI-compatible providers (opencode's) speak.
 */
import { nextStep, resultsSinceUser, textsIn, type BrainOptions } from './brain.js';
import { sendJson, sse, startProvider, type Provider } from './server.js';

export const OPENAI_USAGE = { input: 3100, cached: 2048, output: 57 };

const errorBody = (status: number): unknown => ({
  error: { message: status === 429 ? 'Rate limit reached for requests' : status === 401 ? 'Incorrect API key provided' : 'The server had an error while processing your request', type: status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_request_error' : 'server_error', code: status === 429 ? 'rate_limit_exceeded' : null },
});

interface ResponsesBody {
  model?: string;
  instructions?: string;
  input?: { type?: string; role?: string; content?: unknown; output?: unknown }[];
  tools?: { type?: string; name?: string }[];
}

function modelsList(res: Parameters<Parameters<typeof startProvider>[1]>[1]): void {
  sendJson(res, 200, { object: 'list', data: [{ id: 'gpt-test', object: 'model', created: 1_700_000_000, owned_by: 'swarm' }] });
}

export function responsesProvider(options: BrainOptions = {}): Promise<Provider> {
  let n = 0;
  return startProvider(
    (path) => path.includes('/responses'),
    (req, res, usage) => {
      if (req.path.endsWith('/models') || req.path.includes('/models?')) return modelsList(res);
      if (!req.path.includes('/responses')) return sendJson(res, 404, errorBody(404));
      const body = (req.body ?? {}) as ResponsesBody;
      const input = body.input ?? [];
      const toolResults = resultsSinceUser(input.map((i) => (i.type === 'function_call_output' || i.type === 'custom_tool_call_output' || i.type === 'local_shell_call_output' ? 'tool_result' : i.type === 'message' && i.role === 'user' ? 'user' : 'other')));
      const tools = (body.tools ?? []).map((t) => t.name ?? t.type ?? '');
      const step = nextStep({ texts: textsIn([body.instructions, input]), tools, toolResults }, options);
      const id = `resp_${String(++n).padStart(4, '0')}`;
      const sent = step.kind === 'text' && step.side ? { input: 30, cached: 0, output: 5 } : OPENAI_USAGE;
      usage.push({ ...sent, main: !(step.kind === 'text' && step.side) });
      const item =
        step.kind === 'tool'
          ? { type: 'function_call', id: `fc_${n}`, status: 'completed', call_id: `call_${n}`, name: step.name, arguments: JSON.stringify(step.input) }
          : { type: 'message', id: `msg_${n}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: step.text, annotations: [] }] };
      const response = { id, object: 'response', created_at: 1_700_000_000 + n, model: body.model ?? 'gpt-test', status: 'in_progress', output: [] as unknown[] };
      const events: { event?: string; data: unknown }[] = [
        { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response } },
        { event: 'response.output_item.added', data: { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: step.kind === 'tool' ? { ...item, arguments: '' } : { ...item, content: [] } } },
      ];
      if (step.kind === 'text') {
        events.push({ event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 2, item_id: item.id, output_index: 0, content_index: 0, delta: step.text } });
      } else {
        events.push({ event: 'response.function_call_arguments.delta', data: { type: 'response.function_call_arguments.delta', sequence_number: 2, item_id: item.id, output_index: 0, delta: JSON.stringify(step.input) } });
      }
      events.push(
        { event: 'response.output_item.done', data: { type: 'response.output_item.done', sequence_number: 3, output_index: 0, item } },
        {
          event: 'response.completed',
          data: {
            type: 'response.completed',
            sequence_number: 4,
            response: { ...response, status: 'completed', output: [item], usage: { input_tokens: sent.input, input_tokens_details: { cached_tokens: sent.cached }, output_tokens: sent.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: sent.input + sent.output } },
          },
        },
      );
      sse(res, events);
    },
    errorBody,
  );
}

interface ChatBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content?: unknown }[];
  tools?: { function?: { name?: string } }[];
}

export function chatCompletionsProvider(options: BrainOptions = {}): Promise<Provider> {
  let n = 0;
  return startProvider(
    (path) => path.includes('/chat/completions'),
    (req, res, usage) => {
      if (req.path.endsWith('/models')) return modelsList(res);
      if (!req.path.includes('/chat/completions')) return sendJson(res, 404, errorBody(404));
      const body = (req.body ?? {}) as ChatBody;
      const messages = body.messages ?? [];
      const toolResults = resultsSinceUser(messages.map((m) => (m.role === 'tool' ? 'tool_result' : m.role === 'user' ? 'user' : 'other')));
      const step = nextStep({ texts: textsIn(messages), tools: (body.tools ?? []).map((t) => t.function?.name ?? ''), toolResults }, options);
      const id = `chatcmpl-${++n}`;
      const sent = step.kind === 'text' && step.side ? { input: 25, cached: 0, output: 5 } : OPENAI_USAGE;
      usage.push({ ...sent, main: !(step.kind === 'text' && step.side) });
      const created = 1_700_000_000 + n;
      const model = body.model ?? 'gpt-test';
      const usageBody = { prompt_tokens: sent.input, completion_tokens: sent.output, total_tokens: sent.input + sent.output, prompt_tokens_details: { cached_tokens: sent.cached } };
      const message = step.kind === 'tool' ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${n}`, type: 'function', function: { name: step.name, arguments: JSON.stringify(step.input) } }] } : { role: 'assistant', content: step.text };
      const finish = step.kind === 'tool' ? 'tool_calls' : 'stop';
      if (!body.stream) return sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finish }], usage: usageBody });
      const chunk = (delta: unknown, finishReason: string | null, extra: Record<string, unknown> = {}): { data: unknown } => ({ data: { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra } });
      const delta = step.kind === 'tool' ? { role: 'assistant', tool_calls: [{ index: 0, id: `call_${n}`, type: 'function', function: { name: step.name, arguments: JSON.stringify(step.input) } }] } : { role: 'assistant', content: step.text };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const e of [chunk(delta, null), chunk({}, finish), { data: { id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageBody } }]) res.write(`data: ${JSON.stringify(e.data)}\n\n`);
      res.end('data: [DONE]\n\n');
    },
    errorBody,
  );
}

export { sse };
