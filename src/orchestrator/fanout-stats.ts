/** Pure: what fan-outs taught (which agent and model won, for which kind of task, at what cost), and routing by it. */

export interface FanoutOutcome {
  kind: string | null;
  agent: string;
  model: string | null;
  won: boolean;
  cost_usd: number | null;
}

export interface FanoutLine {
  kind: string;
  agent: string;
  model: string;
  wins: number;
  of: number;
  cost_usd: number;
}

export function fanoutStats(rows: readonly FanoutOutcome[]): FanoutLine[] {
  const groups = new Map<string, FanoutLine>();
  for (const r of rows) {
    const key = JSON.stringify([r.kind ?? '-', r.agent, r.model ?? '-']);
    const line = groups.get(key) ?? { kind: r.kind ?? '-', agent: r.agent, model: r.model ?? '-', wins: 0, of: 0, cost_usd: 0 };
    line.of++;
    if (r.won) line.wins++;
    line.cost_usd += r.cost_usd ?? 0;
    groups.set(key, line);
  }
  return [...groups.values()].sort((a, b) => a.kind.localeCompare(b.kind) || b.wins / b.of - a.wins / a.of || b.of - a.of || a.agent.localeCompare(b.agent));
}

/**
 * With enough fan-outs of a kind behind it (min_samples), the agent that won most of its fan-outs of that
 * kind (more than half) is preferred for a single task of that kind, and the note says so.
 */
export function preferFanoutWinner(rows: readonly FanoutOutcome[], kind: string, agents: readonly string[], defaultAgent: string, minSamples: number): { agent: string; note: string } | null {
  const byAgent = new Map<string, { wins: number; of: number }>();
  for (const r of rows.filter((r) => r.kind === kind && agents.includes(r.agent))) {
    const tally = byAgent.get(r.agent) ?? { wins: 0, of: 0 };
    tally.of++;
    if (r.won) tally.wins++;
    byAgent.set(r.agent, tally);
  }
  const best = [...byAgent.entries()].filter(([, t]) => t.of >= minSamples && t.wins * 2 > t.of).sort(([, a], [, b]) => b.wins / b.of - a.wins / a.of || b.of - a.of)[0];
  if (!best || best[0] === defaultAgent) return null;
  return { agent: best[0], note: `routed to ${best[0]} for kind "${kind}": it won ${best[1].wins} of its ${best[1].of} fan-outs of that kind` };
}
