/** The orchestrator's model: JSON answers constrained by a schema (Ollama `format`, OpenAI `response_format`). */
import { Ollama } from 'ollama';
import type { SwarmConfig } from '../config/schema.js';
import { describeOllamaError } from '../agents/builtin/model.js';
import { DEFAULT_OLLAMA_HOST } from '../agents/builtin/adapter.js';
import { SwarmError, ExitCode } from '../errors.js';

export class OrchestratorError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.agent);
  }
}

export interface JsonMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface JsonModel {
  readonly describe: string;
  complete(messages: JsonMessage[], schema: Record<string, unknown>): Promise<string>;
  /** Tokens of the last completion, where the server said. */
  readonly lastUsage?: { input_tokens: number; output_tokens: number } | null;
}

export class OllamaJsonModel implements JsonModel {
  private readonly client: Ollama;
  readonly describe: string;
  lastUsage: { input_tokens: number; output_tokens: number } | null = null;
  constructor(private readonly host: string, private readonly model: string, private readonly numCtx: number) {
    this.client = new Ollama({ host });
    this.describe = `${model} on Ollama at ${host}`;
  }
  async complete(messages: JsonMessage[], schema: Record<string, unknown>): Promise<string> {
    try {
      const response = await this.client.chat({ model: this.model, messages, format: schema, stream: false, options: { num_ctx: this.numCtx, temperature: 0 } });
      this.lastUsage = { input_tokens: response.prompt_eval_count ?? 0, output_tokens: response.eval_count ?? 0 };
      return response.message.content;
    } catch (err) {
      throw new OrchestratorError('SWARM_ORCHESTRATOR_MODEL', describeOllamaError(err, this.host, this.model));
    }
  }
}

export class OpenAiJsonModel implements JsonModel {
  readonly describe: string;
  lastUsage: { input_tokens: number; output_tokens: number } | null = null;
  constructor(private readonly baseUrl: string, private readonly model: string, private readonly apiKey: string | undefined) {
    this.describe = `${model} at ${baseUrl}`;
  }
  async complete(messages: JsonMessage[], schema: Record<string, unknown>): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.model, messages, temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } }),
        signal: AbortSignal.timeout(600_000),
      });
    } catch (err) {
      throw new OrchestratorError('SWARM_ORCHESTRATOR_MODEL', `The orchestrator model at ${this.baseUrl} is not reachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!response.ok) throw new OrchestratorError('SWARM_ORCHESTRATOR_MODEL', `${this.baseUrl} answered HTTP ${response.status}`);
    const body = (await response.json()) as { choices?: { message?: { content?: string } }[]; usage?: { prompt_tokens?: number; completion_tokens?: number } };
    if (body.usage) this.lastUsage = { input_tokens: body.usage.prompt_tokens ?? 0, output_tokens: body.usage.completion_tokens ?? 0 };
    return body.choices?.[0]?.message?.content ?? '';
  }
}

export function orchestratorModel(config: SwarmConfig, env: NodeJS.ProcessEnv = process.env): JsonModel | null {
  const o = config.orchestrator;
  if (!o.model) return null;
  if (o.openai_base_url) return new OpenAiJsonModel(o.openai_base_url, o.model, o.api_key_env ? env[o.api_key_env] : undefined);
  return new OllamaJsonModel(o.host ?? env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST, o.model, o.num_ctx);
}
