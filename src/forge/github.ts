/**
 * GitHub as the forge: push and open (or adopt) a PR, then observe cheaply. Each monitor pass makes one
 * conditional request for the PR list and one per commit awaiting checks (a 304 costs no rate limit), then one
 * batched GraphQL query for only the PRs that changed. An API failure is never read as red CI or a closed PR.
 */
import type { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import * as z from 'zod';
import type { CiFacts } from '../../monitor/decide.js';
import { reviewVerdict, type ReviewVerdict } from './reviews.js';
import { extractFailure } from '../../monitor/evidence.js';
import type { Registry } from '../../registry/registry.js';
import type { PrRow, TaskRow } from '../../registry/types.js';
import type { SwarmConfig } from '../config/schema.js';
import { errorMessage, NotReadyError } from '../errors.js';
import { mergeConflicts, revParse, runGit } from '../workspace/git.js';
import { SWARM_REVIEW_MARK, type ReviewPayload } from '../review/post.js';
import type { Forge, ForgeObservation } from './forge.js';
import { createOctokit, GitHubError, githubToken, httpStatus, parseRemote, webUrl, type ForgeHealth, type WireCounter } from './github-client.js';
import { checksVerdict, CreatedPull, GraphResponse, Job, PullListItem, PULLS_QUERY, Repo, Review, ReviewComment, User, WorkflowRun, type PullNode, type RollupContext } from './github-wire.js';

/** Every this many passes, PRs awaiting CI are re-read even if nothing signalled a change (third-party checks). */
const FULL_REFRESH_PASSES = 10;
/** Pages of 100 workflow runs read at most per pass. */
const MAX_RUN_PAGES = 5;

export interface GitHubForgeDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  octokit: Octokit;
  owner: string;
  repo: string;
  log: Logger;
  /** Requests that went over the wire (retries included), for `daemon status`. */
  wire?: WireCounter;
}

export class GitHubForge implements Forge {
  readonly name = 'github';
  private health: ForgeHealth = { ok: true, why: null, rate: null, graphql_remaining: null, requests: 0, points: 0 };
  private login: string | null = null;
  private pass: Promise<void> | null = null;
  private passError: string | null = null;
  private listEtag: string | null = null;
  private readonly seen = new Map<number, string>(); // PR number -> updated_at
  private readonly runsEtags = new Map<number, string>(); // page -> etag
  private readonly runPages = new Map<number, z.infer<typeof WorkflowRun>[]>();
  private readonly runs = new Map<number, string>(); // workflow run id -> status fingerprint
  private passes = 0;
  private readonly nodes = new Map<string, PullNode>(); // node id -> last GraphQL answer
  private readonly stale = new Set<string>(); // node ids to ask GraphQL about this pass
  private readonly baseHeads = new Map<string, string>();
  private readonly baseEtags = new Map<string, string>();
  private readonly evidence = new Map<string, Extract<CiFacts, { kind: 'failed' }>>();
  private readonly reviewNotes = new Map<string, ReviewVerdict>();

  constructor(private readonly deps: GitHubForgeDeps) {
    const { octokit } = deps;
    if (!deps.wire) {
      octokit.hook.before('request', () => {
        this.health.requests++;
      });
    }
    octokit.hook.after('request', (response) => this.readRate(response.headers, response.status));
    octokit.hook.error('request', (error) => {
      const headers = typeof error === 'object' && error !== null && 'response' in error ? (error as { response?: { headers?: Record<string, unknown> } }).response?.headers : undefined;
      if (headers) this.readRate(headers, httpStatus(error) ?? 0);
      throw error;
    });
  }

  private readRate(headers: Record<string, unknown>, code: number): void {
    if (code !== 304 && code !== 0) this.health.points += String(headers['x-ratelimit-resource'] ?? 'core') === 'graphql' ? 0 : 1;
    const remaining = Number(headers['x-ratelimit-remaining']);
    const limit = Number(headers['x-ratelimit-limit']);
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(remaining) && Number.isFinite(limit) && String(headers['x-ratelimit-resource'] ?? 'core') !== 'graphql') {
      this.health.rate = { remaining, limit, reset_at: Number.isFinite(reset) ? reset * 1000 : 0 };
    }
  }

  status(): ForgeHealth {
    return { ...this.health, ...(this.deps.wire ? { requests: this.deps.wire.requests } : {}), ok: this.passError === null && this.health.ok, why: this.passError ?? this.health.why };
  }

  /** At daemon start: is the token there, valid, and allowed to push and open PRs here? */
  async verify(): Promise<void> {
    const { octokit, owner, repo } = this.deps;
    try {
      // GitHub App installation tokens (ghs_…) get 403 on /user: who we are is then unknown, not an error.
      // What matters is asked of the repository itself below.
      const me = await octokit.request('GET /user').catch((err: unknown) => {
        if (httpStatus(err) === 403) return null;
        throw err;
      });
      if (me) {
        this.login = User.parse(me.data).login;
        // Classic tokens list their scopes; fine-grained ones do not (their permissions show on the repository).
        const scopes = me.headers['x-oauth-scopes'];
        if (typeof scopes === 'string' && scopes.trim() !== '' && !scopes.split(',').map((x) => x.trim()).some((x) => x === 'repo' || x === 'public_repo')) {
          throw new GitHubError('SWARM_GITHUB_SCOPE', `The GitHub token of ${this.login} lacks the "repo" scope (it has: ${scopes}). Create a token with "repo", or run \`gh auth refresh -s repo\`.`);
        }
      }
      const info = Repo.parse((await octokit.request('GET /repos/{owner}/{repo}', { owner, repo })).data);
      if (info.permissions && info.permissions.push === false) {
        throw new GitHubError('SWARM_GITHUB_SCOPE', `The GitHub token${this.login ? ` of ${this.login}` : ''} cannot push to ${owner}/${repo}. Give it the "repo" scope (classic) or Contents and Pull requests write (fine-grained).`);
      }
      this.health.why = null;
    } catch (err) {
      if (err instanceof GitHubError) throw err;
      const code = httpStatus(err);
      const why =
        code === 401
          ? 'The GitHub token is invalid or expired. Create a new one (or `gh auth login`) and set GITHUB_TOKEN.'
          : code === 404 || code === 403
            ? `The GitHub token cannot see ${owner}/${repo} (HTTP ${code}). Check the remote URL and the token's repository access.`
            : `GitHub could not be reached: ${errorMessage(err)}`;
      throw new GitHubError(code === 401 ? 'SWARM_GITHUB_TOKEN_INVALID' : 'SWARM_GITHUB_UNREACHABLE', why);
    }
  }

  beginPass(): void {
    this.pass = null;
  }

  private refresh(): Promise<void> {
    this.pass ??= this.doRefresh().then(
      () => {
        this.passError = null;
      },
      (err: unknown) => {
        const code = httpStatus(err);
        this.passError = code === 403 || code === 429 ? `GitHub rate limit: waiting (${errorMessage(err)})` : `GitHub API error: ${errorMessage(err)}; waiting, nothing is read as failed`;
        this.deps.log.warn({ error: this.passError }, 'GitHub pass failed');
      },
    );
    return this.pass;
  }

  private tracked(): { pr: PrRow; task: TaskRow }[] {
    const out: { pr: PrRow; task: TaskRow }[] = [];
    for (const pr of this.deps.registry.openPrs('github')) {
      const task = this.deps.registry.getTask(pr.task_id);
      if (task && pr.node_id && !['done', 'cancelled'].includes(task.state)) out.push({ pr, task });
    }
    return out;
  }

  private async doRefresh(): Promise<void> {
    const { octokit, owner, repo } = this.deps;
    const tracked = this.tracked();
    if (tracked.length === 0) return;
    // 1. What changed on PRs (state, head, reviews): one conditional request.
    try {
      const response = await octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo, state: 'all', sort: 'updated', direction: 'desc', per_page: 100, headers: this.listEtag ? { 'if-none-match': this.listEtag } : {} });
      this.listEtag = response.headers.etag ?? null;
      for (const item of z.array(PullListItem).parse(response.data)) {
        if (this.seen.get(item.number) !== item.updated_at) {
          this.seen.set(item.number, item.updated_at);
          this.stale.add(item.node_id);
        }
      }
    } catch (err) {
      if (httpStatus(err) !== 304) throw err;
    }
    // 1b. Did a base branch move? A push to base changes no PR's updated_at, and GitHub recomputes mergeability
    //     only when asked: one conditional request per base (a 304 is free), then the waiting and ready PRs on
    //     it are read again. A PR whose mergeability GitHub is still computing (UNKNOWN) is read again each pass.
    const watching = tracked.filter(({ task }) => task.state === 'ready' || task.state === 'ci_running' || task.state === 'pr_open');
    for (const base of new Set(watching.map(({ task }) => task.base))) {
      const etag = this.baseEtags.get(base);
      try {
        const response = await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner, repo, ref: `heads/${base}`, headers: etag ? { 'if-none-match': etag } : {} });
        if (response.headers.etag) this.baseEtags.set(base, response.headers.etag);
        const sha = z.object({ object: z.object({ sha: z.string() }) }).parse(response.data).object.sha;
        const before = this.baseHeads.get(base);
        this.baseHeads.set(base, sha);
        if (before !== undefined && before !== sha) for (const { pr, task } of watching) if (task.base === base) this.stale.add(pr.node_id!);
      } catch (err) {
        // 304: unchanged. 404: the base is gone (the PRs will say so); nothing to learn from it here.
        if (httpStatus(err) !== 304 && httpStatus(err) !== 404) throw err;
      }
    }
    for (const { pr } of watching) if (this.nodes.get(pr.node_id!)?.mergeable === 'UNKNOWN') this.stale.add(pr.node_id!);
    // 2. Did any check change? One conditional request for the Actions runs list (its entries carry head_sha);
    //    every few passes, PRs awaiting CI are asked about anyway, for checks that are not Actions.
    this.passes++;
    const awaiting = tracked.filter(({ pr, task }) => task.state === 'ci_running' && pr.node_id && pr.head_sha);
    if (awaiting.length > 0) {
      // Runs are listed newest first; page on (each page conditional) until every awaited head has been seen.
      const changedHeads = new Set<string>();
      const unseen = new Set(awaiting.map(({ pr }) => pr.head_sha!));
      for (let page = 1; page <= MAX_RUN_PAGES && unseen.size > 0; page++) {
        let runs: z.infer<typeof WorkflowRun>[];
        const etag = this.runsEtags.get(page);
        try {
          const response = await octokit.request('GET /repos/{owner}/{repo}/actions/runs', { owner, repo, per_page: 100, page, headers: etag ? { 'if-none-match': etag } : {} });
          if (response.headers.etag) this.runsEtags.set(page, response.headers.etag);
          runs = z.object({ workflow_runs: z.array(WorkflowRun) }).parse(response.data).workflow_runs;
          this.runPages.set(page, runs);
        } catch (err) {
          if (httpStatus(err) !== 304) throw err;
          runs = this.runPages.get(page) ?? [];
        }
        for (const run of runs) {
          unseen.delete(run.head_sha);
          const fingerprint = `${run.status ?? ''}:${run.conclusion ?? ''}:${run.updated_at}`;
          if (this.runs.get(run.id) !== fingerprint) {
            this.runs.set(run.id, fingerprint);
            changedHeads.add(run.head_sha);
          }
        }
        if (runs.length < 100) break;
      }
      for (const { pr } of awaiting) if (pr.head_sha && changedHeads.has(pr.head_sha)) this.stale.add(pr.node_id!);
      if (this.passes % FULL_REFRESH_PASSES === 0) for (const { pr } of awaiting) this.stale.add(pr.node_id!);
    }
    // 3. One GraphQL query (per 100) for what changed.
    const ids = [...this.stale];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const raw: unknown = await octokit.graphql(PULLS_QUERY, { ids: chunk });
      const data = GraphResponse.parse(raw);
      if (data.rateLimit) {
        this.health.points += data.rateLimit.cost;
        this.health.graphql_remaining = data.rateLimit.remaining;
      }
      for (const node of data.nodes) if (node) this.nodes.set(node.id, node);
      for (const id of chunk) this.stale.delete(id);
    }
  }

  async openPr(task: TaskRow): Promise<PrRow> {
    const { octokit, owner, repo, config, registry } = this.deps;
    const head = await revParse(this.deps.repoRoot, task.branch);
    const push = await runGit(this.deps.repoRoot, ['push', '--force-with-lease', config.github.remote, `refs/heads/${task.branch}:refs/heads/${task.branch}`]);
    if (push.code !== 0) throw new Error(`git push of ${task.branch} to ${config.github.remote} failed: ${push.stderr.trim()}`);
    const existing = registry.getPr(task.id);
    if (existing?.node_id && existing.number !== null) {
      this.invalidate(existing.node_id);
      return registry.openPr({ task_id: task.id, forge: 'github', branch: task.branch, base: task.base, head_sha: head });
    }
    // The agent may have opened one itself: adopt it.
    const found = z.array(CreatedPull).parse((await octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo, head: `${owner}:${task.branch}`, state: 'open', per_page: 10 })).data);
    const pull =
      found[0] ??
      CreatedPull.parse(
        (
          await octokit.request('POST /repos/{owner}/{repo}/pulls', {
            owner,
            repo,
            head: task.branch,
            base: task.base,
            title: task.title,
            body: `${task.prompt}\n\n---\nOpened by worktree-swarm for task ${task.id} (branch \`${task.branch}\`).`,
            draft: config.github.draft,
          })
        ).data,
      );
    if (found[0]) registry.recordEvent(task.id, 'pr_adopted', { number: pull.number });
    this.invalidate(pull.node_id);
    return registry.openPr({ task_id: task.id, forge: 'github', branch: task.branch, base: task.base, head_sha: head, number: pull.number, url: pull.html_url, node_id: pull.node_id });
  }

  private invalidate(nodeId: string): void {
    this.nodes.delete(nodeId);
    this.stale.add(nodeId);
  }

  async startCi(): Promise<void> {
    // GitHub runs the checks; nothing to start.
  }

  async killCi(): Promise<void> {
    // Not ours to kill.
  }

  private async failureEvidence(node: PullNode, failed: z.infer<typeof RollupContext>): Promise<Extract<CiFacts, { kind: 'failed' }>> {
    const key = `${node.headRefOid}:${failed.__typename === 'CheckRun' ? String(failed.databaseId) : failed.context}`;
    const cached = this.evidence.get(key);
    if (cached) return cached;
    const { octokit, owner, repo } = this.deps;
    let result: Extract<CiFacts, { kind: 'failed' }>;
    if (failed.__typename === 'CheckRun' && failed.databaseId !== null) {
      // An Actions check run's id is its job id: the failing step's name, then the job log (behind a redirect).
      let step: string | undefined;
      try {
        const job = Job.parse((await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner, repo, job_id: failed.databaseId })).data);
        step = job.steps?.find((s) => s.conclusion === 'failure')?.name;
      } catch {
        // not an Actions job (a third-party check): the name is all we have
      }
      let log = '';
      try {
        const response = await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', { owner, repo, job_id: failed.databaseId });
        log = typeof response.data === 'string' ? response.data : String(response.data);
      } catch (err) {
        log = `(the job log could not be fetched: ${errorMessage(err)}; see ${failed.detailsUrl ?? 'the check on GitHub'})`;
      }
      const failure = extractFailure(log.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /gm, ''));
      result = { kind: 'failed', exit_code: null, step: `${failed.name}${step ? ` / ${step}` : ''}`, failure };
    } else {
      const description = failed.__typename === 'StatusContext' ? `${failed.context}: ${failed.description ?? failed.state}${failed.targetUrl ? ` (${failed.targetUrl})` : ''}` : failed.name;
      result = { kind: 'failed', exit_code: null, step: failed.__typename === 'StatusContext' ? failed.context : failed.name, failure: { runner: null, failed: 0, tests: [], problems: [description], log_tail: description } };
    }
    this.evidence.set(key, result);
    return result;
  }

  private readonly reruns = new Set<string>();

  /** A check that did not finish is re-run once through the API (Actions jobs); if it does not finish again, say so. */
  private async rerunOnce(node: PullNode, context: RollupContext, conclusion: string): Promise<CiFacts> {
    const name = context.__typename === 'CheckRun' ? context.name : context.context;
    const key = `${node.headRefOid}:${name}`;
    if (context.__typename !== 'CheckRun' || context.databaseId === null) return { kind: 'unfinished', why: `check "${name}" was ${conclusion}` };
    if (this.reruns.has(key)) return { kind: 'unfinished', why: `check "${name}" was ${conclusion} again after a re-run` };
    this.reruns.add(key);
    const { octokit, owner, repo } = this.deps;
    try {
      await octokit.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { owner, repo, job_id: context.databaseId });
      this.deps.log.info({ pr: node.number, check: name, conclusion }, 'check did not finish: re-run once');
      this.stale.add(node.id);
      return { kind: 'pending' };
    } catch (err) {
      return { kind: 'unfinished', why: `check "${name}" was ${conclusion}, and re-running it was refused (${errorMessage(err)})` };
    }
  }

  /** An AI reviewer's review as a PR review, named after it, inline where GitHub takes comments. */
  async postReview(task: TaskRow, payload: ReviewPayload): Promise<void> {
    const pr = this.deps.registry.getPr(task.id);
    if (!pr?.number) throw new Error(`task ${task.id} has no pull request to review`);
    const { octokit, owner, repo } = this.deps;
    await octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner, repo, pull_number: pr.number, ...payload });
  }

  async attachScreenshots(task: TaskRow, files: readonly { path: string; committed: boolean }[], head: string): Promise<void> {
    const pr = this.deps.registry.getPr(task.id);
    if (!pr?.number) throw new Error(`task ${task.id} has no pull request`);
    const { octokit, owner, repo, config } = this.deps;
    const web = webUrl(config.github.api_url);
    const lines = files.map((f) => (f.committed ? `![${f.path}](${web}/${owner}/${repo}/blob/${head}/${f.path.split('/').map(encodeURIComponent).join('/')}?raw=true)` : `- \`${f.path}\` (taken on the machine, not committed: \`swarm show ${task.id}\`)`));
    const body = [`**Screenshots** of the UI this change touches (at ${head.slice(0, 10)}):`, '', ...lines, '', SWARM_REVIEW_MARK].join('\n');
    await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: pr.number, body });
  }

  /** The reviews' verdict, read again only when the PR changed (a review updates its updated_at) or its head did. */
  private async reviews(pr: PrRow, node: PullNode): Promise<ReviewVerdict> {
    const number = pr.number ?? node.number;
    const key = `${node.id}:${node.headRefOid}:${this.seen.get(number) ?? ''}:${node.reviewDecision ?? ''}`;
    const cached = this.reviewNotes.get(key);
    if (cached) return cached;
    const { octokit, owner, repo } = this.deps;
    const reviews = z.array(Review).parse((await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner, repo, pull_number: number, per_page: 100 })).data);
    const facts = {
      reviews: reviews.map((r, i) => ({ id: r.id ?? i, user: r.user?.login ?? null, state: r.state, commit_id: r.commit_id ?? null, submitted_at: r.submitted_at ?? null, body: r.body })),
      comments: [],
      head: node.headRefOid,
      self: this.login,
      decision: node.reviewDecision,
    };
    let verdict = reviewVerdict(facts);
    // The inline comments are evidence only for a fresh request for changes: asked for then, not on every green PR.
    if (verdict.decision === 'changes_requested') {
      const comments = z.array(ReviewComment).parse((await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/comments', { owner, repo, pull_number: number, per_page: 100 })).data);
      verdict = reviewVerdict({ ...facts, comments: comments.map((c) => ({ user: c.user?.login ?? null, path: c.path, line: c.line ?? null, body: c.body })) });
    }
    this.reviewNotes.set(key, verdict);
    return verdict;
  }

  async observe(task: TaskRow, wants: { ci: boolean; conflicts: boolean }): Promise<ForgeObservation> {
    await this.refresh();
    const pr = this.deps.registry.getPr(task.id);
    const wait = (why: string): ForgeObservation => ({ pr: null, ci: { kind: 'unknown', why }, conflicts: null });
    if (this.passError) return wait(this.passError);
    if (!pr?.node_id) return wait('no pull request recorded yet');
    const node = this.nodes.get(pr.node_id);
    if (!node) return wait('pull request not read yet');
    if (node.merged || node.state === 'MERGED') return { pr: { state: 'merged' }, ci: { kind: 'none' }, conflicts: null };
    if (node.state === 'CLOSED') return { pr: { state: 'closed' }, ci: { kind: 'none' }, conflicts: null };
    // GitHub has not seen our latest push yet: whatever it says is about an older commit.
    if (pr.head_sha && node.headRefOid !== pr.head_sha) return { pr: { state: 'open' }, ci: { kind: 'pending' }, conflicts: null };
    let ci: CiFacts = { kind: 'none' };
    if (wants.ci) {
      const rollup = node.commits.nodes[0]?.commit.statusCheckRollup;
      const verdict = checksVerdict(rollup?.contexts.nodes ?? []);
      try {
        if (verdict.kind === 'failed') ci = await this.failureEvidence(node, verdict.context);
        else if (verdict.kind === 'unfinished') ci = await this.rerunOnce(node, verdict.context, verdict.conclusion);
        else ci = { kind: verdict.kind };
      } catch (err) {
        ci = { kind: 'unknown', why: `could not read the failed check: ${errorMessage(err)}` };
      }
    }
    let conflicts: string[] | null = null;
    if (wants.conflicts && (!wants.ci || ci.kind === 'passed')) {
      // mergeable UNKNOWN means GitHub is still computing: ask again later, never a conflict.
      if (node.mergeable === 'MERGEABLE') conflicts = [];
      else if (node.mergeable === 'CONFLICTING') {
        const local = await mergeConflicts(this.deps.repoRoot, task.base, task.branch).catch(() => []);
        conflicts = local.length ? local : [`(GitHub reports that ${task.branch} conflicts with ${task.base})`];
      }
    }
    // Reviews are read from the reviews themselves once CI is green (or for a ready PR): reviewDecision is null
    // without branch protection, and stays CHANGES_REQUESTED after the agent answered.
    let review: ForgeObservation['review'];
    if (!wants.ci || ci.kind === 'passed') {
      try {
        const verdict = await this.reviews(pr, node);
        review = verdict.decision === 'changes_requested' ? { decision: verdict.decision, comments: verdict.comments } : verdict.decision === 'addressed' ? { decision: 'addressed', comments: [], reviewers: verdict.reviewers } : { decision: verdict.decision, comments: [] };
      } catch (err) {
        return wait(`could not read the reviews: ${errorMessage(err)}`);
      }
    }
    return { pr: { state: 'open' }, ci, conflicts, review };
  }

  async closePr(task: TaskRow, comment: string): Promise<void> {
    const pr = this.deps.registry.getPr(task.id);
    if (!pr?.number || pr.state !== 'open') return;
    const { octokit, owner, repo } = this.deps;
    try {
      await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: pr.number, body: comment });
      await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: pr.number, state: 'closed' });
    } catch (err) {
      throw new GitHubError('SWARM_GITHUB_CLOSE_FAILED', `GitHub refused to close PR #${pr.number}: ${errorMessage(err)}`);
    }
    this.deps.registry.updatePr(task.id, { state: 'closed', closed_at: Date.now() });
  }

  async merge(task: TaskRow): Promise<{ commit: string }> {
    const pr = this.deps.registry.getPr(task.id);
    if (!pr?.number) throw new GitHubError('SWARM_GITHUB_NO_PR', `Task ${task.id} has no pull request on GitHub.`);
    const { octokit, owner, repo } = this.deps;
    try {
      const response = await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', { owner, repo, pull_number: pr.number, sha: task.verified_sha ?? pr.head_sha ?? undefined, merge_method: 'merge' });
      const sha = z.object({ sha: z.string() }).parse(response.data).sha;
      await runGit(this.deps.repoRoot, ['fetch', '--quiet', this.deps.config.github.remote, task.base]).catch(() => undefined);
      return { commit: sha };
    } catch (err) {
      // 409: the PR's head is no longer the verified commit (someone pushed): not ready, like a moved local branch.
      if (httpStatus(err) === 409) throw new NotReadyError(`PR #${pr.number}'s head moved after it was verified (${(task.verified_sha ?? '').slice(0, 10)}): it is not ready. The monitor runs CI on the new head; merge when it is ready again.`);
      throw new GitHubError('SWARM_GITHUB_MERGE_FAILED', `GitHub refused to merge PR #${pr.number}: ${errorMessage(err)}`);
    }
  }
}

/** Owner and repo from the configured remote, a token, a client, and a check that it all works. */
export async function connectGitHub(input: { repoRoot: string; config: SwarmConfig; registry: Registry; log: Logger; env?: NodeJS.ProcessEnv }): Promise<GitHubForge> {
  let parsed: { owner: string; repo: string } | null = null;
  if (input.config.github.repo) {
    const [owner, repo] = input.config.github.repo.split('/');
    parsed = owner && repo ? { owner, repo } : null;
  } else {
    const remoteUrl = (await runGit(input.repoRoot, ['remote', 'get-url', input.config.github.remote])).stdout.trim();
    if (!remoteUrl) throw new GitHubError('SWARM_GITHUB_NO_REMOTE', `forge is "github" but the repository has no remote "${input.config.github.remote}". Add one (git remote add origin https://github.com/OWNER/REPO.git) or set github.remote.`);
    parsed = parseRemote(remoteUrl);
    if (!parsed) throw new GitHubError('SWARM_GITHUB_REMOTE', `The remote "${input.config.github.remote}" (${remoteUrl}) does not name a GitHub owner/repo. Set github.repo to "OWNER/REPO".`);
  }
  if (!parsed) throw new GitHubError('SWARM_GITHUB_REMOTE', 'github.repo must be "OWNER/REPO".');
  const token = await githubToken(input.config, input.env);
  const wire: WireCounter = { requests: 0 };
  const octokit = createOctokit({ token, baseUrl: input.config.github.api_url, retries: input.config.github.retries, log: input.log, wire });
  const forge = new GitHubForge({ repoRoot: input.repoRoot, config: input.config, registry: input.registry, octokit, owner: parsed.owner, repo: parsed.repo, log: input.log, wire });
  await forge.verify();
  return forge;
}
