import { describe, expect, it } from 'vitest';
import { dagVerdict, type DagTask } from '../../src/orchestrator/dag.js';
import { outcomeStats, preferAgent, type OutcomeRow } from '../../src/orchestrator/outcomes.js';
import { findCycle, Plan, topologicalOrder, validatePlan } from '../../src/orchestrator/plan.js';
import { chunkNotes, pickContext, renderContext } from '../../src/orchestrator/retrieval.js';
import type { TaskState } from '../../registry/types.js';

const NOTES = [
  { name: 'refunds.md', text: '# Refund policy\nCustomers may request refunds within 30 days. Refunds go back to the original payment method.\n\n## Compliance\nEvery refund over 500 EUR needs a second approver (finance rule F-12).' },
  { name: 'meeting-2026-11-01.md', text: '# Weekly sync\nThe onboarding email is too long. Marketing wants a shorter welcome message.' },
  { name: 'failures.md', text: '# What failed before\nTask 12 tried to cache invoices in memory and ran out of memory in production.' },
];

describe('retrieval', () => {
  it('picks the notes that matter to the request and leaves the rest out', () => {
    const picked = pickContext(NOTES, 'Add partial refunds to the payment refund flow', 1_000);
    expect(picked.map((p) => p.note)).toContain('refunds.md');
    expect(picked.map((p) => p.note)).not.toContain('meeting-2026-11-01.md');
    expect(renderContext(picked)).toContain('second approver (finance rule F-12)');
  });

  it('respects the token budget, keeping the best chunk', () => {
    const big = [{ name: 'big.md', text: `# Refunds\n${'refund rules '.repeat(400)}` }, ...NOTES];
    const picked = pickContext(big, 'refund approver compliance', 100);
    expect(picked.reduce((n, p) => n + Math.ceil(p.text.length / 4) + 10, 0)).toBeLessThanOrEqual(100);
    expect(picked[0]!.heading).toBe('Compliance');
  });

  it('finds nothing for an unrelated request', () => {
    expect(pickContext(NOTES, 'kubernetes helm chart', 1_000)).toEqual([]);
  });

  it('splits notes at headings', () => {
    expect(chunkNotes([NOTES[0]!]).map((c) => c.heading)).toEqual(['Refund policy', 'Compliance']);
  });
});

const plan = (tasks: unknown[]): Plan => Plan.parse({ tasks });
const known = { agents: ['claude', 'local'], kinds: ['backend', 'docs'] };

describe('validatePlan', () => {
  it.each([
    ['a good plan', [{ id: 'a', title: 'A', prompt: 'do a' }, { id: 'b', title: 'B', prompt: 'do b', depends_on: ['a'], agent: 'local', kind: 'docs' }], []],
    ['a cycle', [{ id: 'a', title: 'A', prompt: 'x', depends_on: ['b'] }, { id: 'b', title: 'B', prompt: 'y', depends_on: ['a'] }], ['dependencies form a cycle: a -> b -> a']],
    ['an unknown dependency', [{ id: 'a', title: 'A', prompt: 'x', depends_on: ['zz'] }], ['task "a" depends on "zz", which is not in the plan']],
    ['an empty prompt', [{ id: 'a', title: 'A', prompt: '  ' }], ['task "a" has an empty prompt']],
    ['a duplicate id', [{ id: 'a', title: 'A', prompt: 'x' }, { id: 'a', title: 'B', prompt: 'y' }], ['task id "a" is used twice; ids must be unique']],
    ['an unknown agent and kind', [{ id: 'a', title: 'A', prompt: 'x', agent: 'gpt', kind: 'ops' }], ['task "a" uses agent "gpt", which is not configured (known: claude, local)', 'task "a" has kind "ops", which is not configured (known: backend, docs)']],
    ['a self-dependency', [{ id: 'a', title: 'A', prompt: 'x', depends_on: ['a'] }], ['task "a" depends on itself', 'dependencies form a cycle: a -> a']],
  ])('%s', (_name, tasks, errors) => {
    expect(validatePlan(plan(tasks), known)).toEqual(errors);
  });

  it('orders dependencies first', () => {
    const p = plan([{ id: 'c', title: 'C', prompt: 'x', depends_on: ['b'] }, { id: 'b', title: 'B', prompt: 'x', depends_on: ['a'] }, { id: 'a', title: 'A', prompt: 'x' }]);
    expect(topologicalOrder(p.tasks).map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(findCycle(p.tasks)).toBeNull();
  });
});

describe('dagVerdict', () => {
  const t = (id: number, state: TaskState, depends_on: number[] = []): DagTask => ({ id, state, depends_on });
  const world = (...tasks: DagTask[]): Map<number, DagTask> => new Map(tasks.map((x) => [x.id, x]));
  it.each([
    ['no dependencies', t(2, 'queued'), world(), 'ready', 'runnable'],
    ['dependency still running', t(2, 'queued', [1]), world(t(1, 'running')), 'ready', 'waiting'],
    ['dependency ready (gate ready)', t(2, 'queued', [1]), world(t(1, 'ready')), 'ready', 'runnable'],
    ['dependency ready (gate merged)', t(2, 'queued', [1]), world(t(1, 'ready')), 'merged', 'waiting'],
    ['dependency merged', t(2, 'queued', [1]), world(t(1, 'done')), 'merged', 'runnable'],
    ['dependency needs help', t(2, 'queued', [1]), world(t(1, 'needs_help')), 'ready', 'blocked'],
    ['dependency cancelled', t(3, 'queued', [1, 2]), world(t(1, 'ready'), t(2, 'cancelled')), 'ready', 'blocked'],
    ['dependency blocked in turn', t(3, 'queued', [2]), world(t(2, 'blocked')), 'ready', 'blocked'],
    ['dependency missing', t(3, 'queued', [9]), world(), 'ready', 'blocked'],
  ] as const)('%s', (_name, task, byId, gate, kind) => {
    expect(dagVerdict(task, byId, gate).kind).toBe(kind);
  });
});

describe('outcomes', () => {
  const row = (agent: string, kind: string, state: string, retries = 0, cost = 0): OutcomeRow => ({ agent, model: null, kind, state, retries, created_at: 0, pr_at: 60_000, ready_at: 120_000, reports: [{ cost_usd: cost, input_tokens: 100, output_tokens: 10 }] });

  it('summarizes success rate, retries, time and cost per merged PR', () => {
    const [line] = outcomeStats([row('claude', 'bugfix', 'done', 1, 0.5), row('claude', 'bugfix', 'needs_help', 3, 0.5), row('claude', 'bugfix', 'running')], ['agent']);
    expect(line).toMatchObject({ agent: 'claude', tasks: 3, finished: 2, succeeded: 1, success_rate: 0.5, mean_retries: 2, mean_minutes_to_pr: 1, mean_minutes_to_ready: 2, tokens: 330, merged: 1, cost_per_merged_pr: 1 });
  });

  it('prefers the better agent for a kind only with enough samples', () => {
    const rows = [...Array.from({ length: 5 }, () => row('local', 'docs', 'done')), ...Array.from({ length: 5 }, (_, i) => row('claude', 'docs', i < 2 ? 'done' : 'needs_help'))];
    expect(preferAgent(rows, 'docs', ['claude', 'local'], 'claude', 5)).toEqual({ agent: 'local', note: 'routed to local for kind "docs": 100% success over 5 tasks vs 40% over 5 for claude' });
    expect(preferAgent(rows, 'docs', ['claude', 'local'], 'claude', 6)).toBeNull();
    expect(preferAgent(rows, 'docs', ['claude', 'local'], 'local', 5)).toBeNull();
  });
});
