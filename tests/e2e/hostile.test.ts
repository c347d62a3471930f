import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { AGENTS, agentCommand, BIN, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

describe('bad state and hostile input', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('hostile');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('an emptied swarm.db is refused clearly, nothing reused; a corrupt one says what to do', async () => {
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, ci: { command: SAMPLE_CI } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'ready');
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;
    const db = join(box.repo, '.swarm', 'swarm.db');
    writeFileSync(db, '');
    for (const args of [['ls'], ['spawn', 'Fix it again'], ['daemon', 'run']]) {
      const result = await swarm(box.repo, args);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(9);
      expect(result.stderr).toContain('the database was deleted or emptied');
      expect(result.stderr).toContain('Nothing was changed');
    }
    expect(statSync(db).size).toBe(0);
    for (const suffix of ['-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    writeFileSync(db, 'this is not sqlite at all, just text that fills a page '.repeat(200));
    const corrupt = await swarm(box.repo, ['ls']);
    expect(corrupt.code).toBe(9);
    expect(corrupt.stderr).toContain('is not a readable SQLite database');
    expect(corrupt.stderr).not.toContain('This is a bug');
  });

  it('an emptied swarm.db that held only queued tasks (no daemon ever ran them) is refused too, saying how swarm knows', async () => {
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } } });
    for (const prompt of ['one', 'two']) expect((await swarm(box.repo, ['spawn', prompt])).code).toBe(0);
    const db = join(box.repo, '.swarm', 'swarm.db');
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    const listed = await swarm(box.repo, ['ls']);
    expect(listed.code, listed.stdout).toBe(9);
    expect(listed.stderr).toContain('`.swarm/tasks-seen` shows 2 task(s) were queued here');
    expect(listed.stderr).toContain('Nothing was changed');
    expect(existsSync(db)).toBe(false);
  });

  it('a title with escape sequences and a newline prints as one escaped row; --json keeps it raw', async () => {
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } } });
    const title = 'Fix \u001b]0;pwned\u0007\u001b[2J bug\n99  ready  claude  0/3  1s  forged row';
    expect((await swarm(box.repo, ['spawn', '--title', title, 'do it'])).code).toBe(0);
    const listed = await swarm(box.repo, ['ls']);
    const shown = await swarm(box.repo, ['show', '1']);
    expect(listed.stdout).not.toContain('\u001b');
    const rows = listed.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^1\s/);
    expect(listed.stdout).toContain('\\u001b]0;pwned');
    expect(shown.stdout).toContain('forged row');
    expect(shown.stdout).not.toContain('\u001b');
    expect((JSON.parse((await swarm(box.repo, ['show', '1', '--json'])).stdout) as { task: { title: string } }).task.title).toBe(title);
  });

  it.each([
    ['HEAD', 'cannot be a branch name'],
    ['.hidden', 'not a valid branch name'],
    ['a/.b', 'not a valid branch name'],
    ['refs/heads/main', 'looks like a full ref'],
    ['swarm/7-fix', 'swarm/ is where swarm names its own branches'],
    ['has space', 'not a valid branch name'],
  ])('branch %j is refused at spawn', async (branch, message) => {
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } } });
    const result = await swarm(box.repo, ['spawn', '--branch', branch, 'do it']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(openRegistry(box).listTasks()).toHaveLength(0);
  });

  it('a 2 MB prompt reaches claude-, codex- and custom-style agents whole; {prompt} for it is refused at spawn', async () => {
    const bin = join(box.dir, 'bin');
    mkdirSync(bin);
    for (const name of ['claude', 'codex']) {
      copyFileSync(join(AGENTS, 'big-prompt.mjs'), join(bin, name));
      chmodSync(join(bin, name), 0o755);
    }
    const root = process.getuid?.() === 0;
    writeConfig(box, {
      agents: {
        claude: { type: 'claude', command: [join(bin, 'claude')], ...(root ? { sandbox: 'bwrap' as const } : {}) },
        codex: { type: 'codex', command: [join(bin, 'codex')] },
        file: { command: agentCommand('big-prompt.mjs', '--prompt-file', '{prompt_file}') },
        inline: { command: agentCommand('big-prompt.mjs', '{prompt}') },
      },
      ci: { command: SAMPLE_CI },
    });
    const prompt = `${'Context line for the agent. '.repeat(75_000)}\nTHE END OF THE PROMPT`;
    expect(Buffer.byteLength(prompt)).toBeGreaterThan(2_000_000);
    const refused = await swarmStdin(box.repo, ['spawn', '-a', 'inline', '-'], prompt);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('Use {prompt_file}');
    daemon = await runDaemon(box);
    const ids: Record<string, number> = {};
    for (const agent of ['claude', 'codex', 'file']) {
      const spawned = await swarmStdin(box.repo, ['spawn', '--json', '-a', agent, '-t', `big for ${agent}`, '-'], prompt);
      expect(spawned.code, spawned.stderr).toBe(0);
      ids[agent] = (JSON.parse(spawned.stdout) as { id: number }).id;
    }
    const registry = openRegistry(box);
    for (const [agent, id] of Object.entries(ids)) {
      const task = await waitForState(box, id, ['ready', 'needs_help']);
      expect(task.state, task.reason ?? '').toBe('ready');
      const attempt = registry.latestAttempt(id, 'agent')!;
      const line = readTranscriptTail(attempt.session_dir, 64 * 1024).split('\n').find((l) => l.startsWith('BIG_PROMPT '))!;
      const seen = JSON.parse(line.slice('BIG_PROMPT '.length).trim()) as { bytes: number; viaFile: boolean; hasEnd: boolean };
      expect(seen.bytes, agent).toBeGreaterThan(2_000_000);
      expect(seen.hasEnd).toBe(true);
      expect(seen.viaFile).toBe(agent !== 'file');
      // Stored once (the task's prompt), not again in every attempt's row.
      expect(attempt.prompt!.length).toBeLessThan(20_000);
    }
    registry.close();
  });
});

function swarmStdin(cwd: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}
