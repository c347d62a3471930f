import { describe, expect, it } from 'vitest';
import { inferCi, inferDeps, planInit, type InitFacts } from '../../src/cli/init-plan.js';

const none = { pyproject: false, pytestIni: false, makefileTest: false, goMod: false, cargo: false };
const facts = (over: Partial<InitFacts>): InitFacts => ({ branch: 'main', npmTest: null, files: none, clis: [], ollama: null, uid: 1000, sandbox: { ok: false, why: 'bubblewrap (bwrap) is not installed', fix: 'install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`)' }, ...over });

describe('swarm init', () => {
  it.each<[string, Partial<InitFacts>, string[] | null]>([
    ['package.json test script', { npmTest: 'vitest run' }, ['npm', 'test']],
    ["npm's placeholder is no test", { npmTest: 'echo "Error: no test specified" && exit 1' }, null],
    ['pytest.ini', { files: { ...none, pytestIni: true } }, ['python3', '-m', 'pytest', '-q']],
    ['pyproject.toml', { files: { ...none, pyproject: true } }, ['python3', '-m', 'pytest', '-q']],
    ['Makefile test target', { files: { ...none, makefileTest: true } }, ['make', 'test']],
    ['go.mod', { files: { ...none, goMod: true } }, ['go', 'test', './...']],
    ['Cargo.toml', { files: { ...none, cargo: true } }, ['cargo', 'test']],
    ['nothing evident', {}, null],
  ])('CI from %s', (_name, over, command) => {
    expect(inferCi(facts(over))?.command ?? null).toEqual(command);
  });

  it.each<[string, Partial<InitFacts>, string, string[]]>([
    ['claude beats the others', { clis: ['opencode', 'claude', 'codex'] }, 'claude', ['opencode', 'claude', 'codex']],
    ['codex and a local model', { clis: ['codex'], ollama: { host: 'http://127.0.0.1:11434', model: 'qwen2.5-coder:7b' } }, 'codex', ['codex', 'local']],
    ['only a local model', { ollama: { host: 'http://127.0.0.1:11434', model: 'qwen2.5-coder:7b' } }, 'local', ['local']],
    ['nothing: a claude entry to edit', {}, 'claude', ['claude']],
  ])('agents: %s', (_name, over, defaultAgent, names) => {
    const { config, notes } = planInit(facts(over));
    expect(config.default_agent).toBe(defaultAgent);
    expect(Object.keys(config.agents ?? {})).toEqual(names);
    expect(notes.join('\n')).toContain(`default: ${defaultAgent}`.slice(0, defaultAgent === 'claude' && names.length === 1 && !over.clis ? 0 : undefined));
  });

  it.each([
    ['a user, bubblewrap works: sandboxed, written down', 1000, { ok: true as const }, 'bwrap', 'Sandbox: bubblewrap.'],
    ['root, bubblewrap works: sandboxed', 0, { ok: true as const }, 'bwrap', 'Sandbox: bubblewrap.'],
    ['a user without bubblewrap: none, written down, with why and the fix', 1000, { ok: false as const, why: 'bubblewrap (bwrap) is not installed', fix: 'install it' }, 'none', 'Sandbox: NONE, because bubblewrap (bwrap) is not installed: agents run as you, with your home and network. Fix: install it'],
    ['root without bubblewrap: and Claude Code will refuse', 0, { ok: false as const, why: 'user namespaces are switched off', fix: 'sysctl' }, 'none', 'Claude Code will refuse to run'],
  ])('%s', (_name, uid, sandbox, expected, note) => {
    const { config, notes } = planInit(facts({ uid, sandbox, clis: ['claude'] }));
    expect(config.sandbox).toBe(expected);
    expect(notes.join('\n')).toContain(note);
  });
});

describe('inferDeps', () => {
  it.each([
    [['package-lock.json'], ['npm', 'ci'], ['node_modules']],
    [['pnpm-lock.yaml'], ['pnpm', 'install', '--frozen-lockfile'], ['node_modules']],
    [['yarn.lock'], ['yarn', 'install', '--frozen-lockfile'], ['node_modules']],
    [['uv.lock'], ['uv', 'sync', '--frozen'], ['.venv']],
    [['yarn.lock', 'package-lock.json'], ['npm', 'ci'], ['node_modules']],
  ] as const)('%j -> %j', (lockfiles, command, paths) => {
    expect(inferDeps({ lockfiles: [...lockfiles] })).toEqual({ command, lockfiles: [command[0] === 'npm' ? 'package-lock.json' : lockfiles[0]], paths });
  });
  it('none without a lockfile; init writes worktree.deps and says so when there is one', () => {
    expect(inferDeps({ lockfiles: [] })).toBeNull();
    expect(inferDeps({})).toBeNull();
    const plan = planInit(facts({ lockfiles: ['package-lock.json'] }));
    expect(plan.config.worktree).toEqual({ deps: [{ command: ['npm', 'ci'], lockfiles: ['package-lock.json'], paths: ['node_modules'] }] });
    expect(plan.notes.join('\n')).toContain('`npm ci` once per package-lock.json');
    expect(planInit(facts({})).config.worktree).toBeUndefined();
  });
});

describe('swarm init proposes reviewers from the other CLIs', () => {
  it.each([
    ['claude alone: nobody to review', ['claude'], []],
    ['claude writes; codex and gemini review (other families), each with a focus', ['claude', 'codex', 'gemini'], [['codex', 'logic'], ['gemini', 'security']]],
    ['four CLIs: the other families first, opencode (any model) after them', ['claude', 'codex', 'gemini', 'opencode'], [['codex', 'logic'], ['gemini', 'security'], ['opencode', 'architecture']]],
    ['codex and opencode: opencode reviews', ['codex', 'opencode'], [['opencode', 'logic']]],
  ])('%s', (_name, clis, expected) => {
    const { config, notes } = planInit(facts({ clis }));
    expect((config.review?.reviewers ?? []).map((r) => [r.agent, r.focus])).toEqual(expected);
    if (expected.length) expect(notes.join('\n')).toContain('Remove "review" from swarm.config.json to turn it off.');
  });
});

describe('swarm init proposes a report for runners swarm cannot ask through the environment', () => {
  it.each([
    ['vitest run', 'reports/vitest.json'],
    ['jest --coverage', 'reports/jest.json'],
    ['node --test', 'reports/junit.xml'],
    ['mocha', null],
  ])('npm test = %s', (script, file) => {
    const { notes } = planInit(facts({ npmTest: script }));
    const said = notes.find((n) => n.startsWith('Evidence:'));
    if (file) expect(said).toContain(file);
    else expect(said).toBeUndefined();
  });
});
