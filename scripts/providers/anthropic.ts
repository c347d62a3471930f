/** A loopback Anthropic Messages API: POST /v1/messages, streamed as SSE (or one JSON body), usage with cache reads. */
import { nextStep, resultsSinceUser, textsIn, type BrainOptions } from './brain.js';
import { sendJson, sse, startProvider, type Provider } from './server.js';

interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: unknown;
  messages?: { role: string; content: unknown }[];
  tools?: { name?: string }[];
}

/** Per model call: fresh input, input read from the prompt cache, output. Cache reads dominate, as in real runs. */
export const ANTHROPIC_USAGE = { input: 230, cached: 6000, output: 42 };

export function anthropicProvider(options: BrainOptions = {}): Promise<Provider> {
  let n = 0;
  return startProvider(
    (path) => path.startsWith('/v1/messages') && !path.includes('count_tokens'),
    (req, res, usage) => {
      if (req.path.startsWith('/v1/messages/count_tokens')) return sendJson(res, 200, { input_tokens: 100 });
      if (!req.path.startsWith('/v1/messages')) return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.path}` } });
      const body = (req.body ?? {}) as MessagesBody;
      const messages = body.messages ?? [];
      const toolResults = resultsSinceUser(
        messages.map((m) => {
          const blocks = Array.isArray(m.content) ? (m.content as { type?: string }[]) : [];
          if (blocks.some((b) => b.type === 'tool_result')) return 'tool_result';
          return m.role === 'user' ? 'user' : 'other';
        }),
      );
      const step = nextStep({ texts: textsIn([body.system, messages]), tools: (body.tools ?? []).map((t) => t.name ?? ''), toolResults }, options);
      const id = `msg_${String(++n).padStart(4, '0')}`;
      const model = body.model ?? 'claude-sonnet-4-5';
      const sent = step.kind === 'text' && step.side ? { input: 20, cached: 0, output: 5 } : ANTHROPIC_USAGE;
      usage.push({ ...sent, main: !(step.kind === 'text' && step.side) });
      const startUsage = { input_tokens: sent.input, cache_creation_input_tokens: 0, cache_read_input_tokens: sent.cached, output_tokens: 1 };
      const block = step.kind === 'tool' ? { type: 'tool_use', id: `toolu_${n}`, name: step.name, input: step.input } : { type: 'text', text: step.text };
      const stopReason = step.kind === 'tool' ? 'tool_use' : 'end_turn';
      if (!body.stream) {
        return sendJson(res, 200, { id, type: 'message', role: 'assistant', model, content: [block], stop_reason: stopReason, stop_sequence: null, usage: { ...startUsage, output_tokens: sent.output } });
      }
      const delta = step.kind === 'tool' ? { type: 'input_json_delta', partial_json: JSON.stringify(step.input) } : { type: 'text_delta', text: step.text };
      const startBlock = step.kind === 'tool' ? { type: 'tool_use', id: `toolu_${n}`, name: step.name, input: {} } : { type: 'text', text: '' };
      sse(res, [
        { event: 'message_start', data: { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: startUsage } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: startBlock } },
        { event: 'ping', data: { type: 'ping' } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: sent.output } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]);
    },
    (status) => ({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status === 401 ? 'authentication_error' : 'api_error', message: status === 429 ? 'Rate limited' : status === 529 ? 'Overloaded' : status === 401 ? 'invalid x-api-key' : 'Internal server error' } }),
  );
}
