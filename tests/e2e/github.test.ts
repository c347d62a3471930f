import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { actionsRunner, fakeGitHub, githubFor, TOKEN, type FakeGitHub } from '../helpers/github.js';
import { fakeOllama } from '../helpers/ollama.js';
import { agentCommand, git, openRegistry, readRecords, receiver, runDaemon, sandbox, swarm, waitForPasses, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

describe('GitHub forge against a loopback GitHub', () => {
  let box: Sandbox;
  let gh: FakeGitHub;
  let bare: string;
  let hook: Receiver;
  let daemon: DaemonProcess | null = null;
  const env = { GITHUB_TOKEN: TOKEN, PATH: process.env.PATH ?? '' };

  beforeEach(async () => {
    box = sandbox('github');
    ({ gh, bare } = await githubFor(box));
    hook = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await gh.close();
    await hook.close();
    box.cleanup();
  });

  function configure(agent: string, extra: Parameters<typeof writeConfig>[1] = {}): void {
    writeConfig(box, {
      forge: 'github',
      github: { repo: 'octo/sample', api_url: gh.url, retries: 0 },
      agents: { a: { command: agentCommand(agent), env: { AGENT_RECORD_DIR: box.records } } },
      notify: { desktop: false, webhook: { url: hook.url } },
      ...extra,
    });
  }

  it('addNumbers through a PR: red CI with a job log, respawn with the assertion, green, approval, one ready, merged, done', async () => {
    configure('fixer.mjs');
    actionsRunner(gh, bare, (check, pull) => {
      // A human approves once CI is green.
      if (check.conclusion === 'success') {
        pull.reviewDecision = 'APPROVED';
        pull.reviews.push({ id: 1, user: { login: 'alice', type: 'User' }, body: 'LGTM', state: 'APPROVED', submitted_at: '2026-11-22T11:00:00Z' });
      } else pull.reviewDecision = 'REVIEW_REQUIRED';
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers: it subtracts'], env)).stdout) as { id: number };
    const ready = await waitForState(box, id, ['ready', 'needs_help']);
    expect(ready.state).toBe('ready');
    expect(ready.retries).toBe(1);
    expect(readRecords(box, 'fixer.jsonl').map((r) => r.sawAssertion)).toEqual([false, true]);

    const registry = openRegistry(box);
    const second = registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 2)!;
    expect(second.prompt).toContain('CI failed in step "test / Run npm test"');
    expect(second.prompt).toContain('6 !== 5');
    expect(gh.counters.blobs).toBeGreaterThan(0); // the job log was read behind its redirect
    expect(gh.pulls.size).toBe(1); // the respawn pushed to the same PR
    expect(registry.getPr(id)).toMatchObject({ number: 1, forge: 'github', url: 'https://github.com/octo/sample/pull/1' });

    await waitFor(() => (hook.received.length >= 1 ? true : undefined), { timeoutMs: 10_000, what: 'ready notification' });
    expect(hook.received.map((r) => r.body.title)).toEqual([`Task ${id} ready: PR #1, CI green`]);

    const merged = await swarm(box.repo, ['merge', String(id)], env);
    expect(merged.stderr).toBe('');
    expect(gh.pulls.get(1)!.merged).toBe(true);
    expect(git(bare, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(registry.getTask(id)!.state).toBe('done');
    expect(existsSync(ready.worktree)).toBe(false);
    await waitForPasses(box, 2);
    expect(hook.received).toHaveLength(1);
    registry.close();
  });

  it('a review requesting changes respawns the agent with the comments (not its own), then ready', async () => {
    configure('reviewed.mjs');
    gh.onNewHead((sha, pull) => {
      const check = gh.addCheck(sha, 'test');
      gh.finishCheck(check, 'success', 'all good');
      if (pull.reviews.length === 0) {
        pull.reviewDecision = 'CHANGES_REQUESTED';
        pull.reviews.push({ id: 7, user: { login: 'alice', type: 'User' }, body: 'Please handle negatives too.', state: 'CHANGES_REQUESTED', submitted_at: '2026-11-22T11:00:00Z', commit_id: sha });
        pull.comments.push({ id: 8, path: 'src/add.ts', line: 2, original_line: 2, body: 'This should be a + b.', user: { login: 'review-bot[bot]', type: 'Bot' } });
        pull.comments.push({ id: 9, path: 'src/add.ts', line: 1, original_line: 1, body: 'note to self', user: { login: gh.login, type: 'User' } });
      } else {
        pull.reviewDecision = 'APPROVED';
        pull.reviews.push({ id: 10, user: { login: 'alice', type: 'User' }, body: 'Thanks.', state: 'APPROVED', submitted_at: '2026-11-22T12:00:00Z', commit_id: sha });
      }
      gh.touch(pull);
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help']);
    expect(task.state).toBe('ready');
    expect(task.retries).toBe(1);
    const registry = openRegistry(box);
    const prompt = registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 2)!.prompt!;
    expect(prompt).toContain('A reviewer requested changes.');
    expect(prompt).toContain('alice: Please handle negatives too.');
    expect(prompt).toContain('src/add.ts:2 (review-bot[bot]): This should be a + b.');
    expect(prompt).not.toContain('note to self');

    // Merged on GitHub by a human: done, worktree and branch cleaned up, no further notification.
    const pull = gh.pulls.get(1)!;
    Object.assign(pull, { state: 'closed', merged: true });
    gh.touch(pull);
    const done = await waitForState(box, id, 'done');
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'cleaned_up') ? true : undefined), { timeoutMs: 10_000, what: 'cleanup after the merge' });
    expect(existsSync(done.worktree)).toBe(false);
    expect(git(box.repo, ['branch', '--list', done.branch]).trim()).toBe('');
    registry.close();
  });

  it('a PR closed without merging cancels the task; a token without the repo scope is refused at start', async () => {
    configure('fixer-right.mjs');
    gh.onNewHead((sha) => void gh.addCheck(sha, 'test'));
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    await waitForState(box, id, 'ci_running');
    const pull = gh.pulls.get(1)!;
    pull.state = 'closed';
    gh.touch(pull);
    const cancelled = await waitForState(box, id, 'cancelled');
    expect(cancelled.reason).toBe('the pull request was closed without merging');
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;
    const narrow = await fakeGitHub({ bare, token: TOKEN, scopes: 'read:org, gist' });
    writeConfig(box, { forge: 'github', github: { repo: 'octo/sample', api_url: narrow.url, retries: 0 }, agents: { a: { command: agentCommand('fixer.mjs') } } });
    const refused = await swarm(box.repo, ['daemon', 'run'], env);
    await narrow.close();
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('lacks the "repo" scope (it has: read:org, gist)');
  });

  it('an outage, a secondary rate limit and mergeable=null mid-run: the task waits, status says why, no false respawn', async () => {
    configure('fixer-right.mjs');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    gh.onNewHead((sha, pull) => {
      const check = gh.addCheck(sha, 'test');
      pull.mergeable = 'UNKNOWN';
      void gate.then(() => {
        gh.finishCheck(check, 'success', 'ok');
        gh.touch(pull);
      });
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    await waitForState(box, id, 'ci_running');
    gh.fault({ match: /./, status: 502, body: { message: 'Server Error' }, times: 1_000 });
    await waitFor(
      async () => {
        const status = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { forge_health?: { ok: boolean; why: string | null } };
        return status.forge_health && !status.forge_health.ok ? status.forge_health.why : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'status to show the outage' },
    ).then((why) => expect(why).toContain('GitHub API error'));
    const text = await swarm(box.repo, ['daemon', 'status']);
    expect(text.stdout).toContain('GitHub: waiting: GitHub API error');
    await waitForPasses(box, 2);
    // Outage over; one secondary rate limit on the way back; CI finishes while mergeable is still computing.
    gh.clearFaults();
    gh.fault({ match: /^POST \/graphql/, status: 403, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, times: 1 });
    release();
    await waitForPasses(box, 3);
    const registry = openRegistry(box);
    expect(registry.getTask(id)!.state).toBe('ci_running'); // mergeable UNKNOWN: not ready, not a conflict
    gh.pulls.get(1)!.mergeable = 'MERGEABLE';
    gh.touch(gh.pulls.get(1)!);
    const task = await waitForState(box, id, 'ready');
    expect(task.retries).toBe(0);
    expect(registry.events(id).some((e) => e.kind === 'respawn')).toBe(false);
    registry.close();
  });

  it('an installation token (403 on /user) is accepted; a failed start prints its own error, not an earlier one', async () => {
    const app = await fakeGitHub({ bare, token: 'ghs_installation', installation: true });
    try {
      writeConfig(box, { forge: 'github', github: { repo: 'octo/sample', api_url: app.url, retries: 0 }, agents: { a: { command: agentCommand('fixer.mjs') } } });
      const started = await swarm(box.repo, ['daemon', 'start'], { GITHUB_TOKEN: 'ghs_installation' });
      expect(started.code, started.stderr).toBe(0);
      const status = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { forge: string; running: boolean };
      expect(status).toMatchObject({ forge: 'github', running: true });
      expect((await swarm(box.repo, ['daemon', 'stop'])).code).toBe(0);
      // An earlier start's error is in the log; this start fails for its own reason, and says only that.
      const failed = await swarm(box.repo, ['daemon', 'start'], { GITHUB_TOKEN: 'ghs_expired' });
      expect(failed.code).toBe(6);
      expect(failed.stderr).toContain('invalid or expired');
      const again = await swarm(box.repo, ['daemon', 'start'], { GITHUB_TOKEN: '', PATH: '/usr/bin:/bin' });
      expect(again.stderr).toContain('No GitHub token');
      expect(again.stderr).not.toContain('invalid or expired');
    } finally {
      await swarm(box.repo, ['daemon', 'stop']);
      await app.close();
    }
  });

  it('a cancelled check is re-run once through the API, never evidence; cancelled again, the task needs a human, no agent respawned', async () => {
    configure('fixer-right.mjs');
    let cancelOnRerun = false;
    gh.onNewHead((sha) => {
      const check = gh.addCheck(sha, 'test');
      gh.finishCheck(check, 'cancelled', '2026-11-22T10:00:00.0000000Z ##[error]The operation was canceled.');
    });
    gh.onRerun((check) => {
      gh.finishCheck(check, cancelOnRerun ? 'cancelled' : 'success', 'ok');
    });
    daemon = await runDaemon(box, env);
    const first = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    const ready = await waitForState(box, first.id, ['ready', 'needs_help']);
    expect(ready.state).toBe('ready');
    expect(ready.retries).toBe(0);
    expect(gh.reruns).toHaveLength(1);
    const registry = openRegistry(box);
    expect(registry.events(first.id).some((e) => e.kind === 'respawn')).toBe(false);

    cancelOnRerun = true;
    const second = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers again'], env)).stdout) as { id: number };
    const stuck = await waitForState(box, second.id, ['ready', 'needs_help']);
    expect(stuck.state).toBe('needs_help');
    expect(stuck.retries).toBe(0);
    expect(stuck.reason).toContain('CI did not finish: check "test" was cancelled again after a re-run');
    expect(registry.attempts(second.id).filter((a) => a.kind === 'agent')).toHaveLength(1);
    expect(gh.reruns).toHaveLength(2);
    registry.close();
  });

  it('a ready PR whose base moved into a conflict is noticed (no updated_at change, mergeability computed lazily), and goes back to an agent', async () => {
    const live = await fakeGitHub({ bare, token: TOKEN, liveMergeable: true });
    try {
      writeConfig(box, { forge: 'github', github: { repo: 'octo/sample', api_url: live.url, retries: 0 }, agents: { a: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, notify: { desktop: false }, max_retries: 1 });
      live.onNewHead((sha) => live.finishCheck(live.addCheck(sha, 'test'), 'success', 'ok'));
      daemon = await runDaemon(box, env);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
      const ready = await waitForState(box, id, ['ready', 'needs_help']);
      expect(ready.state).toBe('ready');
      const updatedAt = live.pulls.get(1)!.updated_at;
      // Someone pushes to main a change to the same line: GitHub leaves the PR's updated_at alone.
      const other = join(box.dir, 'other');
      git(box.dir, ['clone', '-q', bare, other]);
      writeFileSync(join(other, 'src', 'add.ts'), 'export function addNumbers(a: number, b: number): number {\n  return b + a; // main\n}\n');
      git(other, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-qam', 'main changes addNumbers']);
      git(other, ['push', '-q', 'origin', 'HEAD:main']);
      const registry = openRegistry(box);
      await waitFor(() => (registry.events(id).some((e) => e.kind === 'respawn') ? true : undefined), { timeoutMs: 30_000, what: 'the conflict to be noticed' });
      const respawn = registry.events(id).find((e) => e.kind === 'respawn')!;
      expect(respawn.from_state).toBe('ready');
      expect(JSON.parse(respawn.data!)).toMatchObject({ reason: 'conflict' });
      expect(live.pulls.get(1)!.updated_at).toBe(updatedAt);
      registry.close();
    } finally {
      daemon?.child.kill('SIGKILL');
      daemon = null;
      await live.close();
    }
  });

  it('without branch protection (reviewDecision null): changes requested are acted on; once answered they wait for a re-review, never respawn again', async () => {
    configure('reviewed.mjs');
    gh.onNewHead((sha) => gh.finishCheck(gh.addCheck(sha, 'test'), 'success', 'ok'));
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    await waitForState(box, id, 'ready');
    const pull = gh.pulls.get(1)!;
    const firstHead = pull.head_sha;
    // A human requests changes with an inline comment; GitHub leaves reviewDecision null here.
    pull.reviews.push({ id: 21, user: { login: 'carol', type: 'User' }, body: 'Negative numbers are not handled.', state: 'CHANGES_REQUESTED', submitted_at: '2026-11-22T11:00:00Z', commit_id: firstHead });
    pull.comments.push({ id: 22, path: 'src/add.ts', line: 2, original_line: 2, body: 'Handle a < 0.', user: { login: 'carol', type: 'User' } });
    gh.touch(pull);
    const registry = openRegistry(box);
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'respawn') ? true : undefined), { timeoutMs: 30_000, what: 'the changes request to be acted on' });
    expect(pull.reviewDecision).toBeNull();
    // The agent answers with a new head; carol's review still says CHANGES_REQUESTED (on the old head).
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'awaiting_rereview') ? true : undefined), { timeoutMs: 30_000, what: 'the answered review to be recognised' });
    await waitForPasses(box, 3);
    const waiting = registry.getTask(id)!;
    expect(waiting.state).toBe('ci_running');
    expect(waiting.reason).toContain('changes requested by carol on an earlier commit were answered; waiting for a re-review');
    expect(registry.events(id).filter((e) => e.kind === 'respawn')).toHaveLength(1);
    expect((await swarm(box.repo, ['show', String(id)], env)).stdout).toContain('waiting for a re-review');
    // Carol approves the new head: ready.
    pull.reviews.push({ id: 23, user: { login: 'carol', type: 'User' }, body: 'Good.', state: 'APPROVED', submitted_at: '2026-11-22T12:00:00Z', commit_id: pull.head_sha });
    gh.touch(pull);
    const ready = await waitForState(box, id, 'ready');
    expect(ready.retries).toBe(1);
    const second = registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 2)!.prompt!;
    expect(second).toContain('carol: Negative numbers are not handled.');
    expect(second).toContain('src/add.ts:2 (carol): Handle a < 0.');
    registry.close();
  });

  it('a missing or invalid token is a clear error at daemon start', async () => {
    configure('fixer.mjs');
    const missing = await swarm(box.repo, ['daemon', 'run'], { GITHUB_TOKEN: '', PATH: '/usr/bin:/bin' });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('No GitHub token: set GITHUB_TOKEN, or log in with `gh auth login`');
    const invalid = await swarm(box.repo, ['daemon', 'run'], { GITHUB_TOKEN: 'ghp_wrong' });
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('The GitHub token is invalid or expired');
    expect(readFileSync(join(box.repo, 'swarm.config.json'), 'utf8')).toContain('github');
  });
  it('AI reviews are posted as PR reviews named after each reviewer, inline where the diff allows; a human\'s changes-requested still wins', async () => {
    const logic = await fakeOllama([{ name: 'qwen:7b', capabilities: ['completion', 'tools'] }]);
    const security = await fakeOllama([{ name: 'llama:8b', capabilities: ['completion', 'tools'] }]);
    try {
      logic.script([{ text: JSON.stringify({ verdict: 'approve', summary: 'Correct.', findings: [{ severity: 'minor', file: 'src/add.ts', line: 2, title: 'Name the operands', body: 'a and b say little.' }, { severity: 'nit', file: 'README.md', line: 1, title: 'Mention the fix', body: '' }] }) }]);
      security.script([{ text: JSON.stringify({ verdict: 'approve', summary: 'Nothing unsafe.', findings: [] }) }]);
      configure('reviewed.mjs', {
        agents: {
          a: { command: agentCommand('reviewed.mjs'), env: { AGENT_RECORD_DIR: box.records } },
          qwen: { type: 'builtin', model: 'qwen:7b', host: logic.url },
          llama: { type: 'builtin', model: 'llama:8b', host: security.url },
        },
        default_agent: 'a',
        review: { reviewers: [{ name: 'logic', agent: 'qwen', focus: 'logic' }, { name: 'security', agent: 'llama', focus: 'security' }] },
      });
      actionsRunner(gh, bare);
      daemon = await runDaemon(box, env);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers: it subtracts'], env)).stdout) as { id: number };
      const ready = await waitForState(box, id, ['ready', 'needs_help']);
      expect(ready.state, ready.reason ?? '').toBe('ready');
      const pull = gh.pulls.get(1)!;
      const bots = pull.reviews.filter((r) => r.body.includes('swarm reviewer'));
      expect(bots.map((r) => r.body.split('\n')[0])).toEqual(expect.arrayContaining(['**swarm reviewer `logic`** (qwen:7b): approves', '**swarm reviewer `security`** (llama:8b): approves']));
      expect(bots.every((r) => r.state === 'COMMENTED' && r.commit_id === pull.head_sha)).toBe(true);
      // Inside the diff: an inline comment at the path and line; outside it (README.md:1): in the review's body.
      expect(pull.comments).toEqual([expect.objectContaining({ path: 'src/add.ts', line: 2, body: expect.stringContaining('**minor** Name the operands (swarm reviewer `logic`)') })]);
      expect(bots.find((r) => r.body.includes('`logic`'))!.body).toContain('- `README.md:1` **nit** Mention the fix');

      // A human asks for changes on the same head: that wins over both bot approvals.
      pull.reviews.push({ id: 77, user: { login: 'alice', type: 'User' }, body: 'Please handle negatives too.', state: 'CHANGES_REQUESTED', submitted_at: new Date().toISOString(), commit_id: pull.head_sha });
      gh.touch(pull);
      const registry = openRegistry(box);
      await waitFor(() => (registry.events(id).some((e) => e.kind === 'respawn' && e.data?.includes('changes_requested')) ? true : undefined), { timeoutMs: 60_000, what: "the human's review to send the task back" });
      const evidence = registry.events(id).find((e) => e.kind === 'respawn')!.data ?? '';
      registry.close();
      expect(evidence).toContain('A reviewer requested changes.');
      await waitFor(() => (readRecords(box, 'reviewed.jsonl').length >= 2 ? true : undefined), { timeoutMs: 60_000, what: 'the second attempt' });
    } finally {
      await logic.close();
      await security.close();
    }
  });
  it('screenshots of a UI change are shown on the PR: committed ones as images at the verified head', async () => {
    configure('ui-agent.mjs', { dod: { screenshots: { paths: ['src/**/*.ts'] } } });
    actionsRunner(gh, bare);
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers on the page'], env)).stdout) as { id: number };
    const ready = await waitForState(box, id, ['ready', 'needs_help']);
    expect(ready.state, ready.reason ?? '').toBe('ready');
    const pull = gh.pulls.get(1)!;
    expect(pull.issueComments).toHaveLength(1);
    expect(pull.issueComments[0]!.body).toContain(`![screenshots/add-page.png](${gh.url}/octo/sample/blob/${ready.verified_sha}/screenshots/add-page.png?raw=true)`);
  });
});

