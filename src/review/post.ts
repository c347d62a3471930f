/**
 * A review as a forge posts it: inline comments where GitHub accepts them (lines of the PR's diff, new side),
 * everything else in the review body, named after the reviewer and marked as swarm's own so it is never read
 * back as a human's review. Pure.
 */
import { where, type ReviewAnswer } from './findings.js';

/** In every body swarm posts: its own reviews are never evidence. */
export const SWARM_REVIEW_MARK = '<!-- swarm-review -->';

/** Per file, the new-side lines a review comment may sit on: the lines of the diff's hunks (added and context). */
export function diffLines(diff: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  let file: string | null = null;
  let line = 0;
  for (const text of diff.split('\n')) {
    if (text.startsWith('+++ ')) {
      file = text.startsWith('+++ b/') ? text.slice(6) : null;
      if (file && !out.has(file)) out.set(file, new Set());
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (hunk) {
      line = Number(hunk[1]);
      continue;
    }
    if (!file || text.startsWith('---') || text.startsWith('diff ') || text.startsWith('index ')) continue;
    if (text.startsWith('+') || text.startsWith(' ')) out.get(file)!.add(line++);
  }
  return out;
}

export interface ReviewPayload {
  commit_id: string;
  event: 'COMMENT';
  body: string;
  comments: { path: string; line: number; side: 'RIGHT'; body: string }[];
}

export function reviewPayload(input: { reviewer: string; model: string | null; answer: ReviewAnswer; head: string; lines: Map<string, Set<number>> }): ReviewPayload {
  const { answer } = input;
  const inline = answer.findings.filter((f) => f.line && input.lines.get(f.file)?.has(f.line));
  const outside = answer.findings.filter((f) => !inline.includes(f));
  const body = [
    `**swarm reviewer \`${input.reviewer}\`**${input.model ? ` (${input.model})` : ''}: ${answer.verdict === 'approve' ? 'approves' : 'requests changes'}`,
    ...(answer.summary ? ['', answer.summary] : []),
    ...(outside.length ? ['', 'Findings outside the diff:', ...outside.map((f) => `- \`${where(f)}\` **${f.severity}** ${f.title}${f.body ? `: ${f.body}` : ''}`)] : []),
    '',
    SWARM_REVIEW_MARK,
  ].join('\n');
  return {
    commit_id: input.head,
    event: 'COMMENT',
    body,
    comments: inline.map((f) => ({ path: f.file, line: f.line!, side: 'RIGHT' as const, body: `**${f.severity}** ${f.title} (swarm reviewer \`${input.reviewer}\`)${f.body ? `\n\n${f.body}` : ''}\n${SWARM_REVIEW_MARK}` })),
  };
}
