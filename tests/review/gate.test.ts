import { describe, expect, it } from 'vitest';
import { parseReview, type ReviewAnswer } from '../../src/review/findings.js';
import { reviewGate, type ReviewTry } from '../../src/review/gate.js';

const approve: ReviewTry = { state: 'usable', review: { verdict: 'approve', summary: 'fine', findings: [] } };
const minor: ReviewAnswer = { verdict: 'approve', summary: '', findings: [{ severity: 'minor', file: 'src/a.ts', line: 3, title: 'naming', body: '' }] };
const blocking: ReviewTry = { state: 'usable', review: { verdict: 'request_changes', summary: 'bug', findings: [{ severity: 'major', file: 'src/add.ts', line: 2, title: 'subtracts', body: 'must add' }] } };
const garbage: ReviewTry = { state: 'unusable', why: 'the answer held no JSON object' };
const policy = { required: 'all' as const, block_on: ['critical', 'major'] as const };

describe('reviewGate', () => {
  it.each([
    ['nobody started: start both', [{ name: 'a', tries: [] }, { name: 'b', tries: [] }], { kind: 'start', reviewers: ['a', 'b'] }],
    ['one still running', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [{ state: 'running' }] }], { kind: 'waiting' }],
    ['both approve', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [{ state: 'usable', review: minor }] }], { kind: 'approved', approvals: 2, of: 2 }],
    ['a garbage answer is asked again once', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage] }], { kind: 'ask_again', reviewer: 'b', why: 'the answer held no JSON object' }],
    ['garbage twice is a failed review, never an approval', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage, garbage] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; the review of b failed (the answer held no JSON object)' }],
    ['garbage twice with one approval needed: approved', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage, garbage] }], { kind: 'approved', approvals: 1, of: 2 }, 1],
  ] as const)('%s', (_name, reviewers, expected, required?: number) => {
    expect(reviewGate(reviewers.map((r) => ({ name: r.name, tries: [...r.tries] })), { required: required ?? 'all', block_on: [...policy.block_on] })).toEqual(expected);
  });

  it('a blocking finding sends the work back, whoever else approves, with file:line and reviewer', () => {
    const decision = reviewGate([{ name: 'logic', tries: [blocking] }, { name: 'security', tries: [approve] }], { required: 1, block_on: ['critical', 'major'] });
    expect(decision).toMatchObject({ kind: 'changes', findings: [{ reviewer: 'logic', file: 'src/add.ts', line: 2, title: 'subtracts' }] });
    expect((decision as { summary: string }).summary).toBe('1 blocking review finding (logic): src/add.ts:2 subtracts.');
  });

  it('changes requested with only minor findings: the agent gets them all', () => {
    const decision = reviewGate([{ name: 'a', tries: [{ state: 'usable', review: { ...minor, verdict: 'request_changes', summary: 'rename' } }] }], policy);
    expect(decision).toMatchObject({ kind: 'changes', summary: 'Reviewers requested changes (a: rename).', findings: [{ title: 'naming', reviewer: 'a' }] });
  });
});

describe('parseReview', () => {
  it.each([
    ['bare JSON', '{"verdict":"approve","findings":[]}', true],
    ['in a fence after prose', 'Here is my review:\n```json\n{"verdict":"request_changes","findings":[{"severity":"major","file":"a.ts","line":1,"title":"t","body":"b"}]}\n```\n', true],
    ['prose around braces', 'Sure! {"verdict":"approve","summary":"ok","findings":[]} Hope that helps.', true],
    ['no JSON', 'LGTM, ship it', false],
    ['a verdict outside the schema', '{"verdict":"maybe","findings":[]}', false],
    ['a severity outside the schema', '{"verdict":"approve","findings":[{"severity":"huge","file":"a","title":"t","body":""}]}', false],
  ])('%s', (_name, text, ok) => {
    expect(parseReview(text).ok).toBe(ok);
  });
});
