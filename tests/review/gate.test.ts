import { describe, expect, it } from 'vitest';
import { parseReview, type ReviewAnswer } from '../../src/review/findings.js';
import { reviewGate, type ReviewTry } from '../../src/review/gate.js';

const approve: ReviewTry = { state: 'usable', review: { verdict: 'approve', summary: 'fine', findings: [] } };
const minor: ReviewAnswer = { verdict: 'approve', summary: '', findings: [{ severity: 'minor', file: 'src/a.ts', line: 3, title: 'naming', body: '' }] };
const blocking: ReviewTry = { state: 'usable', review: { verdict: 'request_changes', summary: 'bug', findings: [{ severity: 'major', file: 'src/add.ts', line: 2, title: 'subtracts', body: 'must add' }] } };
const garbage: ReviewTry = { state: 'unusable', why: 'the answer held no JSON object' };
const timedOut: ReviewTry = { state: 'timed_out', why: 'stopped after 20 min' };
const tampered: ReviewTry = { state: 'tampered', why: 'committed' };
const policy = { required: 'all' as const, block_on: ['critical', 'major'] as const };

describe('reviewGate', () => {
  it.each([
    ['nobody started: start both', [{ name: 'a', tries: [] }, { name: 'b', tries: [] }], { kind: 'start', reviewers: ['a', 'b'] }],
    ['one still running', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [{ state: 'running' }] }], { kind: 'waiting' }],
    ['both approve', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [{ state: 'usable', review: minor }] }], { kind: 'approved', approvals: 2, of: 2 }],
    ['a garbage answer is asked again once', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage] }], { kind: 'ask_again', reviewer: 'b', why: 'the answer held no JSON object' }],
    ['garbage twice is a failed review, never an approval', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage, garbage] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; the review of b failed (the answer held no JSON object)', reviewers: ['b'] }],
    ['garbage twice with one approval needed: approved', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage, garbage] }], { kind: 'approved', approvals: 1, of: 2 }, 1],
    ['a timeout is not asked again by default: failed, saying it timed out', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [timedOut] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; reviewer b timed out (stopped after 20 min)', reviewers: ['b'] }],
    ['a timeout with timeout_retries 1: asked again once', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [timedOut] }], { kind: 'ask_again', reviewer: 'b', why: 'stopped after 20 min', timed_out: true }, undefined, 1],
    ['two timeouts with timeout_retries 1: failed', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [timedOut, timedOut] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; reviewer b timed out (stopped after 20 min)', reviewers: ['b'] }, undefined, 1],
    ['garbage, then a timeout: no third try', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [garbage, timedOut] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; reviewer b timed out (stopped after 20 min)', reviewers: ['b'] }],
    ['a reviewer that changed its checkout fails at once, whatever it answered', [{ name: 'a', tries: [approve] }, { name: 'b', tries: [tampered] }], { kind: 'failed', why: '1/2 reviewers approve, 2 needed; reviewer b changed what it reviewed (committed)', reviewers: ['b'] }],
    ['a tampering reviewer next to a blocking one: the finding goes back first', [{ name: 'a', tries: [blocking] }, { name: 'b', tries: [tampered] }], { kind: 'changes' }],
  ] as const)('%s', (_name, reviewers, expected, required?: number, timeoutRetries?: number) => {
    expect(reviewGate(reviewers.map((r) => ({ name: r.name, tries: [...r.tries] })), { required: required ?? 'all', block_on: [...policy.block_on], timeout_retries: timeoutRetries ?? 0 })).toMatchObject(expected);
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
    ['after a log line holding JSON and a sentence', 'log {"level":"info","msg":"reading src"}\nI looked at the diff.\n{"verdict":"approve","findings":[]}', true],
    ['pretty-printed after other output', 'starting\n{"step": 1}\n{\n  "verdict": "request_changes",\n  "findings": [\n    {"severity": "minor", "file": "a.ts", "line": 2, "title": "t {x}", "body": "a \\"quoted\\" } brace"}\n  ]\n}\n', true],
    ['a verdict, then another JSON object (a usage line)', '{"verdict":"approve","findings":[]}\n{"tokens": 120}', true],
    ['a cut log line with an open brace before the verdict', 'warn {"msg": "unterminated\n{"verdict":"approve","findings":[]}', true],
  ])('%s', (_name, text, ok) => {
    expect(parseReview(text).ok).toBe(ok);
  });

  it('the last valid verdict counts', () => {
    const parsed = parseReview('{"verdict":"request_changes","findings":[]}\nOn second thought:\n```json\n{"verdict":"approve","summary":"fine","findings":[]}\n```');
    expect(parsed).toEqual({ ok: true, review: { verdict: 'approve', summary: 'fine', findings: [] } });
  });

  it.each([
    ['nothing', 'LGTM', 'the answer held no JSON object'],
    ['two objects, neither a verdict', 'log {"a":1}\n{"verdict":"maybe","findings":[]}', '2 JSON objects, none a review verdict: the last one ({"verdict":"maybe","findings":[]}) does not match the schema: verdict:'],
    ['one object, not a verdict', '{"ok":true}', '1 JSON object, not a review verdict: the last one ({"ok":true}) does not match the schema: verdict:'],
  ])('says what it found when no verdict is there: %s', (_name, text, why) => {
    const parsed = parseReview(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.why).toContain(why);
  });

  it('stays fast on output full of unclosed braces', () => {
    const text = `${'{"x": "'.repeat(20_000)}\n{"verdict":"approve","findings":[]}`;
    expect(parseReview(text).ok).toBe(true);
  });
});
