import { describe, expect, it } from 'vitest';
import { fanoutVerdict, rankCandidates, type CandidateFacts } from '../../src/orchestrator/fanout-rank.js';

const base: CandidateFacts = { id: 1, agent: 'claude', model: null, state: 'ready', green: true, reason: null, findings: { critical: 0, major: 0, minor: 0, nit: 0 }, approvals: 2, reviewers: 2, retries: 0, diff: { files: 1, added: 10, removed: 2 }, tests_changed: 1, duration_ms: 120_000, cost_usd: 0.4 };
const other = (patch: Partial<CandidateFacts>): CandidateFacts => ({ ...base, id: 2, agent: 'codex', ...patch });

describe('the ranking: each fact decides when everything before it ties', () => {
  it.each([
    ['green beats not green', other({ state: 'needs_help', green: false, reason: 'CI failed: 2 tests' }), 1, 'the only green candidate'],
    ['fewer open findings (severity-weighted: one major outweighs three nits)', other({ findings: { critical: 0, major: 0, minor: 0, nit: 3 } }), 2, 'won on findings: open findings: 3 nit against open findings: 1 major (#1)', { findings: { critical: 0, major: 1, minor: 0, nit: 0 } }],
    ['more reviewers approving', other({ approvals: 1 }), 1, 'won on reviews: 2/2 reviewers approve against 1/2 reviewers approve (#2)'],
    ['tests added or changed', other({ tests_changed: 0 }), 1, 'won on tests: 1 test file added or changed against no test changed (#2)'],
    ['a much smaller diff (same size band ties)', other({ diff: { files: 1, added: 400, removed: 30 } }), 1, 'won on diff size: +10/-2 in 1 file against +400/-30 in 1 file (#2)'],
    ['a diff in fewer files', other({ diff: { files: 9, added: 8, removed: 3 } }), 1, 'won on diff spread: +10/-2 in 1 file against +8/-3 in 9 files (#2)'],
    ['fewer retries', other({ retries: 2 }), 1, 'won on retries: 0 retries against 2 retries (#2)'],
    ['less time', other({ duration_ms: 60_000 }), 2, 'won on time: took 1 min against took 2 min (#1)'],
    ['less cost', other({ cost_usd: 0.1 }), 2, 'won on cost: cost $0.10 against cost $0.40 (#1)'],
    ['a tie on every fact: the earlier candidate', other({}), 1, 'tied with #2 on every fact; the earlier candidate wins'],
  ] as [string, CandidateFacts, number, string, Partial<CandidateFacts>?][])('%s', (_what, second, winner, why, firstPatch = {}) => {
    const ranked = rankCandidates([{ ...base, ...firstPatch }, second]);
    expect(ranked[0]!.facts.id).toBe(winner);
    expect(ranked[0]!.verdict).toBe(why);
    // Order given does not matter.
    expect(rankCandidates([second, { ...base, ...firstPatch }])[0]!.facts.id).toBe(winner);
  });

  it('a few lines more is not a reason to lose: later facts decide within a size band', () => {
    expect(rankCandidates([base, other({ diff: { files: 1, added: 11, removed: 2 }, retries: 0, duration_ms: 60_000 })])[0]!.facts.id).toBe(2);
  });

  it('says how each loser did, and where it lost', () => {
    const ranked = rankCandidates([base, other({ state: 'needs_help', green: false, reason: 'no commits' }), other({ id: 3, agent: 'gemini', findings: { critical: 1, major: 0, minor: 0, nit: 0 } })]);
    expect(ranked.map((r) => r.facts.id)).toEqual([1, 3, 2]);
    expect(ranked[0]!.line).toBe('#1 claude: no open findings, 2/2 reviewers approve, +10/-2 in 1 file, 1 test file added or changed, 0 retries, took 2 min, cost $0.40');
    expect(ranked[1]!.verdict).toBe('lost on findings: open findings: 1 critical');
    expect(ranked[2]!.line).toBe('#2 codex: not green (needs help: no commits)');
  });
});

describe('when a fan-out is decided', () => {
  const at = (state: CandidateFacts['state'], green = state === 'ready', id = 1): CandidateFacts => ({ ...base, id, state, green });
  it.each([
    ['one still running: wait', [at('ready'), at('running', false, 2)], null, null, 'wait'],
    ['all finished, one green: decide, it wins', [at('ready'), at('needs_help', false, 2)], null, null, 1],
    ['all finished, none green: decide, no winner', [at('needs_help', false), at('cancelled', false, 2)], null, null, null],
    ['deadline passed after the first ready: decide without the slow one', [at('ready'), at('running', false, 2)], 0, 10, 1],
    ['deadline not yet passed: wait', [at('ready'), at('running', false, 2)], 0, 100, 'wait'],
    ['a deadline but none ready yet: wait', [at('running', false), at('ci_running', false, 2)], null, 10, 'wait'],
  ] as [string, CandidateFacts[], number | null, number | null, number | null | 'wait'][])('%s', (_what, candidates, firstReady, deadline, want) => {
    const verdict = fanoutVerdict(candidates, { now: 50, first_ready_at: firstReady, deadline_ms: deadline });
    if (want === 'wait') return expect(verdict.kind).toBe('wait');
    expect(verdict.kind).toBe('decide');
    expect(verdict.kind === 'decide' ? (verdict.winner?.id ?? null) : 'x').toBe(want);
  });
});
