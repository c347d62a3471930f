import { describe, expect, it } from 'vitest';
import { extractFailure, stripAnsi } from '../../monitor/evidence.js';

const nodeSpec = [
  '\x1b[31m✖ addNumbers adds two numbers \x1b[90m(1.2ms)\x1b[39m',
  '  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:',
  '  ',
  '  6 !== 5',
  '  ',
  '      at TestContext.<anonymous> (test/add.test.ts:6:10)',
  '\x1b[34mℹ tests 1\x1b[39m',
  '\x1b[34mℹ fail 1\x1b[39m',
].join('\r\n');

const cases: [string, string, { tests: string[]; assertion: string }][] = [
  ['node spec reporter (colours, CRLF)', nodeSpec, { tests: ['addNumbers adds two numbers'], assertion: 'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n6 !== 5' }],
  ['TAP', 'TAP version 13\nnot ok 1 - adds two numbers\n  ---\n  error: |-\n    AssertionError: 6 == 5\n', { tests: ['adds two numbers'], assertion: 'AssertionError: 6 == 5' }],
  ['vitest', ' FAIL  test/add.test.ts > addNumbers > adds\nAssertionError: expected 6 to be 5 // Object.is equality\n\n- Expected\n+ Received\n', { tests: ['test/add.test.ts > addNumbers > adds'], assertion: 'AssertionError: expected 6 to be 5 // Object.is equality' }],
  ['pytest', 'FAILED tests/test_add.py::test_add - assert 6 == 5\nE       assert 6 == 5\n', { tests: ['tests/test_add.py::test_add'], assertion: 'E       assert 6 == 5' }],
  ['go test', '--- FAIL: TestAdd (0.00s)\n    add_test.go:8: expected 5, got 6\n', { tests: ['TestAdd'], assertion: '' }],
  ['typescript compile error', "src/add.ts(2,3): error TS2322: Type 'string' is not assignable to type 'number'.\n", { tests: [], assertion: '' }],
];

describe('extractFailure', () => {
  it.each(cases)('%s', (_name, log, expected) => {
    const result = extractFailure(log);
    expect(result.failing_tests).toEqual(expected.tests);
    if (expected.assertion) expect(result.assertions[0]).toContain(expected.assertion);
  });

  it('keeps a short tail, not the whole log', () => {
    const log = Array.from({ length: 5_000 }, (_, i) => `line ${i}`).join('\n');
    const result = extractFailure(log);
    expect(result.log_tail.split('\n').length).toBeLessThanOrEqual(40);
    expect(result.log_tail).toContain('line 4999');
    expect(result.log_tail).not.toContain('line 100\n');
  });

  it('strips colours and cursor movement', () => {
    expect(stripAnsi('\x1b[1m\x1b[31mred\x1b[0m\x1b[2K\r\n')).toBe('red\n');
  });

  it('does not count summary lines as failing tests', () => {
    expect(extractFailure('✖ failing tests:\nnot ok 2 - fail 1\n✖ adds (2ms)\n').failing_tests).toEqual(['adds']);
  });
});
