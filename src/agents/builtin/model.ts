/** The built-in agent's model: Ollama through the `ollama` client, or any OpenAI-compatible server. */
import { Ollama, type Message as OllamaMessage } from 'ollama';
import * as z from 'zod';
import type { ToolSpec } from './tools.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: ToolCall[];
  /** For role tool: which call this answers. */
  tool_name?: string;
  tool_call_id?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments, or the error that parsing them produced (answered to the model, never thrown). */
  arguments: unknown;
  malformed?: string;
}

export interface ChatTurn {
  content: string;
  tool_calls: ToolCall[];
  prompt_tokens: number;
  completion_tokens: number;
}

export class ModelError extends Error {}

export interface ModelClient {
  readonly describe: string;
  /** null when the model can call tools; otherwise what to do about it. */
  checkTools(): Promise<string | null>;
  chat(messages: ChatMessage[], tools: ToolSpec[], onText: (text: string) => void): Promise<ChatTurn>;
}

let callCounter = 0;
const nextId = (): string => `call_${++callCounter}`;

export class OllamaModel implements ModelClient {
  private readonly client: Ollama;
  readonly describe: string;
  constructor(private readonly host: string, private readonly model: string, private readonly numCtx: number) {
    this.client = new Ollama({ host });
    this.describe = `${model} on Ollama at ${host}`;
  }

  async checkTools(): Promise<string | null> {
    try {
      const info = await this.client.show({ model: this.model });
      if (!info.capabilities?.includes('tools')) {
        return `Model ${this.model} cannot call tools (its capabilities: ${info.capabilities?.join(', ') || 'none listed'}). Pick a tool-capable model, e.g. \`ollama pull qwen2.5-coder:7b\`, and set it as the agent's model.`;
      }
      return null;
    } catch (err) {
      return describeOllamaError(err, this.host, this.model);
    }
  }

  async chat(messages: ChatMessage[], tools: ToolSpec[], onText: (text: string) => void): Promise<ChatTurn> {
    const payload: OllamaMessage[] = messages.map((m) => ({
      role: m.role,
      content: m.content,
      ...(m.tool_calls ? { tool_calls: m.tool_calls.map((c) => ({ function: { name: c.name, arguments: isRecord(c.arguments) ? c.arguments : {} } })) } : {}),
      ...(m.tool_name ? { tool_name: m.tool_name } : {}),
    }));
    const turn: ChatTurn = { content: '', tool_calls: [], prompt_tokens: 0, completion_tokens: 0 };
    try {
      const stream = await this.client.chat({
        model: this.model,
        messages: payload,
        tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
        stream: true,
        options: { num_ctx: this.numCtx },
      });
      for await (const part of stream) {
        if (part.message?.content) {
          turn.content += part.message.content;
          onText(part.message.content);
        }
        for (const raw of (part.message?.tool_calls ?? []) as unknown[]) {
          // A model may send a call with no function at all (`tool_calls: [{}]`): answered as malformed, never a crash.
          const fn = isRecord(raw) && isRecord(raw.function) ? raw.function : null;
          const args: unknown = fn?.arguments;
          const name = typeof fn?.name === 'string' ? fn.name : '';
          turn.tool_calls.push({ id: nextId(), name, arguments: args, malformed: !fn ? 'the call has no "function" with a name and arguments' : isRecord(args) ? undefined : 'arguments must be a JSON object' });
        }
        if (part.done) {
          turn.prompt_tokens = part.prompt_eval_count ?? 0;
          turn.completion_tokens = part.eval_count ?? 0;
        }
      }
    } catch (err) {
      throw new ModelError(describeOllamaError(err, this.host, this.model));
    }
    return turn;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeOllamaError(err: unknown, host: string, model: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const status = typeof err === 'object' && err !== null && 'status_code' in err ? Number((err as { status_code: unknown }).status_code) : null;
  if (status === 404 || /not found/i.test(message)) return `Model ${model} is not on the Ollama server at ${host}. Run \`ollama pull ${model}\`.`;
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|socket/i.test(message)) return `Ollama is not reachable at ${host} (${message}). Start it with \`ollama serve\`, or set OLLAMA_HOST / the agent's "host".`;
  // The status goes in the words: the monitor tells a 5xx or 429 (wait) from a 4xx (a fault) by it.
  return `Ollama at ${host} answered with an error${status !== null && Number.isFinite(status) ? ` (HTTP ${status})` : ''}: ${message}`;
}

const OpenAiResponse = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullable().optional(),
          tool_calls: z.array(z.object({ id: z.string().optional(), function: z.object({ name: z.string(), arguments: z.string() }) })).nullable().optional(),
        }),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).optional(),
});

/** vLLM, llama.cpp server, LM Studio: /v1/chat/completions with function tools. */
export class OpenAiCompatibleModel implements ModelClient {
  readonly describe: string;
  constructor(private readonly baseUrl: string, private readonly model: string, private readonly apiKey: string | undefined) {
    this.describe = `${model} at ${baseUrl}`;
  }

  async checkTools(): Promise<string | null> {
    try {
      const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/models`, { headers: this.headers(), signal: AbortSignal.timeout(5_000) });
      return response.ok ? null : `The server at ${this.baseUrl} answered HTTP ${response.status} to /models.`;
    } catch (err) {
      return `The OpenAI-compatible server at ${this.baseUrl} is not reachable: ${err instanceof Error ? err.message : String(err)}.`;
    }
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) };
  }

  async chat(messages: ChatMessage[], tools: ToolSpec[], onText: (text: string) => void): Promise<ChatTurn> {
    const body = {
      model: this.model,
      messages: messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.tool_calls ? { tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) } })) } : {}),
        ...(m.role === 'tool' ? { tool_call_id: m.tool_call_id } : {}),
      })),
      tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
    };
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers: this.headers(), body: JSON.stringify(body), signal: AbortSignal.timeout(600_000) });
    } catch (err) {
      throw new ModelError(`The OpenAI-compatible server at ${this.baseUrl} is not reachable: ${err instanceof Error ? err.message : String(err)}.`);
    }
    if (!response.ok) throw new ModelError(`${this.baseUrl} answered HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
    const parsed = OpenAiResponse.safeParse(await response.json());
    if (!parsed.success) throw new ModelError(`${this.baseUrl} answered in an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`);
    const message = parsed.data.choices[0]!.message;
    if (message.content) onText(message.content);
    return {
      content: message.content ?? '',
      tool_calls: (message.tool_calls ?? []).map((c) => {
        try {
          const args: unknown = JSON.parse(c.function.arguments || '{}');
          return { id: c.id ?? nextId(), name: c.function.name, arguments: args, malformed: isRecord(args) ? undefined : 'arguments must be a JSON object' };
        } catch (err) {
          return { id: c.id ?? nextId(), name: c.function.name, arguments: null, malformed: `arguments are not valid JSON (${err instanceof Error ? err.message : String(err)})` };
        }
      }),
      prompt_tokens: parsed.data.usage?.prompt_tokens ?? 0,
      completion_tokens: parsed.data.usage?.completion_tokens ?? 0,
    };
  }
}
