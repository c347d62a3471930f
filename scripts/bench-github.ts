/**
 * GitHub polling cost per monitor pass with 200 open PRs waiting for CI, against the loopback GitHub:
 * HTTP requests and rate-limit points when nothing changed (goal: 0 points) and when 10 changed (goal: <= 3).
 * Run: npm run build && node dist/scripts/bench-github.js
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Monitor } from '../monitor/monitor.js';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo } from '../src/cli/sample-repo.js';
import { parseConfig } from '../src/config/load.js';
import { GitHubForge } from '../src/forge/github.js';
import { createOctokit } from '../src/forge/github-client.js';
import { silentLogger } from '../src/log.js';
import { fakeGitHub } from './fake-github.js';

const N = 200;
const work = mkdtempSync(join(tmpdir(), 'swarm-bench-gh-'));
try {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const bare = join(work, 'remote.git');
  execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
  const head = execFileSync('git', ['rev-parse', 'main'], { cwd: repo, encoding: 'utf8' }).trim();
  // 200 branches on the remote, each its own commit so each PR has its own head.
  const registry = new Registry(join(work, 'swarm.db'));
  const gh = await fakeGitHub({ bare });
  const config = parseConfig('bench', { forge: 'github', github: { repo: 'octo/sample', api_url: gh.url, retries: 0 }, agents: { a: { command: ['true'] } } });
  for (let i = 1; i <= N; i++) {
    const tree = execFileSync('git', ['rev-parse', `${head}^{tree}`], { cwd: bare, encoding: 'utf8' }).trim();
    const sha = execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit-tree', tree, '-p', head, '-m', `pr ${i}`], { cwd: bare, encoding: 'utf8' }).trim();
    execFileSync('git', ['update-ref', `refs/heads/swarm/${i}`, sha], { cwd: bare });
    const task = registry.createTask({ title: `t${i}`, prompt: 'p', agent: 'a', base: 'main', branch: `swarm/${i}`, worktree: join(work, 'wt', String(i)), max_retries: 3 });
    registry.transition(task.id, 'queued', 'ci_running', { event: 'ci_started', patch: { attempt: 1 } });
    gh.pulls.set(i, { number: i, node_id: `PR_kwDO${i}`, title: `t${i}`, body: '', head_ref: `swarm/${i}`, base_ref: 'main', state: 'open', merged: false, merge_sha: null, updated_at: new Date(Date.parse('2026-11-22T09:00:00Z') + i * 1000).toISOString(), head_sha: sha, mergeable: 'MERGEABLE', reviewDecision: null, reviews: [], comments: [], issueComments: [] });
    registry.openPr({ task_id: task.id, forge: 'github', branch: `swarm/${i}`, base: 'main', head_sha: sha, number: i, url: null, node_id: `PR_kwDO${i}` });
    gh.addCheck(sha, 'test');
  }
  const octokit = createOctokit({ token: 'ghp_test_token', baseUrl: gh.url, retries: 0, log: silentLogger() });
  const forge = new GitHubForge({ repoRoot: repo, config, registry, octokit, owner: 'octo', repo: 'sample', log: silentLogger() });
  const monitor = new Monitor({ repoRoot: repo, config, registry, forge, channels: [], log: silentLogger(), agentTimeoutMinutes: () => 60 });

  const measure = async (label: string): Promise<void> => {
    gh.resetCounters();
    const t0 = performance.now();
    await monitor.tick();
    const ms = performance.now() - t0;
    console.log(`${label.padEnd(44)} ${String(gh.counters.requests).padStart(4)} requests (${gh.counters.notModified} were 304), ${gh.counters.points} rate-limit points (incl. ${gh.counters.graphql} GraphQL), ${ms.toFixed(0)} ms`);
  };
  console.log(`GitHub polling with ${N} open PRs waiting for CI (loopback GitHub)\n`);
  await measure('first pass (cold: learns all 200)');
  await measure('nothing changed');
  await measure('nothing changed, again');
  const pulls = [...gh.pulls.values()].slice(0, 10);
  for (const pull of pulls) {
    const check = gh.checks.find((c) => c.head_sha === pull.head_sha)!;
    gh.finishCheck(check, 'success', 'ok');
  }
  await measure('10 PRs changed (their checks finished)');
  await measure('nothing changed');
  console.log(`\ntasks now ready: ${registry.listTasks(['ready']).length} (expected 10)`);
  registry.close();
  await gh.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
