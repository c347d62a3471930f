/**
 * Pure: when a fan-out is decided, and which candidate wins, from facts only (docs/fanout.md). The ranking
 * is an ordered list of criteria; the winner is first on the first criterion where candidates differ, and
 * that criterion, with both sides' values, is the explanation. Every criterion has rows in
 * tests/orchestrator/fanout-rank.test.ts.
 */
import type { TaskState } from '../../registry/types.js';

export interface CandidateFacts {
  id: number;
  agent: string;
  model: string | null;
  state: TaskState;
  /** Ready, with the commit CI (and review) passed. */
  green: boolean;
  /** Why it is not ready (needs help, cancelled), in words. */
  reason: string | null;
  /** Review findings left open on the verified head (below the blocking severities), by severity. */
  findings: { critical: number; major: number; minor: number; nit: number };
  /** The reviewers' verdicts at ready (null: no reviewers configured). */
  approvals: number | null;
  reviewers: number | null;
  retries: number;
  /** What a merge would bring: lines and files. null: not known (no branch yet). */
  diff: { files: number; added: number; removed: number } | null;
  /** Test files among the changed ones. */
  tests_changed: number;
  /** Spawn to ready (or to its end). */
  duration_ms: number | null;
  cost_usd: number | null;
}

/** Candidates that are finished: nothing more will change without a human. */
const SETTLED: readonly TaskState[] = ['ready', 'needs_help', 'cancelled', 'done', 'blocked'];

export type FanoutVerdict = { kind: 'wait'; why: string } | { kind: 'decide'; winner: CandidateFacts | null; ranked: Ranked[]; why: string };

export interface Ranked {
  facts: CandidateFacts;
  /** One line: what it did. */
  line: string;
  /** For the winner: why it won; for the others: where it lost. */
  verdict: string;
}

/**
 * Decided when every candidate has finished, or at the deadline after the first became ready (those still
 * at work then lose to a green one, and may still be picked by the human once ready).
 */
export interface FanoutTiming {
  now: number;
  first_ready_at: number | null;
  deadline_ms: number | null;
}

/** Whether the time to decide has come: from states alone (the monitor reads the rest only then). */
export function fanoutDue(candidates: readonly Pick<CandidateFacts, 'state'>[], timing: FanoutTiming): boolean {
  const deadline = timing.deadline_ms !== null && timing.first_ready_at !== null && timing.now >= timing.first_ready_at + timing.deadline_ms;
  return deadline || candidates.every((c) => SETTLED.includes(c.state));
}

export function fanoutVerdict(candidates: readonly CandidateFacts[], timing: FanoutTiming): FanoutVerdict {
  const open = candidates.filter((c) => !SETTLED.includes(c.state));
  if (!fanoutDue(candidates, timing)) return { kind: 'wait', why: `${open.length} of ${candidates.length} candidates still at work` };
  const ranked = rankCandidates(candidates);
  const winner = ranked[0]?.facts.green ? ranked[0].facts : null;
  const why = open.length ? `decided at the deadline with ${open.length} still at work` : 'every candidate finished';
  return { kind: 'decide', winner, ranked, why };
}

interface Criterion {
  name: string;
  /** Negative: `a` is better. */
  compare(a: CandidateFacts, b: CandidateFacts): number;
  /** The fact as a person reads it. */
  say(c: CandidateFacts): string;
}

const WEIGHT = { critical: 8, major: 4, minor: 2, nit: 1 } as const;
const findingScore = (c: CandidateFacts): number => c.findings.critical * WEIGHT.critical + c.findings.major * WEIGHT.major + c.findings.minor * WEIGHT.minor + c.findings.nit * WEIGHT.nit;
const approvalRate = (c: CandidateFacts): number => (c.reviewers ? (c.approvals ?? 0) / c.reviewers : 0);
const lines = (c: CandidateFacts): number => (c.diff ? c.diff.added + c.diff.removed : Infinity);
/** Sizes within a factor of two read as the same size: a few lines more is not a reason to lose. */
const sizeBand = (c: CandidateFacts): number => (c.diff ? Math.ceil(Math.log2(lines(c) + 1)) : Infinity);
const spreadBand = (c: CandidateFacts): number => (c.diff ? Math.ceil(Math.log2(c.diff.files + 1)) : Infinity);
const minutes = (ms: number | null): string => (ms === null ? '?' : ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function sayFindings(c: CandidateFacts): string {
  const parts = (['critical', 'major', 'minor', 'nit'] as const).filter((s) => c.findings[s] > 0).map((s) => `${c.findings[s]} ${s}`);
  return parts.length ? `open findings: ${parts.join(', ')}` : 'no open findings';
}

function sayDiff(c: CandidateFacts): string {
  return c.diff ? `+${c.diff.added}/-${c.diff.removed} in ${plural(c.diff.files, 'file')}` : 'no diff';
}

export const CRITERIA: readonly Criterion[] = [
  { name: 'green', compare: (a, b) => Number(b.green) - Number(a.green), say: (c) => (c.green ? 'green on its verified head' : `not green (${c.state.replace('_', ' ')}${c.reason ? `: ${c.reason}` : ''})`) },
  { name: 'findings', compare: (a, b) => findingScore(a) - findingScore(b), say: sayFindings },
  { name: 'reviews', compare: (a, b) => approvalRate(b) - approvalRate(a), say: (c) => (c.reviewers ? `${c.approvals ?? 0}/${c.reviewers} reviewers approve` : 'no reviewers') },
  { name: 'tests', compare: (a, b) => Number(b.tests_changed > 0) - Number(a.tests_changed > 0), say: (c) => (c.tests_changed ? `${plural(c.tests_changed, 'test file')} added or changed` : 'no test changed') },
  { name: 'diff size', compare: (a, b) => sizeBand(a) - sizeBand(b), say: sayDiff },
  { name: 'diff spread', compare: (a, b) => spreadBand(a) - spreadBand(b), say: sayDiff },
  { name: 'retries', compare: (a, b) => a.retries - b.retries, say: (c) => plural(c.retries, 'retry').replace('retrys', 'retries') },
  { name: 'time', compare: (a, b) => (a.duration_ms ?? Infinity) - (b.duration_ms ?? Infinity), say: (c) => `took ${minutes(c.duration_ms)}` },
  { name: 'cost', compare: (a, b) => (a.cost_usd ?? Infinity) - (b.cost_usd ?? Infinity), say: (c) => (c.cost_usd === null ? 'cost unknown' : `cost $${c.cost_usd.toFixed(2)}`) },
];

/** The first criterion on which `a` and `b` differ, or null when they tie on all of them. */
function decisive(a: CandidateFacts, b: CandidateFacts): { criterion: Criterion; sign: number } | null {
  for (const criterion of CRITERIA) {
    const d = criterion.compare(a, b);
    if (d !== 0 && !Number.isNaN(d)) return { criterion, sign: Math.sign(d) };
  }
  return null;
}

export function describe(c: CandidateFacts): string {
  const who = `#${c.id} ${c.agent}${c.model ? `:${c.model}` : ''}`;
  if (!c.green) return `${who}: ${CRITERIA[0]!.say(c)}`;
  return `${who}: ${[CRITERIA[1]!.say(c), CRITERIA[2]!.say(c), sayDiff(c), CRITERIA[3]!.say(c), CRITERIA[6]!.say(c), CRITERIA[7]!.say(c), CRITERIA[8]!.say(c)].join(', ')}`;
}

/** Best first; ties go to the earlier candidate. */
export function rankCandidates(candidates: readonly CandidateFacts[]): Ranked[] {
  const sorted = [...candidates].sort((a, b) => decisive(a, b)?.sign ?? a.id - b.id);
  return sorted.map((facts, i) => {
    const line = describe(facts);
    if (i === 0) {
      const next = sorted[1];
      const edge = next ? decisive(facts, next) : null;
      const verdict = !facts.green ? 'no candidate is green' : !next ? 'the only candidate' : !next.green ? 'the only green candidate' : edge ? `won on ${edge.criterion.name}: ${edge.criterion.say(facts)} against ${edge.criterion.say(next)} (#${next.id})` : `tied with #${next.id} on every fact; the earlier candidate wins`;
      return { facts, line, verdict };
    }
    const edge = decisive(sorted[0]!, facts);
    const verdict = edge ? `lost on ${edge.criterion.name}: ${edge.criterion.say(facts)}` : 'tied, later candidate';
    return { facts, line, verdict };
  });
}
