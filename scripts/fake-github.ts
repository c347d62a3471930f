/**
 * A loopback GitHub: the REST endpoints and the GraphQL query the github forge uses, with bodies shaped after
 * GitHub's OpenAPI description (the fields a client reads, with their real names and types), ETags and 304s,
 * rate-limit headers, secondary rate limits, `mergeable` still computing, and job logs behind a redirect.
 * Branch heads come from a real bare repository that the product pushes to.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listenLoopback } from './loopback.js';

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | 'timed_out' | null;
  log: string;
  steps: { name: string; conclusion: 'success' | 'failure' | 'skipped' | null }[];
  updated_at: string;
}

export interface FakePull {
  number: number;
  node_id: string;
  title: string;
  body: string;
  head_ref: string;
  base_ref: string;
  state: 'open' | 'closed';
  merged: boolean;
  merge_sha: string | null;
  updated_at: string;
  head_sha: string;
  mergeable: 'MERGEABLE' | 'CONFLICTING' | 'UNKNOWN';
  /** With `liveMergeable`: the base and head the answer is about, and the answer GitHub is still computing. */
  mergeKey?: string;
  pendingMergeable?: 'MERGEABLE' | 'CONFLICTING' | null;
  reviewDecision: 'APPROVED' | 'CHANGES_REQUESTED' | 'REVIEW_REQUIRED' | null;
  reviews: { id: number; user: { login: string; type: string }; body: string; state: string; submitted_at: string; commit_id?: string }[];
  comments: { id: number; path: string; line: number | null; original_line: number | null; body: string; user: { login: string; type: string } }[];
  /** Conversation comments (POST .../issues/{n}/comments). */
  issueComments: { id: number; body: string; user: { login: string; type: string } }[];
}

export interface Fault {
  /** Matched against "METHOD /path". */
  match: RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  times: number;
}

export interface FakeGitHub {
  url: string;
  owner: string;
  repo: string;
  login: string;
  pulls: Map<number, FakePull>;
  checks: FakeCheckRun[];
  /** Counted like GitHub does: a 304 costs nothing; a GraphQL query costs 1. */
  counters: { requests: number; points: number; notModified: number; graphql: number; blobs: number; byRoute: Record<string, number> };
  resetCounters: () => void;
  fault: (fault: Fault) => void;
  clearFaults: () => void;
  /** Called once for every new head commit of a PR: the stand-in for GitHub Actions. */
  onNewHead: (handler: (sha: string, pull: FakePull) => void) => void;
  addCheck: (sha: string, name: string) => FakeCheckRun;
  finishCheck: (check: FakeCheckRun, conclusion: 'success' | 'failure' | 'cancelled' | 'timed_out', log: string, failedStep?: string) => void;
  /** Job re-runs asked through the API (POST .../actions/jobs/{id}/rerun), in order; `onRerun` answers them. */
  reruns: number[];
  onRerun: (handler: (check: FakeCheckRun) => void) => void;
  touch: (pull: FakePull) => void;
  close: () => Promise<void>;
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

export async function fakeGitHub(options: { bare: string; owner?: string; repo?: string; token?: string; login?: string; scopes?: string; installation?: boolean; liveMergeable?: boolean }): Promise<FakeGitHub> {
  const owner = options.owner ?? 'octo';
  const repo = options.repo ?? 'sample';
  const token = options.token ?? 'ghp_test_token';
  const login = options.login ?? 'swarm-bot';
  const pulls = new Map<number, FakePull>();
  const checks: FakeCheckRun[] = [];
  const faults: Fault[] = [];
  const reruns: number[] = [];
  let rerunHandler: (check: FakeCheckRun) => void = () => undefined;
  const counters: FakeGitHub['counters'] = { requests: 0, points: 0, notModified: 0, graphql: 0, blobs: 0, byRoute: {} };
  let headHandler: (sha: string, pull: FakePull) => void = () => undefined;
  const seenHeads = new Set<string>();
  let clock = Date.parse('2026-11-22T10:00:00Z');
  let remaining = 5000;
  let nextId = 1000;
  const now = (): string => new Date((clock += 1000)).toISOString();
  const base = `/repos/${owner}/${repo}`;
  let url = '';

  const branchHead = (branch: string): string | null => {
    try {
      return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: options.bare, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  const touch = (pull: FakePull): void => {
    pull.updated_at = now();
  };
  const syncHeads = (): void => {
    const heads = new Map(
      execFileSync('git', ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads'], { cwd: options.bare, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ') as [string, string]),
    );
    for (const pull of pulls.values()) {
      if (pull.state !== 'open') continue;
      const head = heads.get(pull.head_ref) ?? null;
      if (head && head !== pull.head_sha) {
        pull.head_sha = head;
        touch(pull);
      }
      if (!seenHeads.has(pull.head_sha)) {
        seenHeads.add(pull.head_sha);
        headHandler(pull.head_sha, pull);
      }
    }
  };

  const userOf = (l: string): Record<string, unknown> => ({ login: l, id: l.length * 1000, node_id: `U_${l}`, type: l.endsWith('[bot]') ? 'Bot' : 'User', site_admin: false });
  const pullJson = (p: FakePull): Record<string, unknown> => ({
    url: `${url}${base}/pulls/${p.number}`,
    id: p.number * 10,
    node_id: p.node_id,
    html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: userOf(login),
    body: p.body,
    created_at: '2026-11-22T10:00:00Z',
    updated_at: p.updated_at,
    closed_at: p.state === 'closed' ? p.updated_at : null,
    merged_at: p.merged ? p.updated_at : null,
    merge_commit_sha: p.merge_sha,
    draft: false,
    head: { label: `${owner}:${p.head_ref}`, ref: p.head_ref, sha: p.head_sha, user: userOf(owner), repo: { id: 1, name: repo, full_name: `${owner}/${repo}` } },
    base: { label: `${owner}:${p.base_ref}`, ref: p.base_ref, sha: branchHead(p.base_ref), user: userOf(owner), repo: { id: 1, name: repo, full_name: `${owner}/${repo}` } },
    author_association: 'OWNER',
  });
  const checkJson = (c: FakeCheckRun): Record<string, unknown> => ({
    id: c.id,
    node_id: `CR_${c.id}`,
    head_sha: c.head_sha,
    external_id: '',
    url: `${url}${base}/check-runs/${c.id}`,
    html_url: `https://github.com/${owner}/${repo}/actions/runs/1/job/${c.id}`,
    details_url: `https://github.com/${owner}/${repo}/actions/runs/1/job/${c.id}`,
    status: c.status,
    conclusion: c.conclusion,
    started_at: '2026-11-22T10:00:00Z',
    completed_at: c.status === 'completed' ? '2026-11-22T10:01:00Z' : null,
    name: c.name,
    app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
  });

  const bareGit = (args: string[]): { code: number; out: string } => {
    try {
      return { code: 0, out: execFileSync('git', args, { cwd: options.bare, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
    } catch (err) {
      return { code: (err as { status?: number }).status ?? 1, out: '' };
    }
  };
  /**
   * As GitHub does: mergeability is computed lazily, when asked, against the base as it is now. The first read
   * after the base (or head) moved says UNKNOWN; the next one has the answer. A base push changes no PR's updated_at.
   */
  const refreshMergeable = (p: FakePull): void => {
    if (!options.liveMergeable || p.state !== 'open') return;
    const key = `${bareGit(['rev-parse', `refs/heads/${p.base_ref}`]).out}:${p.head_sha}`;
    if (p.mergeKey !== key) {
      p.mergeKey = key;
      p.mergeable = 'UNKNOWN';
      p.pendingMergeable = bareGit(['merge-tree', '--write-tree', `refs/heads/${p.base_ref}`, p.head_sha]).code === 0 ? 'MERGEABLE' : 'CONFLICTING';
    } else if (p.pendingMergeable) {
      p.mergeable = p.pendingMergeable;
      p.pendingMergeable = null;
    }
  };

  const graphNode = (p: FakePull): Record<string, unknown> => (refreshMergeable(p), {
    id: p.node_id,
    number: p.number,
    state: p.merged ? 'MERGED' : p.state === 'open' ? 'OPEN' : 'CLOSED',
    merged: p.merged,
    headRefOid: p.head_sha,
    mergeable: p.mergeable,
    mergeStateStatus: p.mergeable === 'CONFLICTING' ? 'DIRTY' : p.mergeable === 'UNKNOWN' ? 'UNKNOWN' : 'CLEAN',
    reviewDecision: p.reviewDecision,
    commits: {
      nodes: [
        {
          commit: {
            oid: p.head_sha,
            statusCheckRollup: (() => {
              const runs = checks.filter((c) => c.head_sha === p.head_sha);
              if (runs.length === 0) return null;
              const state = runs.some((c) => c.conclusion === 'failure' || c.conclusion === 'cancelled' || c.conclusion === 'timed_out') ? 'FAILURE' : runs.every((c) => c.status === 'completed') ? 'SUCCESS' : 'PENDING';
              return { state, contexts: { nodes: runs.map((c) => ({ __typename: 'CheckRun', databaseId: c.id, name: c.name, status: c.status.toUpperCase(), conclusion: c.conclusion?.toUpperCase() ?? null, detailsUrl: `https://github.com/${owner}/${repo}/actions/runs/1/job/${c.id}` })) } };
            })(),
          },
        },
      ],
    },
  });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve(data));
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      const parsed = new URL(req.url ?? '/', 'http://x');
      const path = parsed.pathname;
      const route = `${req.method ?? 'GET'} ${path}`;
      counters.requests++;
      counters.byRoute[route.replace(/\/\d+/g, '/:n').replace(/[0-9a-f]{40}/g, ':sha')] = (counters.byRoute[route.replace(/\/\d+/g, '/:n').replace(/[0-9a-f]{40}/g, ':sha')] ?? 0) + 1;
      const isGraph = path === '/graphql';
      const rateHeaders = (): Record<string, string> => ({ 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600), 'x-ratelimit-used': String(5000 - remaining), 'x-ratelimit-resource': isGraph ? 'graphql' : 'core' });
      const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
        const payload = typeof body === 'string' ? body : JSON.stringify(body);
        if (status === 200 && req.method === 'GET' && !extra.location) {
          const etag = etagOf(payload);
          if (req.headers['if-none-match'] === etag) {
            counters.notModified++;
            res.writeHead(304, { etag, ...rateHeaders() }).end();
            return;
          }
          extra.etag = etag;
        }
        if (status !== 304) {
          counters.points++;
          remaining--;
        }
        res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8', ...rateHeaders(), ...extra });
        res.end(payload);
      };

      if (path.startsWith('/_blob/')) {
        counters.blobs++;
        const id = Number(path.split('/').pop());
        const check = checks.find((c) => c.id === id);
        res.writeHead(check ? 200 : 404, { 'content-type': 'text/plain' }).end(check?.log ?? 'not found');
        return;
      }
      const fault = faults.find((f) => f.match.test(route) && f.times > 0);
      if (fault) {
        fault.times--;
        res.writeHead(fault.status, { 'content-type': 'application/json', ...rateHeaders(), ...(fault.headers ?? {}) }).end(JSON.stringify(fault.body ?? { message: 'Server Error' }));
        return;
      }
      if (req.headers.authorization !== `token ${token}` && req.headers.authorization !== `bearer ${token}` && req.headers.authorization !== `Bearer ${token}`) {
        return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      }
      syncHeads();
      let m: RegExpExecArray | null;
      // A GitHub App installation token (ghs_…) may not ask who it is; its repository has no `permissions`.
      // GET /repos/{owner}/{repo}/git/ref/{ref}: clients send "heads/main" encoded (heads%2Fmain), GitHub takes both.
      if ((m = new RegExp(`^GET ${base}/git/ref/(.+)$`).exec(route)) && decodeURIComponent(m[1]!).startsWith('heads/')) {
        const ref = decodeURIComponent(m[1]!);
        const sha = bareGit(['rev-parse', '--verify', '--quiet', `refs/${ref}`]).out;
        if (!sha) return send(404, { message: 'Not Found' });
        return send(200, { ref: `refs/${ref}`, node_id: 'REF_1', url: `${url}${base}/git/refs/${ref}`, object: { sha, type: 'commit', url: `${url}${base}/git/commits/${sha}` } });
      }
      if (route === 'GET /user' && options.installation) return send(403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' });
      if (route === 'GET /user') return send(200, userOf(login), { 'x-oauth-scopes': options.scopes ?? 'repo, workflow' });
      if (route === `GET ${base}`) return send(200, { id: 1, node_id: 'R_1', name: repo, full_name: `${owner}/${repo}`, private: true, owner: userOf(owner), default_branch: 'main', ...(options.installation ? {} : { permissions: { admin: false, maintain: false, push: true, triage: true, pull: true } }) });
      if (route === `GET ${base}/pulls`) {
        const state = parsed.searchParams.get('state') ?? 'open';
        const head = parsed.searchParams.get('head');
        const list = [...pulls.values()]
          .filter((p) => state === 'all' || p.state === state)
          .filter((p) => !head || `${owner}:${p.head_ref}` === head)
          .sort((a, b) => b.updated_at.localeCompare(a.updated_at))
          .slice(0, Number(parsed.searchParams.get('per_page') ?? 30));
        return send(200, list.map(pullJson));
      }
      if (route === `POST ${base}/pulls`) {
        const body = JSON.parse(text) as { head: string; base: string; title: string; body?: string };
        const head = branchHead(body.head);
        if (!head) return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        if ([...pulls.values()].some((p) => p.head_ref === body.head && p.state === 'open')) return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${body.head}.` }] });
        const number = pulls.size + 1;
        const pull: FakePull = { number, node_id: `PR_kwDO${number}`, title: body.title, body: body.body ?? '', head_ref: body.head, base_ref: body.base, state: 'open', merged: false, merge_sha: null, updated_at: now(), head_sha: head, mergeable: 'MERGEABLE', reviewDecision: null, reviews: [], comments: [], issueComments: [] };
        pulls.set(number, pull);
        syncHeads();
        return send(201, pullJson(pull));
      }
      if ((m = new RegExp(`^GET ${base}/commits/([0-9a-f]{40})/check-runs$`).exec(route))) {
        const runs = checks.filter((c) => c.head_sha === m![1]);
        return send(200, { total_count: runs.length, check_runs: runs.map(checkJson) });
      }
      if (route === `GET ${base}/actions/runs`) {
        // One workflow run per check here (a run with one job); the list changes whenever a check does.
        const perPage = Number(parsed.searchParams.get('per_page') ?? 30);
        const page = Number(parsed.searchParams.get('page') ?? 1);
        const runs = [...checks].sort((a, b) => b.id - a.id).slice((page - 1) * perPage, page * perPage);
        return send(200, {
          total_count: checks.length,
          workflow_runs: runs.map((c) => ({ id: c.id, name: 'CI', node_id: `WFR_${c.id}`, head_branch: [...pulls.values()].find((p) => p.head_sha === c.head_sha)?.head_ref ?? null, head_sha: c.head_sha, event: 'pull_request', status: c.status, conclusion: c.conclusion, run_number: c.id, created_at: '2026-11-22T10:00:00Z', updated_at: c.updated_at, html_url: `https://github.com/${owner}/${repo}/actions/runs/${c.id}` })),
        });
      }
      if ((m = new RegExp(`^GET ${base}/commits/([0-9a-f]{40})/status$`).exec(route))) {
        return send(200, { state: 'pending', statuses: [], sha: m[1], total_count: 0, repository: { id: 1, full_name: `${owner}/${repo}` } });
      }
      if ((m = new RegExp(`^GET ${base}/actions/jobs/(\\d+)$`).exec(route))) {
        const check = checks.find((c) => c.id === Number(m![1]));
        if (!check) return send(404, { message: 'Not Found' });
        return send(200, { id: check.id, run_id: 1, head_sha: check.head_sha, name: check.name, status: check.status, conclusion: check.conclusion, steps: check.steps.map((s, i) => ({ name: s.name, status: 'completed', conclusion: s.conclusion, number: i + 1 })) });
      }
      if ((m = new RegExp(`^POST ${base}/actions/jobs/(\\d+)/rerun$`).exec(route))) {
        const check = checks.find((c) => c.id === Number(m![1]));
        if (!check) return send(404, { message: 'Not Found' });
        if (check.status !== 'completed') return send(403, { message: 'This job is already running' });
        reruns.push(check.id);
        // GitHub queues the job again for the same commit: in progress, no conclusion, a new update time.
        Object.assign(check, { status: 'in_progress', conclusion: null, updated_at: now() });
        rerunHandler(check);
        return send(201, {});
      }
      if ((m = new RegExp(`^GET ${base}/actions/jobs/(\\d+)/logs$`).exec(route))) {
        const check = checks.find((c) => c.id === Number(m![1]));
        if (!check) return send(404, { message: 'Not Found' });
        counters.points++;
        res.writeHead(302, { location: `${url}/_blob/logs/${check.id}`, ...rateHeaders() }).end();
        return;
      }
      if ((m = new RegExp(`^GET ${base}/pulls/(\\d+)/reviews$`).exec(route))) return send(200, pulls.get(Number(m[1]))?.reviews ?? []);
      if ((m = new RegExp(`^GET ${base}/pulls/(\\d+)/comments$`).exec(route))) return send(200, pulls.get(Number(m[1]))?.comments ?? []);
      if ((m = new RegExp(`^POST ${base}/issues/(\\d+)/comments$`).exec(route))) {
        const pull = pulls.get(Number(m[1]));
        if (!pull) return send(404, { message: 'Not Found' });
        const body = (JSON.parse(text) as { body?: string }).body ?? '';
        pull.issueComments.push({ id: 5000 + pull.issueComments.length, body, user: { login, type: 'User' } });
        return send(201, pull.issueComments.at(-1));
      }
      if ((m = new RegExp(`^POST ${base}/pulls/(\\d+)/reviews$`).exec(route))) {
        // As GitHub: a review comment must sit on a line of the PR's diff (inside a hunk, new side), else 422.
        const pull = pulls.get(Number(m[1]));
        if (!pull) return send(404, { message: 'Not Found' });
        const body = JSON.parse(text) as { commit_id?: string; body?: string; event?: string; comments?: { path: string; line: number; side?: string; body: string }[] };
        const head = body.commit_id ?? pull.head_sha;
        const diff = bareGit(['diff', '--unified=3', `refs/heads/${pull.base_ref}...${head}`]).out;
        const ranges: { path: string; from: number; to: number }[] = [];
        let path = '';
        for (const line of diff.split('\n')) {
          if (line.startsWith('+++ b/')) path = line.slice(6);
          const hunk = /^@@ -[\d,]+ \+(\d+)(?:,(\d+))? @@/.exec(line);
          if (hunk) ranges.push({ path, from: Number(hunk[1]), to: Number(hunk[1]) + Number(hunk[2] ?? '1') - 1 });
        }
        const outside = (body.comments ?? []).filter((c) => !ranges.some((r) => r.path === c.path && c.line >= r.from && c.line <= r.to));
        if (outside.length) return send(422, { message: 'Unprocessable Entity', errors: ['Pull request review thread line must be part of the diff'], documentation_url: 'https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request', status: '422' });
        const id = 1000 + pull.reviews.length;
        const user = { login, type: 'User' };
        pull.reviews.push({ id, user, body: body.body ?? '', state: body.event === 'APPROVE' ? 'APPROVED' : body.event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : 'COMMENTED', submitted_at: now(), commit_id: head });
        for (const c of body.comments ?? []) pull.comments.push({ id: id * 100 + pull.comments.length, path: c.path, line: c.line, original_line: c.line, body: c.body, user });
        pull.updated_at = now();
        return send(200, { id, user, body: body.body ?? '', state: 'COMMENTED', commit_id: head });
      }
      if ((m = new RegExp(`^PATCH ${base}/pulls/(\\d+)$`).exec(route))) {
        const pull = pulls.get(Number(m[1]));
        if (!pull) return send(404, { message: 'Not Found' });
        const body = JSON.parse(text) as { state?: string; title?: string; body?: string };
        if (body.state !== undefined && body.state !== 'open' && body.state !== 'closed') return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'state', code: 'invalid' }] });
        if (body.state === 'closed' && !pull.merged) pull.state = 'closed';
        if (body.title !== undefined) pull.title = body.title;
        touch(pull);
        return send(200, { number: pull.number, state: pull.state, merged: pull.merged });
      }
      if ((m = new RegExp(`^PUT ${base}/pulls/(\\d+)/merge$`).exec(route))) {
        const pull = pulls.get(Number(m[1]));
        if (!pull || pull.state !== 'open') return send(405, { message: 'Pull Request is not mergeable' });
        const git = (args: string[]): string => execFileSync('git', args, { cwd: options.bare, encoding: 'utf8' }).trim();
        const tree = git(['merge-tree', '--write-tree', pull.base_ref, pull.head_ref]);
        const baseSha = git(['rev-parse', pull.base_ref]);
        const commit = git(['-c', 'user.name=GitHub', '-c', 'user.email=noreply@github.com', 'commit-tree', tree.split('\n')[0]!, '-p', baseSha, '-p', pull.head_sha, '-m', `Merge pull request #${pull.number}`]);
        git(['update-ref', `refs/heads/${pull.base_ref}`, commit, baseSha]);
        Object.assign(pull, { state: 'closed', merged: true, merge_sha: commit });
        touch(pull);
        return send(200, { sha: commit, merged: true, message: 'Pull Request successfully merged' });
      }
      if (route === 'POST /graphql') {
        counters.graphql++;
        const body = JSON.parse(text) as { query: string; variables?: { ids?: string[] } };
        if (!body.query.includes('nodes(ids:')) return send(200, { errors: [{ message: 'unsupported query in the fake' }] });
        const nodes = (body.variables?.ids ?? []).map((id) => {
          const pull = [...pulls.values()].find((p) => p.node_id === id);
          return pull ? graphNode(pull) : null;
        });
        return send(200, { data: { rateLimit: { cost: 1, remaining, resetAt: new Date(Date.now() + 3_600_000).toISOString() }, nodes } });
      }
      send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    })();
  });
  url = await listenLoopback(server);
  return {
    url,
    owner,
    repo,
    login,
    pulls,
    checks,
    counters,
    resetCounters: () => Object.assign(counters, { requests: 0, points: 0, notModified: 0, graphql: 0, blobs: 0, byRoute: {} }),
    fault: (f) => faults.push(f),
    clearFaults: () => {
      faults.length = 0;
    },
    onNewHead: (handler) => {
      headHandler = handler;
    },
    reruns,
    onRerun: (handler) => {
      rerunHandler = handler;
    },
    addCheck: (sha, name) => {
      const check: FakeCheckRun = { id: nextId++, name, head_sha: sha, status: 'in_progress', conclusion: null, log: '', steps: [{ name: 'Set up job', conclusion: 'success' }, { name: 'Run npm test', conclusion: null }], updated_at: now() };
      checks.push(check);
      return check;
    },
    finishCheck: (check, conclusion, log, failedStep = 'Run npm test') => {
      check.status = 'completed';
      check.conclusion = conclusion;
      check.updated_at = now();
      check.log = log;
      check.steps = check.steps.map((s) => ({ ...s, conclusion: s.name === failedStep && conclusion === 'failure' ? 'failure' : 'success' }));
    },
    touch,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
