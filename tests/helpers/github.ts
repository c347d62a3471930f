import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fakeGitHub, type FakeCheckRun, type FakeGitHub, type FakePull } from '../../scripts/fake-github.js';
import { git, SAMPLE_CI, tempDir, type Sandbox } from './sample.js';

export { fakeGitHub, type FakeGitHub };

export const TOKEN = 'ghp_test_token';

/** A bare "GitHub" remote for the sandbox repo, and a loopback API in front of it. */
export async function githubFor(box: Sandbox): Promise<{ gh: FakeGitHub; bare: string }> {
  const bare = join(box.dir, 'remote.git');
  git(box.dir, ['clone', '-q', '--bare', box.repo, bare]);
  git(box.repo, ['remote', 'add', 'origin', bare]);
  const gh = await fakeGitHub({ bare, token: TOKEN });
  return { gh, bare };
}

/** Stand-in for GitHub Actions: runs the sample's real test command on each pushed head and records the log. */
export function actionsRunner(gh: FakeGitHub, bare: string, after?: (check: FakeCheckRun, pull: FakePull) => void): void {
  gh.onNewHead((sha, pull) => {
    const check = gh.addCheck(sha, 'test');
    const top = tempDir('actions');
    const dir = join(mkdtempSync(join(top, 'run-')), 'w');
    git(bare, ['worktree', 'add', '-q', '--detach', dir, sha]);
    execFile(SAMPLE_CI[0]!, SAMPLE_CI.slice(1), { cwd: dir }, (err, stdout, stderr) => {
      const stamp = '2026-11-22T10:00:00.0000000Z ';
      const log = `${stamp}##[group]Run npm test\n${`${stdout}${stderr}`.split('\n').map((l) => stamp + l).join('\n')}\n${stamp}##[error]Process completed with exit code ${err ? 1 : 0}.`;
      gh.finishCheck(check, err ? 'failure' : 'success', log);
      gh.touch(pull);
      after?.(check, pull);
      // The run's checkout goes once its log is recorded (the test's temp folders are its own to remove).
      rmSync(top, { recursive: true, force: true });
      execFile('git', ['worktree', 'prune'], { cwd: bare }, () => undefined);
    });
  });
}
