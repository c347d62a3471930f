/** A reviewer's prompt: the task, its focus, the diff, the CI result, and its own earlier findings. Pure. */
import { REVIEW_SCHEMA, where, type Finding } from './findings.js';

export const FOCUS: Record<string, string> = {
  logic: 'Logic and edge cases: wrong results, off-by-one, unhandled inputs (empty, null, huge, negative), error paths, missing tests for the change.',
  security: 'Security: injection (shell, SQL, path), secrets in code or logs, unsafe deserialization, missing authorization or input validation, unsafe file or network access.',
  architecture: 'Architecture: the change fits the codebase (layers, names, duplication, a twin of something that exists), is small and readable, and will be easy to change later.',
};

export interface ReviewPromptInput {
  reviewer: string;
  focus: string;
  task: { id: number; title: string; prompt: string; base: string; branch: string };
  diff: string;
  ci: string;
  /** This reviewer's findings on earlier heads of the same task: check they were addressed. */
  earlier: readonly Finding[];
  /** Why its last answer could not be used, when it is asked again. */
  correction?: string | null;
}

export function reviewPrompt(input: ReviewPromptInput): string {
  const focus = FOCUS[input.focus] ?? input.focus;
  const lines = [
    `You are "${input.reviewer}", a code reviewer of task ${input.task.id}: ${input.task.title}`,
    `Review the change on branch ${input.task.branch} against ${input.task.base}. Do not change any file.`,
    '',
    `Your focus: ${focus}`,
    '',
    'The task the author was given:',
    input.task.prompt.trim(),
    '',
    `CI: ${input.ci}`,
    '',
    'The diff:',
    '```diff',
    input.diff.trimEnd(),
    '```',
  ];
  if (input.earlier.length) {
    lines.push('', 'Your findings on an earlier version; check whether each was addressed:');
    for (const f of input.earlier) lines.push(`- ${where(f)} [${f.severity}] ${f.title}`);
  }
  lines.push(
    '',
    'Answer with one JSON object and nothing else, matching this schema:',
    JSON.stringify(REVIEW_SCHEMA),
    'verdict "approve" when the change does what the task asks and nothing in your focus blocks it; "request_changes" otherwise.',
    'Each finding: severity (critical, major, minor, nit), file (path in the repository), line (in the new version), title (one line), body (what is wrong and what to do).',
  );
  if (input.correction) lines.push('', `Your previous answer could not be used: ${input.correction}. Answer again with only the JSON object.`);
  return lines.join('\n');
}

/** The diff, cut past `max` characters, saying so. */
export function boundDiff(diff: string, max: number): string {
  if (diff.length <= max) return diff;
  return `${diff.slice(0, max)}\n… [the diff is ${diff.length} characters; cut at ${max}. Read the rest in the checkout.]`;
}
