import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFailure, renderTerminal, stripAnsi } from '../../monitor/evidence.js';
import { evidenceLines } from '../../src/agents/evidence-text.js';
import { ROOT } from '../helpers/sample.js';

/** Output captured from the real runners by scripts/capture-runner-output.ts, in a temp dir saved as this path. */
const DIR = join(ROOT, 'tests', 'fixtures', 'runner-output');
const WORKTREE = '/tmp/swarm-worktree';

function fixture(name: string): { log: string; reports: string[] } {
  const reports = readdirSync(DIR).filter((f) => f.startsWith(`${name}.`) && !f.endsWith('.txt')).map((f) => readFileSync(join(DIR, f), 'utf8'));
  return { log: readFileSync(join(DIR, `${name}.txt`), 'utf8'), reports };
}

// fixture, runner(s), the failing test's full name, its file:line (null: the runner's output carries none in the project)
const tests: [string, string, string, string | null][] = [
  ['node-test', 'node:test', 'math › adds two numbers', 'test/math.test.mjs:10'],
  ['node-test-tap', 'tap', 'math › adds two numbers', 'test/math.test.mjs:10'],
  ['node-test-junit', 'report, node:test', 'math › adds two numbers', 'test/math.test.mjs:10'],
  ['vitest', 'vitest', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['vitest-json', 'report, vitest', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['jest', 'jest', 'math › adds two numbers', 'test/math.test.js:8'],
  ['jest-json', 'report, jest', 'math › adds two numbers', 'test/math.test.js:8'],
  ['mocha', 'mocha', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['mocha-dot', 'mocha', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['mocha-min', 'mocha', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['node-test-dot', 'node:test', 'math › adds two numbers', 'test/math.test.mjs:10'],
  ['vitest-dot', 'vitest', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['vitest-verbose', 'vitest', 'math › adds two numbers', 'test/math.test.mjs:9'],
  ['jest-silent', 'jest', 'math › adds two numbers', 'test/math.test.js:8'],
  ['jest-verbose', 'jest', 'math › adds two numbers', 'test/math.test.js:8'],
  ['uvu', 'uvu', 'math › adds two numbers', 'test/math.test.mjs:10'],
  ['ava', 'ava', 'math › adds two numbers', 'test/math.test.mjs:8'],
  ['ava-tap', 'tap', 'math › adds two numbers', null],
  ['tap', 'tap', 'math › adds two numbers › should be equal', 'test/math.test.mjs:9'],
  ['tap-base', 'tap', 'math › adds two numbers › should be equal', 'test/math.test.mjs:9'],
  ['tap-tap', 'tap', 'math › adds two numbers › should be equal', 'test/math.test.mjs:9'],
  ['pytest', 'pytest', 'TestMath › test_adds_two_numbers', 'tests/test_math.py:9'],
  ['pytest-junit', 'report, pytest', 'TestMath › test_adds_two_numbers', 'tests/test_math.py:9'],
  ['unittest', 'unittest', 'MathTest › test_adds_two_numbers', 'tests/test_math.py:11'],
  ['go', 'go test', 'TestMath/adds_two_numbers', 'math_test.go:13'],
  ['go-json', 'go test', 'TestMath/adds_two_numbers', 'math_test.go:13'],
  ['cargo', 'cargo test', 'math::adds_two_numbers', 'src/lib.rs:16'],
  ['rspec', 'rspec', 'math adds two numbers', 'spec/math_spec.rb:9'],
];

// fixture, what the evidence must say instead of tests
const problems: [string, string[]][] = [
  ['tsc', ["src/total.ts:4: error TS2322: Type 'string' is not assignable to type 'number'."]],
  ['eslint', ["src/total.mjs:2: 'unused' is assigned a value but never used (no-unused-vars)", "src/total.mjs:3: Expected '===' and instead saw '==' (eqeqeq)"]],
  ['go-build', ['total.go:8: cannot use sum (variable of type int) as type string in return statement']],
  ['rustc', ['src/total.rs:2: error[E0308]: mismatched types (expected `String`, found `i64`)']],
  ['node-test-crash', ["test/math.test.mjs could not run: Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'src/helpers.mjs' imported from test/math.test.mjs"]],
  ['jest-crash', ["test/math.test.js could not run: Cannot find module '../src/helpers.js' from 'test/math.test.js'"]],
  ['pytest-crash', ["tests/test_math.py could not be collected: ModuleNotFoundError: No module named 'helpers'"]],
];

/**
 * The corpus: suites written to do what real projects do (many files, nested folders, a suite-less test,
 * parametrized ids with long and unicode parameters, one assertion failing for nine parameters, the same
 * leaf name in two classes, an ESM loader), run by the real runners in each invocation variant.
 * fixture, runner, failing count, each entry (name start, file:line) and a word of its assertion.
 */
const ESCAPE = ['test_escape — 9 parametrizations: [&-&amp;], [a & b-a &amp; b], [&&-&amp;&amp;], …', 'tests/test_escape.py:32', "assert '&' == '&amp;'"] as const;
const ADD = ['TestAdd › test_add', 'tests/test_math.py:10', '-1 == 5'] as const;
const UVU = [['nested/format.js › formats a sum', 'test/nested/format.js:6', 'expected: 005'], ['numbers › adds small numbers', 'test/numbers.js:7', 'actual: -1'], ['numbers › adds negative numbers', 'test/numbers.js:10', 'expected: -5']] as const;
const MOCHA = [['add › integers › works', 'test/add.test.mjs:7', 'expected: 5, actual: -1'], ['add › floats › works', 'test/add.test.mjs:10', 'expected: 0.75, actual: 0.25']] as const;
const JEST = [['add › integers › works', 'test/add.test.js:6', 'Received: -1'], ['add › floats › works', 'test/add.test.js:9', 'Received: 0.25']] as const;
const NODE = [['add › integers › works', 'test/add.test.mjs:8', 'expected: 5, actual: -1'], ['add › floats › works', 'test/add.test.mjs:11', 'expected: 0.75, actual: 0.25']] as const;
const corpus: [string, string, number, (readonly [string, string, string])[]][] = [
  ['node-corpus', 'node:test', 2, [...NODE]],
  ['node-corpus-dot', 'node:test', 2, [...NODE]],
  ['node-corpus-tap', 'tap', 2, [...NODE]],
  ['vitest-corpus', 'vitest', 2, [[NODE[0][0], NODE[0][1], '-1'], [NODE[1][0], NODE[1][1], '0.25']]],
  ['vitest-corpus-dot', 'vitest', 2, [[NODE[0][0], NODE[0][1], '-1'], [NODE[1][0], NODE[1][1], '0.25']]],
  ['vitest-corpus-verbose', 'vitest', 2, [[NODE[0][0], NODE[0][1], '-1'], [NODE[1][0], NODE[1][1], '0.25']]],
  ['mocha-corpus', 'mocha', 2, [...MOCHA]],
  ['mocha-corpus-dot', 'mocha', 2, [...MOCHA]],
  ['jest-corpus', 'jest', 2, [...JEST]],
  ['jest-corpus-verbose', 'jest', 2, [...JEST]],
  ['jest-corpus-silent', 'jest', 2, [...JEST]],
  ['uvu-corpus', 'uvu', 3, [...UVU]],
  ['uvu-corpus-tsx', 'uvu', 3, [...UVU]],
  ['uvu-corpus-bail', 'uvu', 1, [UVU[0]]],
  ['pytest-corpus', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-v', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-default', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-tb-short', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-q-tb-long', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-tb-line', 'pytest', 10, [ESCAPE, ADD]],
  ['pytest-corpus-tb-no', 'pytest', 10, [[ESCAPE[0], 'tests/test_escape.py', ESCAPE[2]], [ADD[0], 'tests/test_math.py', ADD[2]]]],
  ['pytest-corpus-x', 'pytest', 1, [['test_escape[&-&amp;]', 'tests/test_escape.py:32', ESCAPE[2]]]],
];

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

describe('evidence from the corpus: real suites in every invocation variant', () => {
  it.each(corpus)('%s: every failing test (or its group) with its suite path, file:line and assertion; the count exact; short', (name, runner, failed, entries) => {
    const { log, reports } = fixture(name);
    const evidence = extractFailure(log, { root: WORKTREE, reports });
    expect(evidence.runner).toBe(runner);
    expect(evidence.failed).toBe(failed);
    expect(evidence.tests.map((t) => [t.name, t.location])).toEqual(entries.map(([n, l]) => [n, l]));
    for (const [i, [, , word]] of entries.entries()) expect(evidence.tests[i]!.message.join('\n')).toContain(word);
    const section = evidenceLines({ tests: evidence.tests, failed_count: evidence.failed, assertions: evidence.problems, log_tail: evidence.log_tail });
    const text = section.join('\n');
    expect(section[0]).toBe(failed > 1 ? `Failing tests (${failed}):` : 'Failing tests:');
    expect(section.length).toBeLessThanOrEqual(25);
    expect(text).not.toContain('… and');
    for (const [n] of entries) expect(occurrences(text, n)).toBe(1);
    expect(text).not.toMatch(/node:internal|node_modules\/|\x1b|_{10,}/);
    expect(text).not.toContain(WORKTREE);
  });
});

describe('evidence from real runner output (tests/fixtures/runner-output)', () => {
  it('has a fixture for every row and a row for every fixture', () => {
    const captured = readdirSync(DIR).filter((f) => f.endsWith('.txt')).map((f) => f.replace(/\.txt$/, '')).sort();
    expect([...tests.map((t) => t[0]), ...problems.map((p) => p[0]), ...corpus.map((c) => c[0])].sort()).toEqual(captured);
  });

  it.each(tests)('%s: the one failing test, once, with expected, actual and file:line', (name, runner, full, location) => {
    const { log, reports } = fixture(name);
    const evidence = extractFailure(log, { root: WORKTREE, reports });
    expect(evidence.runner).toBe(runner);
    expect(evidence.failed).toBe(1);
    expect(evidence.tests.map((t) => t.name)).toEqual([full]);
    const [test] = evidence.tests;
    if (location) expect(test!.location).toBe(location);
    const message = test!.message.join('\n');
    expect(message).toMatch(/(^|[^\d-])5\b/); // expected
    expect(message).toMatch(/-1\b/); // actual
    expect(message).not.toContain(WORKTREE);

    const section = evidenceLines({ tests: evidence.tests, failed_count: evidence.failed, assertions: evidence.problems, log_tail: evidence.log_tail });
    const text = section.join('\n');
    expect(section.length).toBeLessThanOrEqual(25);
    expect(occurrences(text, full.split(' › ').at(-1)!)).toBe(1);
    expect(text).not.toMatch(/node:internal|node_modules\//);
    expect(text).not.toContain('\x1b');
  });

  it.each(problems)('%s: said as file:line: message, no test invented', (name, expected) => {
    const { log } = fixture(name);
    const evidence = extractFailure(log, { root: WORKTREE });
    expect(evidence.tests).toEqual([]);
    expect(evidence.failed).toBe(0);
    expect(evidence.problems).toEqual(expected);
    expect(evidence.log_tail.split('\n').length).toBeLessThanOrEqual(6);
  });
});

describe('the evidence budget', () => {
  const many = Array.from({ length: 30 }, (_, i) => ({ name: `suite › test ${i}`, location: `test/a.test.js:${i + 1}`, message: ['AssertionError: expected 1 to be 2', '- Expected', '+ Received', '- 2', '+ 1'] }));

  it('keeps to its lines and characters, and the count stays exact', () => {
    const lines = evidenceLines({ tests: many, failed_count: 57, log_tail: Array.from({ length: 100 }, (_, i) => `log line ${i}`).join('\n') }, { max_lines: 25, max_chars: 2_000 });
    expect(lines.length).toBeLessThanOrEqual(25);
    expect(lines.join('\n').length).toBeLessThanOrEqual(2_000);
    expect(lines[0]).toBe('Failing tests (57):');
    expect(lines.some((l) => /^- … and \d+ more$/.test(l))).toBe(true);
  });

  it('always shows the first failing test, cut to fit', () => {
    const long = [{ name: 'huge', message: Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(200)}`) }];
    const lines = evidenceLines({ tests: long, failed_count: 1 }, { max_lines: 10, max_chars: 500 });
    expect(lines[1]).toBe('- huge');
    expect(lines.length).toBeLessThanOrEqual(10);
  });
});

describe('reading a terminal log', () => {
  it('replays redraws: a progress line rewritten in place is read once, as it ended', () => {
    const log = ' RUNS  a.test.js\r\n\x1b[1A\x1b[K FAIL  a.test.js\r\n50%\r100%\r\n\x1b[32mok\x1b[39m\x1b(B\r\n';
    expect(renderTerminal(log)).toEqual([' FAIL  a.test.js', '100%', 'ok', '']);
  });

  it('strips colours and cursor movement from a message', () => {
    expect(stripAnsi('\x1b[1m\x1b[31mred\x1b[0m\x1b[2K\r\n')).toBe('red\n');
  });

  it('an unknown runner: the assertion-like lines, and a short tail, not the whole log', () => {
    const log = [...Array.from({ length: 5_000 }, (_, i) => `line ${i}`), 'Error: widget count was 3, expected 4', '    at check (src/widget.js:12:5)', 'done'].join('\n');
    const evidence = extractFailure(log);
    expect(evidence.runner).toBeNull();
    expect(evidence.problems).toEqual(['Error: widget count was 3, expected 4\n(at src/widget.js:12)']);
    expect(evidence.log_tail.split('\n').length).toBeLessThanOrEqual(30);
    expect(evidence.log_tail).toContain('done');
  });
});
