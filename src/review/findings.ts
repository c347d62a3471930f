/**
 * What a reviewer must answer, and reading it. Pure. An answer is usable only when it is one JSON object
 * matching the schema; anything else says why, so the reviewer can be asked again once.
 */
import * as z from 'zod';

export const SEVERITIES = ['critical', 'major', 'minor', 'nit'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const Finding = z.object({
  severity: Severity,
  file: z.string(),
  line: z.number().int().nonnegative().nullable().optional(),
  title: z.string().min(1).max(200),
  body: z.string().max(4000).default(''),
});
export type Finding = z.infer<typeof Finding>;

export const ReviewAnswer = z.object({
  verdict: z.enum(['approve', 'request_changes']),
  summary: z.string().max(2000).default(''),
  findings: z.array(Finding).max(50).default([]),
});
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

/** The JSON schema given to the model (Ollama `format`, OpenAI `response_format`) and written in the prompt. */
export const REVIEW_SCHEMA: Record<string, unknown> = {
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['approve', 'request_changes'] },
    summary: { type: 'string' },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          severity: { type: 'string', enum: [...SEVERITIES] },
          file: { type: 'string' },
          line: { type: ['integer', 'null'] },
          title: { type: 'string' },
          body: { type: 'string' },
        },
        required: ['severity', 'file', 'title', 'body'],
      },
    },
  },
  required: ['verdict', 'findings'],
};

/** The JSON object in `text`: all of it, else the last fenced block, else from the first "{" to the last "}". */
function jsonObject(text: string): unknown {
  const fenced = [...text.matchAll(/```(?:json)?\s*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  for (const candidate of [text.trim(), fenced.at(-1), first !== -1 && last > first ? text.slice(first, last + 1) : undefined]) {
    if (!candidate) continue;
    try {
      const value: unknown = JSON.parse(candidate);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // next candidate
    }
  }
  return null;
}

export type ParsedReview = { ok: true; review: ReviewAnswer } | { ok: false; why: string };

export function parseReview(text: string): ParsedReview {
  const json = jsonObject(text);
  if (!json) return { ok: false, why: 'the answer held no JSON object' };
  const parsed = ReviewAnswer.safeParse(json);
  if (!parsed.success) return { ok: false, why: `the JSON does not match the schema: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ')}` };
  return { ok: true, review: parsed.data };
}

/** "src/add.ts:2" or "src/add.ts". */
export function where(finding: Pick<Finding, 'file' | 'line'>): string {
  return finding.line ? `${finding.file}:${finding.line}` : finding.file;
}
