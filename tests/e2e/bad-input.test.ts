import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, git, openRegistry, readRecords, runDaemon, sandbox, swarm, tempDir, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

describe('bad input gets a clear error and leaves nothing behind', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;

  beforeEach(() => {
    box = sandbox('bad');
    writeConfig(box, { agents: { echo: { command: agentCommand('echo.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, default_agent: 'echo' });
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  function taskCount(): number {
    if (!existsSync(join(box.repo, '.swarm', 'swarm.db'))) return 0;
    const registry = openRegistry(box);
    const n = registry.listTasks().length;
    registry.close();
    return n;
  }

  const noWorktrees = (): boolean => !existsSync(box.worktrees) || readdirSync(box.worktrees).length === 0;

  it('not a git repository', async () => {
    const dir = tempDir('plain');
    box.extraCleanup.push(dir);
    const result = await swarm(dir, ['spawn', 'do it']);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('is not inside a git repository');
    expect(result.stderr).toContain('git init');
    expect(existsSync(join(dir, '.swarm'))).toBe(false);
  });

  it('missing base branch', async () => {
    writeConfig(box, { base: 'develop', agents: { echo: { command: agentCommand('echo.mjs') } } });
    const result = await swarm(box.repo, ['spawn', 'do it']);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('Base branch "develop" does not exist');
    expect(taskCount()).toBe(0);
  });

  it('invalid config names the field', async () => {
    writeFileSync(join(box.repo, 'swarm.config.json'), JSON.stringify({ agents: { echo: { command: [] } }, max_retries: -1 }));
    const result = await swarm(box.repo, ['spawn', 'do it']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('agents.echo.command: needs at least the program name');
    expect(result.stderr).toContain('max_retries:');
    writeFileSync(join(box.repo, 'swarm.config.json'), '{ not json');
    const broken = await swarm(box.repo, ['ls']);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain('is not valid JSON');
  });

  it('unknown agent', async () => {
    const result = await swarm(box.repo, ['spawn', '--agent', 'nope', 'do it']);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('Unknown agent "nope". Configured agents: echo');
    expect(taskCount()).toBe(0);
  });

  it('agent command not found', async () => {
    writeConfig(box, { agents: { ghost: { command: ['definitely-not-installed-agent', '{prompt_file}'] } } });
    const result = await swarm(box.repo, ['spawn', 'do it']);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('`definitely-not-installed-agent`, which is not on PATH');
    expect(taskCount()).toBe(0);
  });

  it('empty prompt', async () => {
    const result = await swarm(box.repo, ['spawn', '   ']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('The prompt is empty');
    expect(taskCount()).toBe(0);
  });

  it('a branch that already exists', async () => {
    git(box.repo, ['branch', 'feature/taken']);
    const result = await swarm(box.repo, ['spawn', '--branch', 'feature/taken', 'do it']);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('Branch "feature/taken" already exists');
    expect(taskCount()).toBe(0);
    expect(git(box.repo, ['rev-parse', 'feature/taken']).trim()).toBe(git(box.repo, ['rev-parse', 'main']).trim());
  });

  it('a leftover auto-named branch is never reused: the task gets a fresh name', async () => {
    git(box.repo, ['branch', 'swarm/1-do-it']);
    const result = await swarm(box.repo, ['spawn', '--json', 'do it']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { branch: string }).branch).toBe('swarm/1-do-it-2');
  });

  it('a prompt full of shell metacharacters reaches the agent verbatim and is never executed', async () => {
    const canary = join(box.dir, 'pwned');
    const prompt = `Fix it $(touch ${canary}) \`touch ${canary}\` ; touch ${canary} && echo "$HOME" | cat > ${canary} 'quoted' \\ back\nsecond line with $PATH and * globs ?`;
    writeConfig(box, { agents: { echo: { command: [...agentCommand('echo.mjs'), '--prompt', '{prompt}'], env: { AGENT_RECORD_DIR: box.records } } } });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', prompt]);
    expect(spawned.code).toBe(0);
    const { id } = JSON.parse(spawned.stdout) as { id: number };
    await waitForState(box, id, 'ready');
    const [seen] = readRecords(box, 'echo.jsonl') as { argv: string[]; prompt: string }[];
    expect(seen!.argv[0]).toBe('--prompt');
    expect(seen!.argv[1]!.startsWith(prompt)).toBe(true);
    expect(seen!.argv).toHaveLength(2);
    expect(seen!.prompt.startsWith(prompt)).toBe(true);
    expect(existsSync(canary)).toBe(false);
  });

  it('a second daemon on the same state directory is refused', async () => {
    daemon = await runDaemon(box);
    const second = await swarm(box.repo, ['daemon', 'run']);
    expect(second.code).toBe(6);
    expect(second.stderr).toContain('A swarm daemon is already running for this repository');
    // The first one is unharmed.
    const status = await swarm(box.repo, ['daemon', 'status', '--json']);
    expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(daemon.child.pid);
  });

  it('an unknown task id and a merge of a task that is not ready', async () => {
    const missing = await swarm(box.repo, ['show', '42']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('No task 42');
    const spawned = await swarm(box.repo, ['spawn', '--json', 'do it']);
    const { id } = JSON.parse(spawned.stdout) as { id: number };
    const merge = await swarm(box.repo, ['merge', String(id)]);
    expect(merge.code).toBe(5);
    expect(merge.stderr).toContain('is queued, not ready');
    expect(readFileSync(join(box.repo, 'src', 'add.ts'), 'utf8')).toContain('a - b');
  });

  it('a setup command that fails puts the task in needs_help with the command output, nothing half-done', async () => {
    mkdirSync(join(box.dir, 'x'), { recursive: true });
    writeConfig(box, {
      agents: { echo: { command: agentCommand('echo.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      worktree: { setup: [[process.execPath, '-e', 'console.error("setup exploded"); process.exit(4)']] },
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', 'do it']);
    const { id } = JSON.parse(spawned.stdout) as { id: number };
    const task = await waitForState(box, id, 'needs_help');
    expect(task.reason).toContain('setup exploded');
    expect(readRecords(box, 'echo.jsonl')).toHaveLength(0);
    expect(noWorktrees()).toBe(false); // kept for inspection; `swarm kill` + `swarm cleanup` remove it
    await swarm(box.repo, ['kill', String(id)]);
    const cleaned = await swarm(box.repo, ['cleanup', '--json']);
    expect((JSON.parse(cleaned.stdout) as { removed: unknown[] }).removed).toHaveLength(1);
    expect(noWorktrees()).toBe(true);
    expect(git(box.repo, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
  });
});
