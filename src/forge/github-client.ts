/** Reaching GitHub: the repository a remote names, the token, and an Octokit that retries and respects rate limits. */
import { execFile } from 'node:child_process';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import type { SwarmConfig } from '../config/schema.js';
import { ExitCode, SwarmError } from '../errors.js';

export class GitHubError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.config);
  }
}

/** owner/repo from an https, ssh or scp-like remote URL. */
export function parseRemote(url: string): { owner: string; repo: string } | null {
  const match = /^(?:https?:\/\/[^/]+\/|ssh:\/\/(?:[^@]+@)?[^/]+\/|[^@\s]+@[^:\s]+:)([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(url.trim());
  return match ? { owner: match[1]!, repo: match[2]! } : null;
}

function ghAuthToken(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('gh', ['auth', 'token'], { timeout: 5_000 }, (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

/** GITHUB_TOKEN (or the configured variable), else `gh auth token`, else a clear error. */
export async function githubToken(config: SwarmConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[config.github.token_env];
  if (fromEnv) return fromEnv;
  const fromGh = await ghAuthToken();
  if (fromGh) return fromGh;
  throw new GitHubError('SWARM_GITHUB_TOKEN_MISSING', `No GitHub token: set ${config.github.token_env}, or log in with \`gh auth login\`. The token needs the "repo" scope (classic) or Contents, Pull requests and Actions read/write (fine-grained).`);
}

export interface ForgeHealth {
  ok: boolean;
  why: string | null;
  rate: { remaining: number; limit: number; reset_at: number } | null;
  graphql_remaining: number | null;
  requests: number;
  points: number;
}

/** Counts each request as it goes over the wire: registered before the retry plugin, it sees every retry too. */
export interface WireCounter {
  requests: number;
}

export function createOctokit(options: { token: string; baseUrl: string; retries: number; log: Logger; wire?: WireCounter }): Octokit {
  const wire = options.wire;
  const count = (octokit: { hook: Octokit['hook'] }): void => {
    octokit.hook.before('request', () => {
      if (wire) wire.requests++;
    });
  };
  const Kit = Octokit.plugin(count, throttling, retry);
  return new Kit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: 'worktree-swarm',
    // Retries come from the retry plugin's own state, never from default request options: `request.retries`
    // set for every request made plugin-retry retry everything, 304s and 4xx included (its doNotRetry list
    // bypassed). Only network errors and 5xx are retried, quickly; rate limits are the throttling plugin's.
    retry: { retries: options.retries, retryAfterBaseValue: 250, doNotRetry: [304, 400, 401, 403, 404, 409, 410, 422, 451, 429] },
    throttle: {
      onRateLimit: (retryAfter: number, opts: { method: string; url: string }, _kit: unknown, retryCount: number) => {
        options.log.warn({ retryAfter, url: opts.url }, 'GitHub rate limit hit');
        return retryCount < 1 && retryAfter <= 60;
      },
      onSecondaryRateLimit: (retryAfter: number, opts: { method: string; url: string }, _kit: unknown, retryCount: number) => {
        options.log.warn({ retryAfter, url: opts.url }, 'GitHub secondary rate limit hit');
        return retryCount < 2 && retryAfter <= 60;
      },
    },
    log: { debug: () => undefined, info: () => undefined, warn: (m: string) => options.log.warn(m), error: (m: string) => options.log.error(m) },
  });
}


/** The web address for an API base: api.github.com → github.com; GitHub Enterprise's https://host/api/v3 → https://host. */
export function webUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/+$/, '')}`;
}

/** The HTTP status an Octokit error carries, or null (a network error, or not Octokit's). */
export function httpStatus(err: unknown): number | null {
  return typeof err === 'object' && err !== null && 'status' in err && typeof (err as { status: unknown }).status === 'number' ? (err as { status: number }).status : null;
}
