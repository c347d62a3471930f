import type { Evidence } from '../../registry/types.js';
import { evidenceLines, type EvidenceBudget } from './evidence-text.js';

/** Pure: the task prompt, the house rules, and on a respawn a "what went wrong last time" section built from evidence. */
export function composePrompt(input: { taskId: number; prompt: string; role?: string; base: string; branch: string; attempt: number; history: readonly Evidence[]; hasCi: boolean; evidence?: EvidenceBudget }): string {
  const parts: string[] = [];
  if (input.role?.trim()) parts.push(input.role.trim(), '');
  parts.push(input.prompt.trim(), '');
  parts.push('## How to work');
  parts.push(`- You are on branch \`${input.branch}\` (task ${input.taskId}), started from \`${input.base}\`. Stay on it.`);
  parts.push('- Commit your work with a meaningful message when done; uncommitted changes are lost.');
  if (input.hasCi) parts.push('- Run the tests before you finish; the same checks run after you exit.');
  parts.push('- Exit when the work is done. Do not wait for input.');
  const latest = input.history.at(-1);
  if (latest) {
    parts.push('', `## What went wrong last time (attempt ${input.attempt - 1})`, latest.summary);
    if (latest.files?.length) parts.push('', 'Files:', ...latest.files.map((file) => `- ${file}`));
    const lines = evidenceLines(latest, input.evidence);
    if (lines.length) parts.push('', ...lines);
    const earlier = input.history.slice(0, -1);
    if (earlier.length) parts.push('', 'Earlier attempts:', ...earlier.map((e, i) => `- attempt ${i + 1}: ${e.summary}`));
  }
  return `${parts.join('\n')}\n`;
}
