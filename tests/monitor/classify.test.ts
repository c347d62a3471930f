import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffMs, classifyExit, readableNodeDump, FAST_FAILURE_MS, type ExitInput, type FailureClass } from '../../monitor/classify.js';
import { ROOT } from '../helpers/sample.js';

/** Output captured from the real CLIs (claude 2.1.330, codex 0.169.0, gemini 0.61.0, opencode 1.18.33). */
const real = (name: string): string => readFileSync(join(ROOT, 'tests', 'fixtures', 'agent-failures', name), 'utf8');

const rows: { name: string; input: Partial<ExitInput>; class: FailureClass; cause: RegExp; line: RegExp }[] = [
  { name: 'claude as root', input: { exit_code: 1, output: real('claude-root.txt') }, class: 'fault', cause: /root/, line: /--dangerously-skip-permissions cannot be used with root\/sudo privileges/ },
  { name: 'codex 0.169 rejects --full-auto', input: { exit_code: 2, output: real('codex-unknown-flag.txt') }, class: 'fault', cause: /unknown command-line flag/, line: /unexpected argument '--full-auto' found/ },
  { name: 'gemini in an untrusted folder (exit 55)', input: { exit_code: 55, output: real('gemini-untrusted.txt') }, class: 'fault', cause: /not trusted/, line: /not running in a trusted directory/ },
  { name: 'claude: bad key (result.is_error, api_error_status 401)', input: { exit_code: 1, output: real('claude-401.txt') }, class: 'fault', cause: /authentication failed \(HTTP 401\)/, line: /Invalid API key/ },
  { name: 'claude: rate limited (api_error_status 429)', input: { exit_code: 1, output: real('claude-429.txt') }, class: 'transient', cause: /rate limited/, line: /429/ },
  { name: 'codex: 401 in turn.failed', input: { exit_code: 1, output: real('codex-401.txt') }, class: 'fault', cause: /authentication failed \(HTTP 401\)/, line: /Incorrect API key/ },
  { name: 'codex: retry limit on 429', input: { exit_code: 1, output: real('codex-429.txt') }, class: 'transient', cause: /rate limited/, line: /exceeded retry limit, last status: 429/ },
  { name: 'gemini: 401 in the error result', input: { exit_code: 1, output: real('gemini-401.txt') }, class: 'fault', cause: /authentication failed \(HTTP 401\)/, line: /API key not valid/ },
  { name: 'gemini: killed while retrying 429s', input: { exit_code: null, signal: 'SIGKILL', output: real('gemini-429-retrying.txt') }, class: 'transient', cause: /rate limited/, line: /status 429/ },
  { name: 'opencode: APIError 401', input: { exit_code: 1, output: real('opencode-401.txt') }, class: 'fault', cause: /authentication failed \(HTTP 401\)/, line: /Incorrect API key provided/ },
  { name: 'custom agent: network down', input: { exit_code: 1, output: 'thinking...\nError: connect ECONNREFUSED 127.0.0.1:11434\n' }, class: 'transient', cause: /network/, line: /ECONNREFUSED/ },
  { name: 'custom agent: 503 from a proxy', input: { exit_code: 1, output: 'request failed: 503 Service Unavailable\n' }, class: 'transient', cause: /server error/, line: /503/ },
  { name: 'custom agent: overloaded', input: { exit_code: 1, output: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\nError: Overloaded\n' }, class: 'transient', cause: /overloaded/, line: /Overloaded/ },
  { name: 'custom agent: quota', input: { exit_code: 1, output: 'Error: You exceeded your current quota, please check your plan and billing details.\n' }, class: 'fault', cause: /quota/, line: /quota/ },
  { name: 'missing program (exit 127)', input: { exit_code: 127, output: 'bash: my-agent: command not found\n' }, class: 'fault', cause: /missing/, line: /command not found/ },
  { name: 'a plain crash is the task failing', input: { exit_code: 1, output: 'TypeError: cannot read x of undefined\n' }, class: 'task', cause: /exit code 1/, line: /TypeError/ },
  { name: 'a tool output inside the JSON stream is not the CLI failing', input: { exit_code: 1, output: '{"type":"user","message":{"content":"bash: foo: command not found ECONNREFUSED 401 Unauthorized"}}\nsomething broke\n' }, class: 'task', cause: /exit code 1/, line: /something broke/ },
  { name: 'the same fast failure twice', input: { exit_code: 1, duration_ms: 2_000, output: 'boom: config missing\n', previous: { line: 'boom: config missing', fast: true } }, class: 'fault', cause: /same fast failure twice/, line: /boom/ },
  { name: 'the same failure, but slow this time', input: { exit_code: 1, duration_ms: FAST_FAILURE_MS + 1, output: 'boom: config missing\n', previous: { line: 'boom: config missing', fast: true } }, class: 'task', cause: /exit code 1/, line: /boom/ },
  { name: 'a different fast failure', input: { exit_code: 1, duration_ms: 2_000, output: 'boom: other\n', previous: { line: 'boom: config missing', fast: true } }, class: 'task', cause: /exit code 1/, line: /boom: other/ },
];

describe('classifyExit', () => {
  it.each(rows)('$name → $class', (row) => {
    const verdict = classifyExit({ exit_code: 1, signal: null, duration_ms: 60_000, output: '', previous: null, ...row.input });
    expect(verdict.class).toBe(row.class);
    expect(verdict.cause).toMatch(row.cause);
    expect(verdict.line).toMatch(row.line);
  });
});

describe('backoffMs', () => {
  it.each([
    [0, 5_000],
    [1, 10_000],
    [3, 40_000],
    [10, 300_000],
  ])('attempt %i waits %i ms (base 5 s, cap 5 min)', (n, ms) => {
    expect(backoffMs(n, 5_000, 300_000)).toBe(ms);
  });
});

describe('a crash that is a Node dump: reasons are words', () => {
  it('an agent whose `git commit` failed: the decisive line says what git said, not byte values', () => {
    const verdict = classifyExit({ exit_code: 1, signal: null, duration_ms: 5_000, output: real('node-git-commit-nothing.txt') });
    expect(verdict.class).toBe('task');
    expect(verdict.line).toBe('Error: Command failed: git -c user.name=a -c user.email=a@b commit -qm x (nothing to commit, working tree clean)');
  });

  it.each([
    ['a multi-line Uint8Array dump', '  stdout: Buffer(3) [Uint8Array] [\n    104, 105,  10\n  ],', '  stdout: hi'],
    ['a cut one says so', '  stdout: Buffer(200) [Uint8Array] [\n    104, 105,\n    ... 198 more items\n  ],', '  stdout: hi\n  stdout: …'],
    ['the <Buffer> form', '  stderr: <Buffer 6f 6b>,', '  stderr: ok'],
    ['an empty stream is gone', '  stderr: Buffer(0) [Uint8Array] []', ''],
    ['the duplicate output array and the status fields are gone', '  status: 1,\n  signal: null,\n  output: [\n    null,\n    Buffer(0) [Uint8Array] [],\n    Buffer(0) [Uint8Array] []\n  ],\n  pid: 7,', ''],
  ])('readableNodeDump: %s', (_name, dump, readable) => {
    expect(readableNodeDump(dump)).toBe(readable);
  });
});
