/**
 * Fan-outs, in the monitor's pass: once a fan-out's candidates have finished (or its deadline passed), its
 * facts are read (git, the registry) and the pure ranking (orchestrator/fanout-rank.ts) picks the winner.
 * The fan-out becomes ready with that candidate chosen, or needs help when none went green: one notification
 * either way (the candidates send none of their own).
 */
import type { Registry } from '../registry/registry.js';
import type { TaskRow } from '../registry/types.js';
import { AgentReport } from '../src/agents/report.js';
import type { SwarmConfig } from '../src/config/schema.js';
import { fanoutNeedsHelpMessage, fanoutReadyMessage } from '../src/notify/messages.js';
import { fanoutDue, fanoutVerdict, type CandidateFacts } from '../src/orchestrator/fanout-rank.js';
import { runGit } from '../src/workspace/git.js';

export interface FanoutDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  channels: readonly string[];
  now: () => number;
}

/** Files that are tests, by the usual conventions of the languages swarm's runners know. */
const TEST_FILE = /(^|\/)(tests?|__tests__|spec|specs)\/|\.(test|spec)\.[cm]?[jt]sx?$|_test\.(go|py|rb|rs)$|(^|\/)test_[^/]+\.py$|_spec\.rb$/;

/** What a merge of this candidate would bring, from its verified head (or its branch). */
async function diffOf(repoRoot: string, task: TaskRow): Promise<{ diff: CandidateFacts['diff']; tests: number }> {
  const head = task.verified_sha ?? task.branch;
  const result = await runGit(repoRoot, ['diff', '--numstat', `${task.base}...${head}`]);
  if (result.code !== 0) return { diff: null, tests: 0 };
  const rows = result.stdout.split('\n').filter(Boolean).map((line) => line.split('\t'));
  const added = rows.reduce((sum, r) => sum + (Number(r[0]) || 0), 0);
  const removed = rows.reduce((sum, r) => sum + (Number(r[1]) || 0), 0);
  return { diff: { files: rows.length, added, removed }, tests: rows.filter((r) => TEST_FILE.test(r[2] ?? '')).length };
}

export async function candidateFacts(deps: Pick<FanoutDeps, 'repoRoot' | 'registry'>, task: TaskRow): Promise<CandidateFacts> {
  const ready = deps.registry.events(task.id).filter((e) => e.kind === 'ready').at(-1);
  const data = ready ? (JSON.parse(ready.data ?? '{}') as { reviews?: { approvals?: number; of?: number }; open_findings?: Partial<CandidateFacts['findings']> }) : {};
  const green = task.state === 'ready' && task.verified_sha !== null;
  const { diff, tests } = await diffOf(deps.repoRoot, task);
  const costs = deps.registry
    .attempts(task.id)
    .filter((a) => a.kind === 'agent' && a.report)
    .map((a) => AgentReport.safeParse(JSON.parse(a.report!)).data?.cost_usd)
    .filter((c): c is number => c !== undefined);
  return {
    id: task.id,
    agent: task.agent,
    model: task.model,
    state: task.state,
    green,
    reason: task.reason,
    findings: { critical: 0, major: 0, minor: 0, nit: 0, ...(green ? data.open_findings : {}) },
    approvals: green ? (data.reviews?.approvals ?? null) : null,
    reviewers: green ? (data.reviews?.of ?? null) : null,
    retries: task.retries,
    diff,
    tests_changed: tests,
    duration_ms: (task.ready_at ?? task.updated_at) - task.created_at,
    cost_usd: costs.length ? costs.reduce((a, b) => a + b, 0) : null,
  };
}

/** Decides every fan-out whose time has come; how many were decided. */
export async function decideFanouts(deps: FanoutDeps): Promise<number> {
  const { registry, config } = deps;
  let decided = 0;
  for (const parent of registry.listTasks(['fanout'])) {
    const candidates = registry.listTasks().filter((t) => t.fanout_of === parent.id);
    if (!candidates.length) continue;
    const readyAts = candidates.filter((c) => c.state === 'ready' && c.ready_at !== null).map((c) => c.ready_at!);
    const timing = { now: deps.now(), first_ready_at: readyAts.length ? Math.min(...readyAts) : null, deadline_ms: config.fanout.deadline_minutes ? config.fanout.deadline_minutes * 60_000 : null };
    // Facts (diffs, costs) are read only once it is time to decide: a pass over fan-outs at work costs no git.
    if (!fanoutDue(candidates, timing)) continue;
    const facts = await Promise.all(candidates.map((c) => candidateFacts(deps, c)));
    const verdict = fanoutVerdict(facts, timing);
    if (verdict.kind === 'wait') continue;
    const ranking = verdict.ranked.map((r) => ({ task: r.facts.id, line: r.line, verdict: r.verdict }));
    const winner = verdict.winner ? candidates.find((c) => c.id === verdict.winner!.id)! : null;
    if (winner) {
      registry.transition(parent.id, 'fanout', 'ready', {
        event: 'fanout_decided',
        data: { chosen: winner.id, why: verdict.ranked[0]!.verdict, when: verdict.why, ranking },
        patch: { chosen: winner.id, verified_sha: winner.verified_sha, ready_at: deps.now(), reason: null },
        notify: { dedupe: `${parent.id}:fanout:${winner.id}`, channels: deps.channels, message: fanoutReadyMessage(parent, winner, verdict.ranked) },
      });
    } else {
      const reason = `No candidate went green: ${verdict.ranked.map((r) => r.line).join('; ')}`;
      registry.transition(parent.id, 'fanout', 'needs_help', {
        event: 'fanout_decided',
        data: { chosen: null, why: 'no candidate is green', ranking },
        patch: { reason },
        notify: { dedupe: `${parent.id}:fanout:none:${parent.updated_at}`, channels: deps.channels, message: fanoutNeedsHelpMessage(parent, verdict.ranked) },
      });
    }
    decided++;
  }
  return decided;
}
