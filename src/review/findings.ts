/**
 * What a reviewer must answer, and reading it. Pure. An answer is usable when a JSON object in it matches the
 * schema (the last such one counts); anything else says what was found, so the reviewer can be asked again once.
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

/** Where the JSON object starting at `start` ends (string-aware brace matching), or -1. */
function objectEnd(text: string, start: number, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < Math.min(text.length, start + limit); i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Every top-level JSON object in `text`, in order: bare, fenced, pretty-printed or on one line, wherever it
 * stands among log lines and prose. Only the last `window` characters are read (an answer comes last).
 */
export function jsonObjects(text: string, window = 512 * 1024, maxObjectChars = 256 * 1024): Record<string, unknown>[] {
  const from = Math.max(0, text.length - window);
  const found: Record<string, unknown>[] = [];
  // Unclosed braces (a cut log line) each cost a scan: bounded in all, so no output makes this slow.
  let budget = 32 * window;
  for (let i = text.indexOf('{', from); i !== -1 && budget > 0; ) {
    const end = objectEnd(text, i, maxObjectChars);
    budget -= end === -1 ? Math.min(maxObjectChars, text.length - i) : end - i;
    let value: unknown;
    if (end !== -1) {
      try {
        value = JSON.parse(text.slice(i, end + 1));
      } catch {
        value = undefined;
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      found.push(value as Record<string, unknown>);
      i = text.indexOf('{', end + 1);
    } else i = text.indexOf('{', i + 1);
  }
  return found;
}

export type ParsedReview = { ok: true; review: ReviewAnswer } | { ok: false; why: string };

/** Objects that open a line (one-line or pretty-printed, fenced or not), last first: where answers stand. */
function lineObjects(text: string, maxObjectChars: number): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const match of [...text.matchAll(/^[ \t]*\{/gm)].reverse()) {
    const start = match.index + match[0].length - 1;
    const end = objectEnd(text, start, maxObjectChars);
    if (end === -1) continue;
    try {
      const value: unknown = JSON.parse(text.slice(start, end + 1));
      if (value && typeof value === 'object' && !Array.isArray(value)) found.push(value as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return found;
}

/** The verdict: the last JSON object in the output that is a valid review, whatever came before it. */
export function parseReview(text: string, window = 512 * 1024): ParsedReview {
  const tail = text.slice(-window);
  // Most answers open a line: looked at first, from the end, so no earlier output can hide them.
  for (const value of lineObjects(tail, 256 * 1024)) {
    const parsed = ReviewAnswer.safeParse(value);
    if (parsed.success) return { ok: true, review: parsed.data };
  }
  const objects = jsonObjects(tail);
  for (let i = objects.length - 1; i >= 0; i--) {
    const parsed = ReviewAnswer.safeParse(objects[i]);
    if (parsed.success) return { ok: true, review: parsed.data };
  }
  if (!objects.length) return { ok: false, why: 'the answer held no JSON object' };
  const last = objects.at(-1)!;
  const issues = ReviewAnswer.safeParse(last).error?.issues ?? [];
  const count = objects.length === 1 ? '1 JSON object, not a review verdict' : `${objects.length} JSON objects, none a review verdict`;
  const shown = JSON.stringify(last);
  return { ok: false, why: `${count}: the last one (${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}) does not match the schema: ${issues.slice(0, 3).map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ')}` };
}

/** "src/add.ts:2" or "src/add.ts". */
export function where(finding: Pick<Finding, 'file' | 'line'>): string {
  return finding.line ? `${finding.file}:${finding.line}` : finding.file;
}
