/**
 * The REST API, one table: each route's method, path, schemas and handler. The server dispatches from it and
 * /api/openapi.json is generated from it, so the document cannot drift from what is served.
 */
import * as z from 'zod';
import { approveTask } from '../cli/orchestrate.js';
import { killTask, mergeTask, parseTaskId, retryTask, spawnTask } from '../cli/tasks.js';
import type { Project } from '../config/project.js';
import { TaskNotFoundError } from '../errors.js';
import { boardCards, taskCard, taskPage } from './pages.js';
import { Card, Empty, KillResult, MergeResult, Ok, PickBody, RetryBody, SpawnBody, Status, TaskPage, Ticket } from './schemas.js';

export interface ApiContext {
  project: Project;
  /** The last line each task's live session printed (kept by the daemon's session watchers). */
  lines: ReadonlyMap<number, string>;
  kick(): void;
  status(): Status;
  stop(): void;
  ticket(): z.infer<typeof Ticket>;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  body?: z.ZodType;
  response: z.ZodType;
  status?: number;
  /** Only the CLI's bearer token may call it (a browser cookie may not). */
  bearerOnly?: boolean;
  /** `via`: the dashboard (a signed-in browser) or the API (the bearer token): the actor its events name. */
  handler(input: { params: Record<string, string>; body: unknown; api: ApiContext; via: 'api' | 'dashboard' }): unknown;
}

function task(api: ApiContext, params: Record<string, string>) {
  const id = parseTaskId(params.id ?? '');
  const row = api.project.registry.getTask(id);
  if (!row) throw new TaskNotFoundError(id);
  return row;
}

export const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/status', summary: "The daemon's status: concurrency, tasks active and queued, memory, forge budget.", response: Status, handler: ({ api }) => api.status() },
  { method: 'POST', path: '/api/v1/nudge', summary: 'Run the monitor pass now.', body: Empty, response: Ok, status: 202, handler: ({ api }) => (api.kick(), { ok: true }) },
  { method: 'POST', path: '/api/v1/stop', summary: 'Stop the daemon (agents keep running in their sessions).', body: Empty, response: Ok, status: 202, bearerOnly: true, handler: ({ api }) => (api.stop(), { ok: true }) },
  { method: 'POST', path: '/api/v1/dashboard/ticket', summary: 'A one-time login link for the dashboard (what `swarm dashboard` opens).', body: Empty, response: Ticket, bearerOnly: true, handler: ({ api }) => api.ticket() },
  { method: 'GET', path: '/api/v1/tasks', summary: 'Every task as a board card.', response: z.array(Card), handler: ({ api }) => boardCards(api.project, api.lines) },
  {
    method: 'POST',
    path: '/api/v1/tasks',
    summary: 'Spawn a task (queued; the daemon starts it within the concurrency cap).',
    body: SpawnBody,
    response: Card,
    status: 201,
    handler: async ({ api, body }) => {
      const { fanout, agents, ...input } = SpawnBody.parse(body);
      if (fanout !== undefined || agents !== undefined) {
        const { fanoutCandidates, parseCandidates, spawnFanout } = await import('../orchestrator/intake.js');
        const candidates = fanoutCandidates(api.project.config, { ...(agents ? { agents: parseCandidates(agents.join(',')) } : {}), ...(fanout !== undefined ? { fanout } : {}), ...(input.kind ? { kind: input.kind } : {}), ...(input.agent ? { agent: input.agent } : {}) });
        const { task: row } = await spawnFanout(api.project, { ...input, candidates });
        api.kick();
        return taskCard(api.project, row, null);
      }
      const row = await spawnTask(api.project, input);
      api.kick();
      return taskCard(api.project, row, null);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/tasks/{id}',
    summary: "A task's page: prompt, attempts with evidence, events, CI log, diff, reviews, PR, neighbours.",
    response: TaskPage,
    handler: ({ api, params }) => {
      const { id } = task(api, params);
      return taskPage(api.project, id, api.lines.get(id) ?? null);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/retry',
    summary: 'Queue another round for a task that needs help, is ready, or was cancelled (retries start from zero).',
    body: RetryBody,
    response: Card,
    handler: async ({ api, params, body, via }) => {
      const row = await retryTask(api.project, task(api, params).id, RetryBody.parse(body ?? {}).note, { via });
      api.kick();
      return taskCard(api.project, row, null);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/kill',
    summary: 'Cancel a task and end its sessions (its worktree stays until cleanup).',
    body: Empty,
    response: KillResult,
    handler: async ({ api, params, via }) => {
      const { task: row, sessionsKilled } = await killTask(api.project, task(api, params).id, { via });
      api.kick();
      return { task: row, sessions_killed: sessionsKilled };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/merge',
    summary: 'Merge a ready task (the verified commit) into base.',
    body: Empty,
    response: MergeResult,
    handler: async ({ api, params, via }) => {
      const result = await mergeTask(api.project, task(api, params).id, { actor: { via } });
      api.kick();
      return result;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/pick',
    summary: "Choose which candidate a fan-out merges (a ready one).",
    body: PickBody,
    response: Card,
    handler: async ({ api, params, body, via }) => {
      const { pickCandidate } = await import('../cli/fanout.js');
      const row = pickCandidate(api.project, task(api, params).id, PickBody.parse(body).candidate, { via });
      return taskCard(api.project, row, null);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/approve',
    summary: 'Queue a task that discovery proposed.',
    body: Empty,
    response: Card,
    handler: ({ api, params }) => {
      const row = approveTask(api.project, task(api, params).id);
      api.kick();
      return taskCard(api.project, row, null);
    },
  },
];


/** `/api/v1/tasks/{id}` against a request path: the params, or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (!got[i]) return null;
      params[w.slice(1, -1)] = decodeURIComponent(got[i]!);
    } else if (w !== got[i]) return null;
  }
  return params;
}
