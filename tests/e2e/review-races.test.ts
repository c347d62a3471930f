import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../registry/types.js';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { waitFor } from '../../src/wait.js';
import { agentCommand, git, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

interface ReviewRecord {
  name: string;
  cwd: string;
  head: string;
  ci_line: string;
  writes: string[];
}

const reviewer = (box: Sandbox, name: string, mode: string, sandboxed = false) => ({
  command: agentCommand('reviewer.mjs'),
  env: { AGENT_RECORD_DIR: box.records, REVIEWER_NAME: name, REVIEWER_MODE: mode },
  ...(sandboxed ? { sandbox: 'bwrap' as const } : {}),
});

function events(box: Sandbox, id: number, kind?: string): EventRow[] {
  const registry = openRegistry(box);
  try {
    return registry.events(id).filter((e) => kind === undefined || e.kind === kind);
  } finally {
    registry.close();
  }
}

const data = (e: EventRow): Record<string, unknown> => JSON.parse(e.data ?? '{}') as Record<string, unknown>;

/** What each reviewer run said about itself (its first line), read from the reviewers' transcripts. */
function reviewRecords(box: Sandbox, id: number): ReviewRecord[] {
  const registry = openRegistry(box);
  try {
    return registry
      .attempts(id)
      .filter((a) => a.kind === 'review')
      .flatMap((a) => {
        const line = /REVIEW-RECORD (\{[^\r\n]*\})/.exec(readTranscriptTail(a.session_dir, 64 * 1024))?.[1];
        return line ? [JSON.parse(line) as ReviewRecord] : [];
      });
  } finally {
    registry.close();
  }
}

async function waitForEvents(box: Sandbox, id: number, kind: string, count: number, where: (d: Record<string, unknown>) => boolean = () => true): Promise<EventRow[]> {
  return waitFor(
    () => {
      const found = events(box, id, kind).filter((e) => where(data(e)));
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100, what: `${count} ${kind} event(s) on task ${id}` },
  );
}

function humanCommit(worktree: string, body: string, message: string): string {
  writeFileSync(join(worktree, 'src', 'add.ts'), `export function addNumbers(a: number, b: number): number {\n  return ${body};\n}\n`);
  git(worktree, ['-c', 'user.name=Human', '-c', 'user.email=human@example.com', 'commit', '-qam', message]);
  return git(worktree, ['rev-parse', 'HEAD']).trim();
}

describe('the review gate under races: a round is one head', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('review-race');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('the branch moves while one reviewer is slow: the round is cancelled and its reviewer stopped, CI runs on the new head, ready only when both answered about it; ready again after a later move', async () => {
    writeConfig(box, {
      sandbox: 'none',
      agents: { dev: { command: agentCommand('fixer-right.mjs') }, quick: reviewer(box, 'quick', 'approve'), slow: reviewer(box, 'slow', 'slow') },
      default_agent: 'dev',
      review: { reviewers: [{ name: 'quick', agent: 'quick', focus: 'logic' }, { name: 'slow', agent: 'slow', focus: 'security' }] },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: 'http://127.0.0.1:9/hook' }, max_attempts: 1 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    // Both reviewers on the first head; the quick one answers, the slow one waits to be released.
    const [firstRound] = await waitForEvents(box, id, 'review_requested', 1);
    const h1 = String(data(firstRound!).head);
    await waitFor(() => (reviewRecords(box, id).filter((r) => r.head === h1).length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'both reviewers running on the first head' });
    const task = (await waitForState(box, id, 'reviewing')).worktree;

    // A human commits on the task's branch while the slow reviewer is still at work.
    const h2 = humanCommit(task, 'b + a', 'Human: swap the operands');
    expect((await swarm(box.repo, ['merge', String(id)])).code).toBe(5); // not ready, whoever saw the move first

    const [cancelled] = await waitForEvents(box, id, 'review_cancelled', 1);
    expect(data(cancelled!)).toMatchObject({ from: h1, to: h2, by: 'outside' });
    expect(String(data(cancelled!).moved_by)).toContain('by Human <human@example.com>: "Human: swap the operands"');
    const stopped = await waitForEvents(box, id, 'reviewer_stopped', 1);
    expect(stopped.map((e) => data(e).reviewer)).toEqual(['slow']);
    const registry = openRegistry(box);
    const slowFirst = registry.attempts(id).find((a) => a.kind === 'review' && a.agent === 'slow' && a.head_sha === h1)!;
    registry.close();
    expect(slowFirst.outcome).toBe('stopped');
    expect(isSameProcessAlive(slowFirst.child_pid, slowFirst.child_start)).toBe(false);

    // The second round starts only after CI passed on the new head, and its prompts say so about that head.
    const [secondRound] = await waitForEvents(box, id, 'review_requested', 1, (d) => d.head === h2);
    expect(data(secondRound!).ci_head).toBe(h2);
    const ciPassed = events(box, id).findIndex((e) => e.kind === 'ci_started' && e.id > cancelled!.id);
    expect(ciPassed).toBeGreaterThan(-1);
    expect(events(box, id).findIndex((e) => e.id === secondRound!.id)).toBeGreaterThan(ciPassed);
    await waitFor(() => (reviewRecords(box, id).filter((r) => r.head === h2).length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'both reviewers on the new head' });
    const onH2 = reviewRecords(box, id).filter((r) => r.head === h2);
    for (const r of onH2) expect(r.ci_line).toContain('passed on this head');
    // Two reviewers never share a checkout, and neither is the task's.
    expect(new Set(onH2.map((r) => r.cwd)).size).toBe(2);
    expect(onH2.map((r) => r.cwd)).not.toContain(task);

    // Still reviewing until the slow one has answered about h2: released only now.
    expect((await waitForState(box, id, ['reviewing', 'ready'])).state).toBe('reviewing');
    writeFileSync(join(box.records, `release-slow-${h2}`), '');
    const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
    expect(ready.state, ready.reason ?? '').toBe('ready');
    expect(ready.verified_sha).toBe(h2);
    const readyEvents = events(box, id, 'ready');
    expect(readyEvents).toHaveLength(1);
    // Ready came after the slow reviewer's answer about h2, never before it.
    const reg0 = openRegistry(box);
    const slowOnH2 = reg0.attempts(id).find((a) => a.kind === 'review' && a.agent === 'slow' && a.head_sha === h2)!;
    reg0.close();
    expect(slowOnH2.outcome).toBe('approve');
    expect(readyEvents[0]!.at).toBeGreaterThanOrEqual(slowOnH2.ended_at!);
    expect(data(readyEvents[0]!)).toMatchObject({ verified: h2, round: data(secondRound!).round, reviews: { approvals: 2, of: 2 } });

    // A later move: back through CI and a new round, then one more notification that says "ready again".
    const h3 = humanCommit(task, 'a + b', 'Human: back to a + b');
    expect((await swarm(box.repo, ['merge', String(id)])).code).toBe(5);
    await waitForEvents(box, id, 'review_requested', 1, (d) => d.head === h3);
    await waitFor(() => (reviewRecords(box, id).some((r) => r.head === h3 && r.name === 'slow') ? true : undefined), { timeoutMs: 60_000, what: 'the slow reviewer on the third head' });
    writeFileSync(join(box.records, `release-slow-${h3}`), '');
    await waitForEvents(box, id, 'ready', 2);
    const again = await waitForState(box, id, 'ready');
    expect(again.verified_sha).toBe(h3);
    const reg = openRegistry(box);
    const notes = reg.notifications().filter((n) => n.task_id === id && n.event === 'ready');
    reg.close();
    expect(notes.map((n) => n.title)).toEqual([expect.stringMatching(/^Task \d+ ready: .*2\/2 reviewers approve$/), expect.stringMatching(/^Task \d+ ready again: .*2\/2 reviewers approve$/)]);
    expect(notes[1]!.body).toContain(`the branch moved from ${h2.slice(0, 10)} to ${h3.slice(0, 10)}`);

    // show --json: every review with reviewer, head, round and verdict, the stopped one included.
    const shown = JSON.parse((await swarm(box.repo, ['show', '--json', String(id)])).stdout) as { reviews: { reviewer: string; head: string; verdict: string; round: number; tokens: number }[] };
    expect(shown.reviews.filter((r) => r.head === h1).map((r) => [r.reviewer, r.verdict]).sort()).toEqual([['quick', 'approve'], ['slow', 'stopped']]);
    expect(shown.reviews.filter((r) => r.head === h3).map((r) => r.verdict)).toEqual(['approve', 'approve']);
    expect((await swarm(box.repo, ['merge', String(id)])).code).toBe(0);
    expect(git(box.repo, ['log', '-1', '--format=%P', 'main']).trim().split(' ')).toContain(h3);
  });

  it.each([false, true])('reviewers that commit, move the task branch, push it, or write into their checkout fail their review; the branch stays where the agent left it; nothing reaches main (sandboxed: %s)', async (sandboxed) => {
    writeConfig(box, {
      sandbox: 'none',
      agents: {
        dev: { command: agentCommand('fixer-right.mjs') },
        mover: reviewer(box, 'mover', 'commit', sandboxed),
        scribbler: reviewer(box, 'scribbler', 'write', sandboxed),
        honest: reviewer(box, 'honest', 'approve', sandboxed),
      },
      default_agent: 'dev',
      review: { reviewers: [{ name: 'mover', agent: 'mover', focus: 'logic' }, { name: 'scribbler', agent: 'scribbler', focus: 'security' }, { name: 'honest', agent: 'honest', focus: 'architecture' }] },
      ci: { command: SAMPLE_CI },
    });
    const mainBefore = git(box.repo, ['rev-parse', 'main']).trim();
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const [round] = await waitForEvents(box, id, 'review_requested', 1);
    const agentHead = String(data(round!).head);
    const task = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
    const records = reviewRecords(box, id);
    expect(new Set(records.map((r) => r.cwd)).size).toBe(3);

    if (!sandboxed) {
      // Everything the reviewers tried worked in their own clones, and none of it counts.
      expect(records.find((r) => r.name === 'mover')!.writes).toEqual(['commit: ok', 'update-ref: ok', 'push: ok', 'move the task branch: ok', 'tidy: ok']);
      // swarm saw the branch move, named the reviewer that moved it and put it back.
      const [restored] = events(box, id, 'branch_restored');
      expect(data(restored!)).toMatchObject({ reviewer: 'mover', to: agentHead, restored: true });
      expect(task.state).toBe('needs_help');
      expect(task.reason).toContain('reviewer mover changed what it reviewed');
      expect(task.reason).toContain('reviewer scribbler changed what it reviewed');
      expect(task.reason).toContain('NOTES.md');
    } else {
      // Read-only: every write failed, so nothing changed and the reviews stand as answered.
      expect(records.find((r) => r.name === 'mover')!.writes.every((w) => w.includes('failed'))).toBe(true);
      expect(records.find((r) => r.name === 'scribbler')!.writes).toEqual([expect.stringContaining('write: failed')]);
      expect(task.state, task.reason ?? '').toBe('ready');
    }
    // The branch is the agent's commit, in the repository and in the task's checkout; main never moved.
    expect(git(box.repo, ['rev-parse', task.branch]).trim()).toBe(agentHead);
    expect(git(box.repo, ['rev-parse', 'main']).trim()).toBe(mainBefore);
    expect(git(box.repo, ['log', '--all', '--format=%s'])).not.toContain('Reviewer: reviewer rewrites the work');
    expect(git(task.worktree, ['status', '--porcelain'])).toBe('');
    if (sandboxed) expect(events(box, id, 'branch_restored')).toEqual([]);
    // The review checkouts are gone once the round ended.
    for (const r of records) expect(existsSync(r.cwd)).toBe(false);
  });

  it('a hung reviewer with the default retries times out once: one try, the reason names it and its wait, no "after 0 retries"', async () => {
    writeConfig(box, {
      sandbox: 'none',
      agents: { dev: { command: agentCommand('fixer-right.mjs') }, quick: reviewer(box, 'quick', 'approve'), stuck: reviewer(box, 'stuck', 'hang') },
      default_agent: 'dev',
      review: { reviewers: [{ name: 'quick', agent: 'quick', focus: 'logic' }, { name: 'stuck', agent: 'stuck', focus: 'security' }], timeout_minutes: 0.05 },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: 'http://127.0.0.1:9/hook' }, max_attempts: 1 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
    expect(task.state).toBe('needs_help');
    expect(task.reason).toContain('reviewer stuck timed out (stopped after review.timeout_minutes (0.05 min) without an answer)');
    expect(task.reason).toContain(`swarm logs ${id} --review stuck`);
    const registry = openRegistry(box);
    const tries = registry.attempts(id).filter((a) => a.kind === 'review' && a.agent === 'stuck');
    const notes = registry.notifications().filter((n) => n.task_id === id && n.event === 'needs_help');
    registry.close();
    expect(tries).toHaveLength(1);
    expect(tries[0]!.outcome).toBe('timed_out');
    expect(isSameProcessAlive(tries[0]!.child_pid, tries[0]!.child_start)).toBe(false);
    expect(notes[0]!.title).toMatch(/^Task \d+ needs help: The AI review could not be completed/);
    const shown = JSON.parse((await swarm(box.repo, ['show', '--json', String(id)])).stdout) as { reviews: { reviewer: string; verdict: string; summary: string | null }[] };
    expect(shown.reviews.map((r) => [r.reviewer, r.verdict])).toEqual([['quick', 'approve'], ['stuck', 'timed_out']]);
    // The quick reviewer's verdict came after a log line holding JSON and a sentence: read as the verdict.
    expect(shown.reviews[0]!.summary).toBe('quick: does what the task asks');
  });
});
