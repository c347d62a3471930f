/** The built-in reviewer: one JSON answer from a local model, constrained by the review schema. No tools: it reads nothing but its prompt and writes nothing. */
import { readFileSync } from 'node:fs';
import { OllamaJsonModel, OpenAiJsonModel, type JsonModel } from '../orchestrator/model.js';
import { errorMessage } from '../errors.js';
import { REVIEW_SCHEMA } from './findings.js';
import { DEFAULT_OLLAMA_HOST } from '../agents/builtin/adapter.js';
import type { BuiltinRunOptions } from '../cli/agents.js';

/** The line before the answer in the transcript: the monitor reads what follows it. */
export const ANSWER_MARK = '=== swarm review answer ===';
/** The line with the tokens it took (JSON), before the answer. */
export const USAGE_MARK = '=== swarm review usage ===';

/** The built-in agent's options without the loop's limits: a review is one answer. */
export type BuiltinReviewOptions = Pick<BuiltinRunOptions, 'promptFile' | 'model' | 'host' | 'openaiBaseUrl' | 'apiKeyEnv' | 'numCtx'>;

export async function runBuiltinReview(o: BuiltinReviewOptions, write: (text: string) => void): Promise<number> {
  const model: JsonModel = o.openaiBaseUrl ? new OpenAiJsonModel(o.openaiBaseUrl, o.model, o.apiKeyEnv ? process.env[o.apiKeyEnv] : undefined) : new OllamaJsonModel(o.host ?? DEFAULT_OLLAMA_HOST, o.model, o.numCtx);
  write(`reviewing with ${model.describe}\n`);
  try {
    const answer = await model.complete([{ role: 'system', content: 'You review code changes and answer only with JSON.' }, { role: 'user', content: readFileSync(o.promptFile, 'utf8') }], REVIEW_SCHEMA);
    if (model.lastUsage) write(`${USAGE_MARK} ${JSON.stringify(model.lastUsage)}\n`);
    write(`${ANSWER_MARK}\n${answer}\n`);
    return 0;
  } catch (err) {
    write(`swarm: the review model failed: ${errorMessage(err)}\n`);
    return 1;
  }
}
