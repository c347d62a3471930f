import { describe, expect, it } from 'vitest';
import { inferCi, inferDeps, planInit, type InitFacts } from '../../src/cli/init-plan.js';

const none = { pyproject: false, pytestIni: false, makefileTest: false, goMod: false, cargo: false };
const facts = (over: Partial<InitFacts>): InitFacts => ({ branch: 'main', npmTest: null, files: none, clis: [], ollama: null, uid: 1000, bwrap: false, ...over });

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

  it('as root with bubblewrap, agents run sandboxed, and it says why', () => {
    const { config, notes } = planInit(facts({ uid: 0, bwrap: true, clis: ['claude'] }));
    expect(config.sandbox).toBe('bwrap');
    expect(notes.join('\n')).toContain('Claude Code refuses to skip permissions as root');
    expect(planInit(facts({ uid: 0, bwrap: false, clis: ['claude'] })).notes.join('\n')).toContain('install bubblewrap');
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
