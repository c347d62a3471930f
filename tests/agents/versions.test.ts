import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/clis.js';
import { attemptCost, parseGemini } from '../../src/agents/report.js';
import { flagsIn, missingFlags, parseVersion } from '../../src/agents/versions.js';
import { reconnectOnly } from '../../monitor/classify.js';

/** Excerpts of the real --help pages (codex 0.169.0 `exec --help`, gemini 0.61.0 `--help`). */
const CODEX_HELP = `Usage: codex exec [OPTIONS] [PROMPT]
  -c, --config <key=value>
  -m, --model <MODEL>
  -s, --sandbox <SANDBOX_MODE>
      --dangerously-bypass-approvals-and-sandbox
  -C, --cd <DIR>
      --add-dir <DIR>
      --skip-git-repo-check
      --json
  -o, --output-last-message <FILE>`;
const GEMINI_HELP = `  -m, --model                     Model  [string]
      --approval-mode             Set the approval mode  [string] [choices: "default", "auto_edit", "yolo", "plan"]
      --skip-trust                Trust the current workspace for this session.  [boolean] [default: false]
  -o, --output-format             The format of the CLI output.  [string]`;

describe('flag check', () => {
  it.each([
    ['codex 0.169 has no --full-auto', ['codex', 'exec', '--json', '--full-auto', '-C', '/w', 'prompt'], CODEX_HELP, ['--full-auto']],
    ['codex: the options swarm passes now', ['codex', 'exec', '--json', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--add-dir', '/r/.git', '-C', '/w', '-m', 'gpt', 'resume', 'id', 'prompt'], CODEX_HELP, []],
    ['a --flag=value counts as --flag', ['gemini', '-p', 'x', '--approval-mode=yolo', '--skip-trust', '-m', 'g'], GEMINI_HELP, ['-p']],
    ['--dangerously is not --dangerously-bypass-approvals-and-sandbox', ['codex', 'exec', '--dangerously'], CODEX_HELP, ['--dangerously']],
    ['a prompt that looks like a flag is not checked', ['codex', 'exec', '--json', '- fix the bug'], CODEX_HELP, []],
  ])('%s', (_name, argv, help, missing) => {
    expect(missingFlags(flagsIn(argv.slice(1), ['- fix the bug']), help)).toEqual(missing);
  });

  it.each([
    ['2.1.330 (Claude Code)', '2.1.330'],
    ['codex-cli 0.169.0', '0.169.0'],
    ['0.61.0', '0.61.0'],
    ['no version here', null],
  ])('parseVersion(%j) = %j', (text, version) => expect(parseVersion(text)).toBe(version));
});

describe('claude refuses root unless sandboxed', () => {
  it.each([
    [0, false, true],
    [0, true, false],
    [1000, false, false],
  ])('uid %i, sandboxed %s: refused %s', (uid, sandboxed, refused) => {
    const refusal = claudeAdapter.refuse!({ uid, sandboxed });
    expect(refusal !== null).toBe(refused);
    if (refusal) expect(refusal).toContain('"sandbox": "bwrap"');
  });
});

describe('reports', () => {
  it.each([
    ['resumed session: the difference', { session_id: 's', session_cost_usd: 0.5, cost_usd: 0.5 }, { session_id: 's', session_cost_usd: 0.2 }, 0.3],
    ['a fresh session: as printed', { session_id: 't', session_cost_usd: 0.5, cost_usd: 0.5 }, { session_id: 's', session_cost_usd: 0.2 }, 0.5],
    ['no previous attempt', { session_id: 's', session_cost_usd: 0.5, cost_usd: 0.5 }, null, 0.5],
  ])('attemptCost: %s', (_name, report, previous, cost) => {
    expect(attemptCost(report, previous).cost_usd).toBeCloseTo(cost, 9);
  });

  it("gemini's final message is the last turn's text, not every chunk of every turn", () => {
    const lines = [
      { type: 'init', session_id: 'g1' },
      { type: 'message', role: 'assistant', content: 'Step 1.', delta: true },
      { type: 'tool_use', tool_name: 'run_shell_command' },
      { type: 'tool_result', status: 'success' },
      { type: 'message', role: 'assistant', content: 'Fixed ', delta: true },
      { type: 'message', role: 'assistant', content: 'addNumbers.', delta: true },
      { type: 'result', status: 'success', stats: { input_tokens: 10400, cached: 8000, output_tokens: 122 } },
    ];
    expect(parseGemini(lines.map((l) => JSON.stringify(l)).join('\n'))).toEqual({ session_id: 'g1', final_message: 'Fixed addNumbers.', input_tokens: 10400, cached_input_tokens: 8000, output_tokens: 122 });
  });
});

describe('reconnectOnly', () => {
  it.each([
    ['codex waiting for the network', '{"type":"turn.started"}\n{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion)"}\n{"type":"error","message":"Reconnecting... 3/5 (stream disconnected before completion)"}\n', /Reconnecting\.\.\. 3\/5/],
    ['claude api_retry events', '{"type":"system","subtype":"api_retry","attempt":3,"error_status":529}\n{"type":"system","subtype":"api_retry","attempt":4,"error_status":529}\n', /api_retry/],
    ['gemini retrying with backoff', 'Attempt 2 failed with status 429. Retrying with backoff... _ApiError\n  status: 429\n}\nAttempt 3 failed with status 429. Retrying with backoff... _ApiError\n', /Attempt 3/],
    ['real output after a reconnect', 'Reconnecting... 1/5\n{"type":"item.completed","item":{"type":"agent_message","text":"working"}}\n', null],
    ['nothing yet', '', null],
  ])('%s', (_name, tail, expected) => {
    const line = reconnectOnly(tail);
    if (expected === null) expect(line).toBeNull();
    else expect(line).toMatch(expected);
  });
});
