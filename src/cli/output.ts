import type { ReviewStats } from '../review/stats.js';
import type { TaskRow } from '../../registry/types.js';

export interface Out {
  out: (text: string) => void;
  err: (text: string) => void;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Untrusted text (titles from planners and discovery, agents' output in reasons) cannot drive the terminal:
 * every control character but newline and tab is shown as a \uXXXX escape. Also valid inside JSON strings,
 * so `--json` output passes through unchanged in meaning.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A field printed inside one line (a title in `swarm ls`): its own line breaks shown, so it cannot forge a row. */
export function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '⏎').replace(/\t/g, ' ');
}

export const stdio: Out = {
  out: (text) => process.stdout.write(terminalSafe(text.endsWith('\n') ? text : `${text}\n`)),
  err: (text) => process.stderr.write(terminalSafe(text.endsWith('\n') ? text : `${text}\n`)),
};

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function taskLine(task: TaskRow): string[] {
  const flat = oneLine(task.title);
  const title = flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
  return [String(task.id), task.state, task.agent, task.host ?? 'local', `${task.retries}/${task.max_retries}`, ago(task.updated_at), title];
}

/** `swarm stats --reviews`: per reviewer, and the review cost per merged PR. */
export function renderReviewStats(stats: ReviewStats): string {
  if (stats.reviewers.length === 0) return 'No AI reviews yet (configure review.reviewers).';
  const rows = stats.reviewers.map((r) => [r.reviewer, String(r.reviews), String(r.tokens), r.cost_usd ? `$${r.cost_usd.toFixed(2)}` : '-', String(r.blocking), r.blocking ? `${r.fixed_and_merged} (${Math.round((r.fixed_and_merged / r.blocking) * 100)}%)` : '-']);
  const per = stats.review_cost_per_merged_pr;
  const summary = stats.merged_prs_reviewed ? `Review cost per merged PR: ${per ? `$${per.toFixed(2)}` : '$0 (local models)'}, ${Math.round(stats.review_tokens_per_merged_pr ?? 0)} tokens (${stats.merged_prs_reviewed} merged PR${stats.merged_prs_reviewed === 1 ? '' : 's'} reviewed).` : 'No reviewed PR merged yet.';
  return `${table(['REVIEWER', 'REVIEWS', 'TOKENS', 'COST', 'BLOCKING', 'FIXED+MERGED'], rows)}\n${summary}`;
}
