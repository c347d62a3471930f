import type { TaskRow } from '../../registry/types.js';

export interface Out {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: Out = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
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
  const title = task.title.length > 60 ? `${task.title.slice(0, 59)}…` : task.title;
  return [String(task.id), task.state, task.agent, `${task.retries}/${task.max_retries}`, ago(task.updated_at), title];
}
