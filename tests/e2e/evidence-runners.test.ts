import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readManifest, runnersDir } from '../../scripts/capture-runner-output.js';
import { agentCommand, git, readRecords, ROOT, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

/**
 * End to end, for each runner: the real runner is swarm's CI on its sample project (add(2, 3) gives -1), an
 * agent's first attempt leaves the bug, and the second attempt's prompt is read: the evidence section names the
 * failing test exactly once, carries expected and actual and a file:line relative to the worktree, and is short.
 */
const manifest = readManifest();
// runner → the failing test's name (its last part) and where it is
const expected: Record<string, { name: string; location: string }> = {
  'node-test': { name: 'math › adds two numbers', location: 'test/math.test.mjs:10' },
  vitest: { name: 'math › adds two numbers', location: 'test/math.test.mjs:9' },
  jest: { name: 'math › adds two numbers', location: 'test/math.test.js:8' },
  mocha: { name: 'math › adds two numbers', location: 'test/math.test.mjs:9' },
  uvu: { name: 'math › adds two numbers', location: 'test/math.test.mjs:10' },
  ava: { name: 'math › adds two numbers', location: 'test/math.test.mjs:8' },
  tap: { name: 'math › adds two numbers › should be equal', location: 'test/math.test.mjs:9' },
  pytest: { name: 'TestMath › test_adds_two_numbers', location: 'tests/test_math.py:9' },
  unittest: { name: 'MathTest › test_adds_two_numbers', location: 'tests/test_math.py:11' },
  go: { name: 'TestMath/adds_two_numbers', location: 'math_test.go:13' },
  cargo: { name: 'math::adds_two_numbers', location: 'src/lib.rs:16' },
  rspec: { name: 'math adds two numbers', location: 'spec/math_spec.rb:9' },
};

const cases: [string, string, string[], string[]][] = [
  ...Object.entries(manifest)
    .filter(([runner]) => !runner.endsWith('-corpus'))
    .map(([runner, spec]): [string, string, string[], string[]] => [runner, runner, spec.ci, []]),
  // The same, with the JUnit report vitest writes read instead of its terminal output.
  ['vitest + JUnit report', 'vitest', ['node_modules/.bin/vitest', 'run', '--reporter=default', '--reporter=junit', '--outputFile=reports/junit.xml'], ['reports/*.xml']],
];

/** rustup's cargo lives in ~/.cargo/bin, which a non-login shell's PATH may lack. */
function tool(argv: string[]): string[] {
  const [first, ...rest] = argv;
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, first!)));
  const rustup = join(homedir(), '.cargo', 'bin', first!);
  return !onPath && existsSync(rustup) ? [rustup, ...rest] : argv;
}

function runnerRepo(box: Sandbox, sample: string): void {
  for (const entry of readdirSync(box.repo)) if (entry !== '.git') rmSync(join(box.repo, entry), { recursive: true, force: true });
  cpSync(join(ROOT, 'tests', 'fixtures', 'runners', sample), box.repo, { recursive: true });
  writeFileSync(join(box.repo, '.gitignore'), 'node_modules\ntarget\n__pycache__\n.pytest_cache\nreports\n.swarm\nswarm.config.json\n');
  git(box.repo, ['add', '-A']);
  git(box.repo, ['-c', 'user.name=Sample', '-c', 'user.email=s@example.com', 'commit', '-qm', `The ${sample} sample, with the add bug`]);
}

/**
 * The sample made the repository, the real runner as swarm's CI, a fixer whose first attempt leaves the bug:
 * the evidence section of its second attempt's prompt.
 */
async function secondPrompt(box: Sandbox, sample: string, ci: string[], options: { reports?: string[]; also?: string; title: string; started: (daemon: DaemonProcess) => void }): Promise<string> {
  runnerRepo(box, sample);
  const js = ci[0]!.startsWith('node_modules/');
  writeConfig(box, {
    agents: { fixer: { command: agentCommand('runner-fixer.mjs'), env: { AGENT_RECORD_DIR: box.records, AGENT_FIX_FILE: manifest[sample]!.fix, ...(options.also ? { AGENT_FIX_ALSO: options.also } : {}) } } },
    ci: { command: tool(ci), reports: options.reports ?? [], timeout_minutes: 5 },
    backoff: { crash_seconds: 0 },
    ...(js ? { worktree: { setup: [['ln', '-sfn', join(runnersDir(), 'node_modules'), 'node_modules']] } } : {}),
  });
  const daemon = await runDaemon(box);
  options.started(daemon);
  const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', options.title])).stdout) as { id: number };
  const done = await waitForState(box, id, ['ready', 'needs_help'], 180_000);
  expect(done.state, done.state === 'needs_help' ? JSON.stringify(done) : '').toBe('ready');
  const [second] = readRecords(box, 'runner-fixer.jsonl') as { prompt: string }[];
  return second!.prompt.slice(second!.prompt.indexOf('## What went wrong'));
}

/**
 * The corpus suites run the way real projects run them (uvu through its CLI over a folder with the esm loader;
 * pytest -q with parametrized failures): the second attempt's prompt lists every failing test, or its group,
 * with file:line and the right count. pytest also writes the JUnit report swarm asks for through
 * PYTEST_ADDOPTS, read first.
 */
const corpus: [string, string, string[], string, string[]][] = [
  ['uvu -r esm test', 'uvu-corpus', manifest['uvu-corpus']!.ci, '', ['3 failing tests', '- nested/format.js › formats a sum (test/nested/format.js:6)', '- numbers › adds small numbers (test/numbers.js:7)', '- numbers › adds negative numbers (test/numbers.js:10)']],
  ['python3 -m pytest -q', 'pytest-corpus', manifest['pytest-corpus']!.ci, 'return text.replace("<"=>return text.replace("&", "&amp;").replace("<"', ['10 failing tests', '- test_escape — 9 parametrizations: [&-&amp;], [a & b-a &amp; b], [&&-&amp;&amp;], … (tests/test_escape.py:32)', '- TestAdd › test_add (tests/test_math.py:10)']],
];

describe('evidence from real projects\' ways of running their suites, end to end', () => {
  let box: Sandbox | null = null;
  let daemon: DaemonProcess | null = null;
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box?.cleanup();
    box = null;
  });

  it.each(corpus)('%s', async (_label, sample, ci, also, lines) => {
    box = sandbox(`evidence-${sample}`);
    const section = await secondPrompt(box, sample, ci, { also, title: 'Fix the failing tests', started: (d) => (daemon = d) });
    expect(section.split('\n').length, section).toBeLessThanOrEqual(25);
    for (const line of lines) expect(section, section).toContain(line);
    expect(section).not.toContain('… and');
    expect(section).not.toContain(box.dir);
  });
});

describe('evidence from each real runner, end to end', () => {
  let box: Sandbox | null = null;
  let daemon: DaemonProcess | null = null;
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box?.cleanup();
    box = null;
  });

  it.each(cases)('%s', async (_label, sample, ci, reports) => {
    box = sandbox(`evidence-${sample}`);
    const section = await secondPrompt(box, sample, ci, { reports, title: 'Fix add', started: (d) => (daemon = d) });
    const { name, location } = expected[sample]!;
    expect(section.split('\n').length, section).toBeLessThanOrEqual(25);
    expect(section.split(name.split(' › ').at(-1)!).length - 1, section).toBe(1);
    expect(section).toContain(`- ${name} (${location})`);
    expect(section, section).toMatch(/(^|[^\d-])5\b/);
    expect(section).toMatch(/-1\b/);
    expect(section).toContain('1 failing test');
    expect(section).not.toContain(box.dir);
  });
});
