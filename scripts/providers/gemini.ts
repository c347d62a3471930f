/**
 * A loopback Gemini API: POST /v1beta/models/{model}:streamGenerateContent?alt=sse (and :generateContent,
 * :countTokens), function calls as `functionCall` parts, usage with cached content tokens.
 */
import { nextStep, resultsSinceUser, textsIn, type BrainOptions } from './brain.js';
import { sendJson, startProvider, type Provider } from './server.js';

export const GEMINI_USAGE = { input: 5200, cached: 4000, output: 61 };

interface GenerateBody {
  contents?: { role?: string; parts?: { text?: string; functionResponse?: unknown; functionCall?: unknown }[] }[];
  systemInstruction?: unknown;
  tools?: { functionDeclarations?: { name?: string }[] }[];
  generationConfig?: { responseMimeType?: string; responseJsonSchema?: unknown; responseSchema?: unknown };
}

const errorBody = (status: number): unknown => ({
  error: { code: status, message: status === 429 ? 'Resource has been exhausted (e.g. check quota).' : status === 401 || status === 400 ? 'API key not valid. Please pass a valid API key.' : 'Internal error encountered.', status: status === 429 ? 'RESOURCE_EXHAUSTED' : status === 503 ? 'UNAVAILABLE' : status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL' },
});

/** The side requests gemini-cli makes with a JSON schema (next speaker, routing): a valid small answer. */
function jsonAnswer(body: GenerateBody): string {
  const schema = JSON.stringify(body.generationConfig?.responseJsonSchema ?? body.generationConfig?.responseSchema ?? {});
  if (schema.includes('next_speaker')) return JSON.stringify({ reasoning: 'The model finished its turn.', next_speaker: 'user' });
  if (schema.includes('model_choice')) return JSON.stringify({ reasoning: 'Simple task.', model_choice: 'flash' });
  return '{}';
}

export function geminiProvider(options: BrainOptions = {}): Promise<Provider> {
  return startProvider(
    (path) => path.includes(':streamGenerateContent') || path.includes(':generateContent'),
    (req, res, usage) => {
      const model = /models\/([^:/?]+)/.exec(req.path)?.[1] ?? 'gemini-2.5-pro';
      if (req.path.includes(':countTokens')) return sendJson(res, 200, { totalTokens: 100 });
      if (req.path.includes('/models') && req.method === 'GET') return sendJson(res, 200, { models: [{ name: `models/${model}`, supportedGenerationMethods: ['generateContent'] }] });
      const body = (req.body ?? {}) as GenerateBody;
      const wantsJson = body.generationConfig?.responseMimeType === 'application/json';
      const contents = body.contents ?? [];
      const toolResults = resultsSinceUser(contents.map((c) => ((c.parts ?? []).some((p) => p.functionResponse !== undefined) ? 'tool_result' : c.role === 'user' ? 'user' : 'other')));
      const tools = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).map((f) => f.name ?? '');
      const step = wantsJson ? { kind: 'text' as const, text: jsonAnswer(body), side: true } : nextStep({ texts: textsIn([body.systemInstruction, contents]), tools, toolResults }, options);
      const side = step.kind === 'text' && step.side;
      const sent = side ? { input: 40, cached: 0, output: 8 } : GEMINI_USAGE;
      usage.push({ ...sent, main: !side });
      const part = step.kind === 'tool' ? { functionCall: { name: step.name, args: step.input } } : { text: step.text };
      const usageMetadata = { promptTokenCount: sent.input, cachedContentTokenCount: sent.cached, candidatesTokenCount: sent.output, totalTokenCount: sent.input + sent.output };
      const chunk = { candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }], usageMetadata, modelVersion: model, responseId: `r${usage.length}` };
      if (!req.path.includes(':streamGenerateContent')) return sendJson(res, 200, chunk);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    },
    errorBody,
  );
}
