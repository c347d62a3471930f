import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AgentReport } from '../../src/agents/report.js';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { fakeOllama, FIX_ADD_NUMBERS, type FakeOllama } from '../helpers/ollama.js';
import { AGENTS, git, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, tempDir, waitForState, writeConfig } from '../helpers/sample.js';

describe('coding CLI adapters against stand-in executables', () => {
  it('each CLI gets its documented headless flags, loses CLAUDECODE, and its report is parsed', async () => {
    const box = sandbox('clis');
    const bin = join(box.dir, 'bin');
    mkdirSync(bin);
    const clis = ['claude', 'codex', 'aider', 'gemini', 'opencode'];
    for (const name of clis) {
      copyFileSync(join(AGENTS, 'fake-cli.mjs'), join(bin, name));
      chmodSync(join(bin, name), 0o755);
    }
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, CLAUDECODE: '1' };
    // As root, Claude Code only runs sandboxed: the stand-in claude runs in swarm's bubblewrap sandbox there.
    const root = process.getuid?.() === 0;
    writeConfig(box, {
      agents: Object.fromEntries(clis.map((name) => [name, { type: name, model: `${name}-model`, env: { AGENT_RECORD_DIR: box.records }, ...(name === 'claude' && root ? { sandbox: 'bwrap' as const } : {}) }])),
      ci: { command: SAMPLE_CI },
    });
    const daemon = await runDaemon(box, env);
    try {
      const ids: Record<string, number> = {};
      for (const name of clis) {
        const spawned = await swarm(box.repo, ['spawn', '--json', '--agent', name, `Fix addNumbers with ${name}`], env);
        expect(spawned.stderr).toBe('');
        ids[name] = (JSON.parse(spawned.stdout) as { id: number }).id;
      }
      for (const name of clis) await waitForState(box, ids[name]!, 'ready');

      const registry = openRegistry(box);
      const recordOf = (name: string): { argv: string[]; CLAUDECODE: string | null; IS_SANDBOX: string | null; cwd: string } => {
        const line = readTranscriptTail(registry.latestAttempt(ids[name]!, 'agent')!.session_dir, 1024 * 1024).split('\n').find((l) => l.startsWith('STAND_IN_RECORD '))!;
        return JSON.parse(line.slice('STAND_IN_RECORD '.length).trim()) as { argv: string[]; CLAUDECODE: string | null; IS_SANDBOX: string | null; cwd: string };
      };
      const calls = Object.fromEntries(clis.map((name) => [name, recordOf(name)]));
      const promptOf = (name: string): string => registry.latestAttempt(ids[name]!, 'agent')!.prompt!;
      const promptFile = (name: string): string => join(box.repo, '.swarm', 'sessions', `t${ids[name]}-a1`, 'prompt.md');
      expect(calls.claude!.argv).toEqual(['-p', promptOf('claude'), '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'claude-model']);
      // The worktree's own git folder (named after the warm worktree it was made from, when the pool gave it).
      const codexGitDir = git(calls.codex!.cwd, ['rev-parse', '--absolute-git-dir']).trim();
      expect(codexGitDir.startsWith(join(box.repo, '.git', 'worktrees'))).toBe(true);
      expect(calls.codex!.argv).toEqual(['exec', '--json', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--add-dir', codexGitDir, '--add-dir', join(box.repo, '.git'), '-C', calls.codex!.cwd, '-m', 'codex-model', promptOf('codex')]);
      // Told it is sandboxed only where it is.
      expect(calls.claude!.IS_SANDBOX).toBe(root ? '1' : null);
      expect(calls.codex!.IS_SANDBOX).toBeNull();
      expect(calls.aider!.argv).toEqual(['--message-file', promptFile('aider'), '--yes-always', '--no-pretty', '--no-stream', '--auto-commits', '--no-check-update', '--no-show-model-warnings', '--no-gitignore', '--model', 'aider-model']);
      expect(calls.gemini!.argv).toEqual(['-p', promptOf('gemini'), '--approval-mode=yolo', '--skip-trust', '--output-format', 'stream-json', '-m', 'gemini-model']);
      expect(calls.opencode!.argv).toEqual(['run', '--auto', '--format', 'json', '--model', 'opencode-model', promptOf('opencode')]);
      for (const name of clis) expect(calls[name]!.CLAUDECODE).toBeNull();

      const report = (name: string): AgentReport => AgentReport.parse(JSON.parse(registry.latestAttempt(ids[name]!, 'agent')!.report ?? '{}'));
      expect(report('claude')).toEqual({ final_message: 'Fixed addNumbers.', session_id: 'claude-sess-1', input_tokens: 1200, cached_input_tokens: 0, output_tokens: 340, cost_usd: 0.0421, session_cost_usd: 0.0421 });
      expect(report('codex')).toEqual({ final_message: 'Changed - to +.', session_id: 'codex-thread-9', input_tokens: 2000, cached_input_tokens: 0, output_tokens: 150 });
      expect(report('aider')).toEqual({ input_tokens: 4200, output_tokens: 312, cost_usd: 0.03 });
      expect(report('gemini')).toEqual({ final_message: 'Done: it adds now.', session_id: 'gem-7', input_tokens: 800, output_tokens: 100 });
      expect(report('opencode')).toEqual({ final_message: 'Fixed addNumbers.', session_id: 'ses_abc', input_tokens: 500, cached_input_tokens: 0, output_tokens: 60, cost_usd: 0.002 });
      registry.close();
    } finally {
      daemon.child.kill('SIGKILL');
      box.cleanup();
    }
  });

  it('a CLI that is not installed is an error at spawn time', async () => {
    const box = sandbox('nocli');
    writeConfig(box, { agents: { codex: { type: 'codex' } } });
    const result = await swarm(box.repo, ['spawn', 'do it'], { PATH: '/usr/bin:/bin' });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('Agent "codex" needs `codex`, which is not on PATH');
    box.cleanup();
  });
});

describe('the built-in agent inside the swarm', () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await fakeOllama([
      { name: 'coder:7b', capabilities: ['completion', 'tools'] },
      { name: 'plain:1b', capabilities: ['completion'] },
    ]);
  });
  afterAll(() => ollama.close());

  it('swarm demo: picks the built-in agent, fixes addNumbers through the whole loop, CI green, merged', async () => {
    ollama.script(FIX_ADD_NUMBERS);
    const dir = tempDir('demo');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const result = await swarm(dir, ['demo', '--dir', dir], { OLLAMA_HOST: ollama.url, PATH: '/usr/bin:/bin' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Agent: the built-in agent on coder:7b through Ollama');
    expect(result.stdout).toContain('ci_started');
    expect(result.stdout).toContain('Ready with CI green after 0 respawn(s), merged into main');
    expect(readFileSync(join(dir, 'sample', 'src', 'add.ts'), 'utf8')).toContain('return a + b;');
    expect(git(join(dir, 'sample'), ['log', '--format=%s', 'main'])).toContain('Fix addNumbers: add instead of subtract');
    const registry = openRegistry({ dir, repo: join(dir, 'sample'), worktrees: '', records: '', extraCleanup: [], cleanup: () => undefined });
    const report = AgentReport.parse(JSON.parse(registry.latestAttempt(1, 'agent')!.report!));
    expect(report.final_message).toContain('Fix addNumbers');
    expect(report.output_tokens).toBe(180);
    registry.close();
  });

  it('demo without any agent says so first, runs the whole loop with the labelled scripted agent, then says how to get a real one', async () => {
    const dir = tempDir('noagent');
    try {
      const result = await swarm(dir, ['demo', '--dir', dir], { OLLAMA_HOST: 'http://127.0.0.1:9', PATH: '/usr/bin:/bin' });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toContain('No coding agent on this machine');
      expect(lines[0]).toContain('scripted demonstration agent (not an AI)');
      // Every step of the loop, as it happened: red CI, a respawn with the evidence, green, ready.
      for (const step of ['agent_started', 'ci_started', 'respawn', 'ready']) expect(result.stdout).toContain(step);
      expect(result.stdout).toContain('1 failing test.');
      expect(result.stdout.match(/Notification \(once/g)).toHaveLength(1);
      expect(result.stdout).toContain('Ready with CI green after 1 respawn(s), merged into main');
      expect(lines.filter(Boolean).at(-1)).toContain('ollama pull qwen2.5-coder:7b');
      expect(readFileSync(join(dir, 'sample', 'src', 'add.ts'), 'utf8')).toContain('return a + b;');
      // The scripted agent read the evidence: its second run saw the assertion in its prompt.
      const registry = openRegistry({ dir, repo: join(dir, 'sample'), worktrees: '', records: '', extraCleanup: [], cleanup: () => undefined });
      expect(registry.attempts(1).find((a) => a.kind === 'agent' && a.n === 2)?.prompt).toContain('6 !== 5');
      registry.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spawn refuses a model without tools, or an Ollama that is down, with what to do', async () => {
    const box = sandbox('preflight');
    writeConfig(box, { agents: { local: { type: 'builtin', model: 'plain:1b', host: ollama.url } } });
    const noTools = await swarm(box.repo, ['spawn', 'do it']);
    expect(noTools.code).toBe(7);
    expect(noTools.stderr).toContain('Model plain:1b cannot call tools');
    writeConfig(box, { agents: { local: { type: 'builtin', model: 'coder:7b', host: 'http://127.0.0.1:9' } } });
    const down = await swarm(box.repo, ['spawn', 'do it']);
    expect(down.stderr).toContain('Ollama is not reachable at http://127.0.0.1:9');
    box.cleanup();
  });

  it('a model server that fails mid-run ends the attempt with its error as evidence', async () => {
    const box = sandbox('midrun');
    ollama.script([FIX_ADD_NUMBERS[0]!, { http_error: 500, message: 'llama runner process has terminated' }]);
    // A 500 from the model server is transient trouble: waited out, then (past the give-up time) a human.
    writeConfig(box, { agents: { local: { type: 'builtin', model: 'coder:7b', host: ollama.url } }, max_retries: 0, ci: { command: SAMPLE_CI }, backoff: { transient_seconds: 0.2, transient_give_up_minutes: 0.001 } });
    const daemon = await runDaemon(box);
    try {
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
      const task = await waitForState(box, id, 'needs_help');
      expect(task.reason).toContain('Transient trouble (the provider had a server error)');
      expect(task.reason).toContain('Still failing after');
      expect(task.retries).toBe(0);
      const registry = openRegistry(box);
      expect(registry.latestAttempt(id, 'agent')!.evidence).toContain('llama runner process has terminated');
      registry.close();
    } finally {
      daemon.child.kill('SIGKILL');
      box.cleanup();
    }
  });
});
