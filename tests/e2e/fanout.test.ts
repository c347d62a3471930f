import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { actionsRunner, githubFor, TOKEN, type FakeGitHub } from '../helpers/github.js';
import { agentCommand, git, openRegistry, readRecords, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

/** Fan-out: one task, several candidates through the whole loop, one notification with the choice explained. */
describe('fan-out', () => {
  let box: Sandbox;
  let hook: Receiver;
  let daemon: DaemonProcess | null = null;
  beforeEach(async () => {
    box = sandbox('fanout');
    hook = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await hook.close();
    box.cleanup();
  });

  const agents = (gate?: string) => {
    const env = (style: string) => ({ AGENT_RECORD_DIR: box.records, FANOUT_STYLE: style, ...(gate ? { FANOUT_GATE: gate } : {}) });
    return {
      careful: { command: agentCommand('fanout-agent.mjs'), env: env('careful') },
      huge: { command: agentCommand('fanout-agent.mjs'), env: env('huge') },
      crash: { command: agentCommand('fanout-agent.mjs'), env: env('crash') },
      fixer: { command: agentCommand('fixer.mjs'), env: { AGENT_RECORD_DIR: box.records } },
    };
  };
  const spawnFanout = async (args: string[]): Promise<{ id: number; candidates: { id: number; agent: string; branch: string; worktree: string }[] }> => {
    const result = await swarm(box.repo, ['spawn', '--json', ...args, 'Fix addNumbers']);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as { id: number; candidates: { id: number; agent: string; branch: string; worktree: string }[] };
  };

  it('candidates of different quality: the careful one is chosen and said why, in one notification; a crash fails no one else; the human picks another and merges it; the others are closed and cleaned up', async () => {
    writeConfig(box, { agents: agents(), default_agent: 'careful', ci: { command: SAMPLE_CI }, max_retries: 1, notify: { desktop: false, webhook: { url: hook.url } } });
    daemon = await runDaemon(box);
    const { id, candidates } = await spawnFanout(['--agents', 'huge,fixer,careful,crash']);
    expect(candidates.map((c) => c.agent)).toEqual(['huge', 'fixer', 'careful', 'crash']);
    const [huge, fixer, careful, crash] = candidates as [(typeof candidates)[0], (typeof candidates)[0], (typeof candidates)[0], (typeof candidates)[0]];
    const decided = await waitForState(box, id, 'ready', 90_000);
    expect(decided.chosen).toBe(careful.id);
    const registry = openRegistry(box);
    expect(registry.getTask(crash.id)!.state).toBe('needs_help');
    expect(registry.getTask(fixer.id)!.retries).toBe(1); // wrong first, right after its evidence

    // One notification: the fan-out's, with the winner, why, and a line for each other. None for a candidate.
    await waitFor(() => (hook.received.length ? true : undefined), { timeoutMs: 20_000, what: 'the notification' });
    const posted = hook.received.map((r) => r.body as { task_id: number; title: string; body: string });
    expect(posted).toHaveLength(1);
    expect(posted[0]!.task_id).toBe(id);
    expect(posted[0]!.title).toBe(`Task ${id} ready: #${careful.id} (careful) chosen of 4 candidates`);
    expect(posted[0]!.body).toContain('Why: won on tests: 1 test file added or changed against no test changed');
    expect(posted[0]!.body).toContain(`#${crash.id} crash: not green (needs help`);
    expect(posted[0]!.body).toMatch(new RegExp(`#${huge.id} huge: .*\\+\\d{3}/-\\d+ in 9 files`));
    expect(candidates.flatMap((c) => registry.notifications(c.id))).toEqual([]);

    const shown = await swarm(box.repo, ['show', String(id)]);
    expect(shown.stdout).toContain('Candidates (4):');
    expect(shown.stdout).toMatch(new RegExp(`\\* #${careful.id} careful \\[ready\\]: no open findings`));
    expect(shown.stdout).toContain(`#${fixer.id} fixer [ready]:`);

    // The human prefers the fixer's one-line change: picked, then merged; the others go.
    const picked = await swarm(box.repo, ['pick', String(id), String(fixer.id)]);
    expect(picked.stdout).toContain(`Fan-out ${id} will merge candidate #${fixer.id}`);
    expect((await swarm(box.repo, ['pick', String(id), String(crash.id)])).stderr).toContain(`Candidate ${crash.id} is needs_help, not ready`);
    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.stderr).toBe('');
    expect(registry.getTask(id)!.state).toBe('done');
    expect(registry.getTask(fixer.id)!.state).toBe('done');
    expect(git(box.repo, ['log', '--format=%s', '-1', 'main'])).toContain(`task ${fixer.id}`);
    expect(git(box.repo, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(() => git(box.repo, ['show', 'main:test/add-more.test.ts'])).toThrow();
    for (const loser of [huge, careful, crash]) {
      expect(registry.getTask(loser.id)!.state).toBe('cancelled');
      expect(existsSync(loser.worktree)).toBe(false);
      expect(git(box.repo, ['branch', '--list', loser.branch]).trim()).toBe('');
    }
    expect(JSON.parse(registry.events(id).find((e) => e.kind === 'picked')!.data!)).toMatchObject({ chosen: fixer.id, was: careful.id, by: 'cli' });
    expect(registry.events(fixer.id).some((e) => e.kind === 'fanout_won')).toBe(true);

    const stats = await swarm(box.repo, ['stats']);
    expect(stats.stdout).toMatch(/Fan-outs:[\s\S]*fixer\s+-\s+1 of 1/);
    registry.close();
  });

  it('none green: one needs-help notification with each candidate\'s reason; retry tries them again and the fan-out waits for them', async () => {
    writeConfig(box, { agents: agents(), default_agent: 'crash', ci: { command: SAMPLE_CI }, max_retries: 0, notify: { desktop: false, webhook: { url: hook.url } } });
    daemon = await runDaemon(box);
    const { id, candidates } = await spawnFanout(['--fanout', '2']);
    await waitForState(box, id, 'needs_help', 60_000);
    await waitFor(() => (hook.received.length ? true : undefined), { timeoutMs: 20_000, what: 'the notification' });
    const first = hook.received.map((r) => r.body as { task_id: number; title: string; body: string });
    expect(first).toHaveLength(1);
    expect(first[0]!.title).toBe(`Task ${id} needs help: none of its 2 candidates went green`);
    for (const c of candidates) expect(first[0]!.body).toMatch(new RegExp(`#${c.id} crash: not green \\(needs help: .*crashing on purpose`));
    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.stderr).toContain(`Fan-out ${id} is needs_help, not ready`);

    const retried = await swarm(box.repo, ['retry', String(id)]);
    expect(retried.code).toBe(0);
    const registry = openRegistry(box);
    expect(JSON.parse(registry.events(id).filter((e) => e.kind === 'retry').at(-1)!.data!)).toMatchObject({ candidates: candidates.map((c) => c.id) });
    await waitFor(() => (readRecords(box, 'fanout.jsonl').length >= 4 ? true : undefined), { timeoutMs: 30_000, what: 'both candidates run again' });
    await waitFor(() => (hook.received.length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'the second notification' });
    expect(registry.getTask(id)!.state).toBe('needs_help');
    expect(hook.received).toHaveLength(2);
    registry.close();
  });

  it('a fan-out of 3 under concurrency 2 runs two at a time; killing it cancels every candidate', async () => {
    const gate = join(box.dir, 'go');
    writeConfig(box, { agents: agents(gate), default_agent: 'careful', concurrency: 2, ci: { command: SAMPLE_CI }, max_retries: 0, notify: { desktop: false } });
    daemon = await runDaemon(box);
    const { id, candidates } = await spawnFanout(['--fanout', '3']);
    expect(candidates.map((c) => c.agent)).toEqual(['careful', 'careful', 'careful']);
    await waitFor(() => (readRecords(box, 'fanout.jsonl').length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'two candidates started' });
    const registry = openRegistry(box);
    // The cap holds while the first two wait at their gate: the third is still queued.
    await waitFor(() => (registry.getTask(candidates[2]!.id)!.state === 'queued' && registry.listTasks().filter((t) => ['preparing', 'running'].includes(t.state)).length === 2 ? true : undefined), { timeoutMs: 10_000, what: 'two running, one queued' });
    expect(readRecords(box, 'fanout.jsonl')).toHaveLength(2);
    writeFileSync(gate, '');
    await waitForState(box, id, 'ready', 90_000);
    expect(readRecords(box, 'fanout.jsonl')).toHaveLength(3);

    const killed = await swarm(box.repo, ['kill', String(id)]);
    expect(killed.code).toBe(0);
    expect([id, ...candidates.map((c) => c.id)].map((t) => registry.getTask(t)!.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    registry.close();
  });

  it('on GitHub, the losers\' pull requests are closed with a comment naming the winner', async () => {
    let gh: FakeGitHub | null = null;
    try {
      const remote = await githubFor(box);
      gh = remote.gh;
      actionsRunner(gh, remote.bare);
      writeConfig(box, { forge: 'github', github: { repo: 'octo/sample', api_url: gh.url, retries: 0 }, agents: agents(), default_agent: 'careful', max_retries: 0, notify: { desktop: false } });
      daemon = await runDaemon(box, { GITHUB_TOKEN: TOKEN });
      const { id, candidates } = await spawnFanout(['--agents', 'careful,huge']);
      const ready = await waitForState(box, id, 'ready', 90_000);
      expect(ready.chosen).toBe(candidates[0]!.id);
      const merged = await swarm(box.repo, ['merge', String(id)], { GITHUB_TOKEN: TOKEN });
      expect(merged.stderr).toBe('');
      const registry = openRegistry(box);
      const winnerPr = registry.getPr(candidates[0]!.id)!.number!;
      const loserPr = registry.getPr(candidates[1]!.id)!.number!;
      expect(gh.pulls.get(winnerPr)!.merged).toBe(true);
      const loser = gh.pulls.get(loserPr)!;
      expect(loser).toMatchObject({ state: 'closed', merged: false });
      expect(loser.issueComments.at(-1)!.body).toBe(`Closed by worktree-swarm: fan-out #${id} ("Fix addNumbers") chose #${candidates[0]!.id} (careful) instead; it was merged.`);
      expect(registry.getPr(candidates[1]!.id)!.state).toBe('closed');
      registry.close();
    } finally {
      await gh?.close();
    }
  });
});
