/** Pure: outcomes per agent, model and kind, and routing that prefers what has worked. */
import type { AgentReport } from '../agents/report.js';

export interface OutcomeRow {
  agent: string;
  model: string | null;
  kind: string | null;
  state: string;
  retries: number;
  created_at: number;
  pr_at: number | null;
  ready_at: number | null;
  reports: AgentReport[];
}

export interface StatLine {
  agent: string;
  model: string;
  kind: string;
  tasks: number;
  finished: number;
  succeeded: number;
  success_rate: number | null;
  mean_retries: number | null;
  mean_minutes_to_pr: number | null;
  mean_minutes_to_ready: number | null;
  tokens: number;
  cost_usd: number;
  merged: number;
  cost_per_merged_pr: number | null;
}

const SUCCESS = new Set(['ready', 'done']);
const FINISHED = new Set(['ready', 'done', 'needs_help', 'cancelled', 'blocked']);

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function outcomeStats(rows: readonly OutcomeRow[], by: readonly ('agent' | 'model' | 'kind')[] = ['agent', 'model', 'kind']): StatLine[] {
  const groups = new Map<string, OutcomeRow[]>();
  for (const row of rows) {
    const key = JSON.stringify(by.map((k) => (k === 'agent' ? row.agent : k === 'model' ? (row.model ?? '-') : (row.kind ?? '-'))));
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.entries()]
    .map(([key, group]) => {
      const [a, b, c] = JSON.parse(key) as string[];
      const values = Object.fromEntries(by.map((k, i) => [k, [a, b, c][i]!]));
      const finished = group.filter((r) => FINISHED.has(r.state));
      const succeeded = finished.filter((r) => SUCCESS.has(r.state));
      const merged = group.filter((r) => r.state === 'done').length;
      const tokens = group.reduce((sum, r) => sum + r.reports.reduce((s, rep) => s + (rep.input_tokens ?? 0) + (rep.output_tokens ?? 0), 0), 0);
      const cost = group.reduce((sum, r) => sum + r.reports.reduce((s, rep) => s + (rep.cost_usd ?? 0), 0), 0);
      return {
        agent: values.agent ?? '*',
        model: values.model ?? '*',
        kind: values.kind ?? '*',
        tasks: group.length,
        finished: finished.length,
        succeeded: succeeded.length,
        success_rate: finished.length ? succeeded.length / finished.length : null,
        mean_retries: mean(finished.map((r) => r.retries)),
        mean_minutes_to_pr: mean(group.filter((r) => r.pr_at !== null).map((r) => (r.pr_at! - r.created_at) / 60_000)),
        mean_minutes_to_ready: mean(group.filter((r) => r.ready_at !== null).map((r) => (r.ready_at! - r.created_at) / 60_000)),
        tokens,
        cost_usd: cost,
        merged,
        cost_per_merged_pr: merged ? cost / merged : null,
      };
    })
    .sort((x, y) => x.agent.localeCompare(y.agent) || x.kind.localeCompare(y.kind) || x.model.localeCompare(y.model));
}

/**
 * For a kind: the agent with the best success rate among those with at least `minSamples` finished tasks of
 * that kind, when it beats the default. Returns null when the evidence is thin or the default is already best.
 */
export function preferAgent(rows: readonly OutcomeRow[], kind: string, candidates: readonly string[], defaultAgent: string, minSamples: number): { agent: string; note: string } | null {
  const lines = outcomeStats(rows.filter((r) => r.kind === kind && candidates.includes(r.agent)), ['agent']).filter((l) => l.finished >= minSamples && l.success_rate !== null);
  if (lines.length < 2) return null;
  const best = [...lines].sort((a, b) => b.success_rate! - a.success_rate! || a.mean_retries! - b.mean_retries!)[0]!;
  const current = lines.find((l) => l.agent === defaultAgent);
  if (best.agent === defaultAgent || (current && current.success_rate! >= best.success_rate!)) return null;
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  return {
    agent: best.agent,
    note: `routed to ${best.agent} for kind "${kind}": ${pct(best.success_rate!)} success over ${best.finished} tasks${current ? ` vs ${pct(current.success_rate!)} over ${current.finished} for ${defaultAgent}` : ''}`,
  };
}
