import * as z from 'zod';

export const TASK_STATES = [
  'queued',
  'preparing',
  'running',
  'agent_exited',
  'pr_open',
  'ci_running',
  /** CI green and mergeable: the AI reviewers are at it. */
  'reviewing',
  'ready',
  'needs_help',
  'done',
  'cancelled',
  /** A dependency failed: waits for a human (retry the dependency, or kill this). */
  'blocked',
  /** Found by a discovery source: waits for `swarm approve`. */
  'proposed',
  /** A fan-out (`swarm spawn --fanout`): its candidates are at work; it is decided when they finish. */
  'fanout',
] as const;
export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;

export const TERMINAL_STATES: readonly TaskState[] = ['done', 'cancelled'];
/** States in which a task holds a live session (agent or CI) that counts against the concurrency cap. */
export const ACTIVE_STATES: readonly TaskState[] = ['preparing', 'running', 'agent_exited', 'pr_open', 'ci_running', 'reviewing'];

/** What went wrong on an attempt, recorded deterministically by the monitor and fed to the next prompt. */
export const Evidence = z.object({
  reason: z.enum(['crash', 'no_commits', 'stuck', 'timeout', 'ci_failed', 'conflict', 'session_lost', 'infra', 'changes_requested', 'manual', 'agent_fault', 'transient', 'review_findings', 'review_failed', 'screenshots_missing']),
  summary: z.string(),
  exit_code: z.number().int().nullable().optional(),
  failing_tests: z.array(z.string()).optional(),
  /** Each failing test once: full name, file:line in the worktree, its assertion (expected and actual). */
  tests: z.array(z.object({ name: z.string(), location: z.string().optional(), message: z.array(z.string()), count: z.number().int().positive().optional() })).optional(),
  /** Failing tests as the runner counted them (more than `tests` when the list was cut). */
  failed_count: z.number().int().nonnegative().optional(),
  assertions: z.array(z.string()).optional(),
  files: z.array(z.string()).optional(),
  log_tail: z.string().optional(),
  /** The agent's decisive line of output when it failed (what a human reads first). */
  decisive_line: z.string().optional(),
  /** Blocking findings of the AI reviewers, each at file:line, by reviewer. */
  findings: z.array(z.object({ reviewer: z.string(), severity: z.string(), file: z.string(), line: z.number().int().nullable().optional(), title: z.string(), body: z.string() })).optional(),
  /** How long the failed attempt ran: two fast failures with the same line are an agent fault. */
  duration_ms: z.number().int().nonnegative().optional(),
});
export type Evidence = z.infer<typeof Evidence>;

const intOrNull = z.number().int().nullable();
const strOrNull = z.string().nullable();

export const TaskRow = z.object({
  id: z.number().int(),
  title: z.string(),
  prompt: z.string(),
  agent: z.string(),
  model: strOrNull,
  kind: strOrNull,
  state: TaskState,
  base: z.string(),
  branch: z.string(),
  worktree: z.string(),
  attempt: z.number().int(),
  retries: z.number().int(),
  max_retries: z.number().int(),
  evidence: strOrNull,
  reason: strOrNull,
  created_at: z.number().int(),
  updated_at: z.number().int(),
  started_at: intOrNull,
  pr_at: intOrNull,
  ready_at: intOrNull,
  done_at: intOrNull,
  /** Task ids this one waits for, as JSON. */
  depends_on: z.string(),
  plan_id: strOrNull,
  /** Where a discovered task came from, so a source proposes it once. */
  source_key: strOrNull,
  /** Why this agent was picked, when routing used outcomes. */
  routing_note: strOrNull,
  /** A respawn or a transient wait does not start before this (backoff). */
  not_before: intOrNull,
  /** Transient troubles (rate limit, overload, network) waited out, which count no retry. */
  transient_waits: z.number().int(),
  waited_ms: z.number().int(),
  /** The commit that passed CI (and review) when the task became ready: the only one `swarm merge` merges. */
  verified_sha: strOrNull,
  /** Where the task's checkout and sessions live: a host from the config's \`hosts\`; null = this machine. */
  host: strOrNull.default(null),
  /** A fan-out's candidate: the fan-out's task id. */
  fanout_of: intOrNull.default(null),
  /** A fan-out: how many candidates it has (0: an ordinary task). */
  fanout_size: z.number().int().default(0),
  /** A decided fan-out: the candidate it merges (chosen by the ranking, or picked by the human). */
  chosen: intOrNull.default(null),
});
export type TaskRow = z.infer<typeof TaskRow>;

export function dependsOn(task: Pick<TaskRow, 'depends_on'>): number[] {
  const parsed = z.array(z.number().int()).safeParse(JSON.parse(task.depends_on));
  return parsed.success ? parsed.data : [];
}

export const AttemptKind = z.enum(['agent', 'ci', 'review']);
export type AttemptKind = z.infer<typeof AttemptKind>;

export const AttemptRow = z.object({
  id: z.number().int(),
  task_id: z.number().int(),
  n: z.number().int(),
  kind: AttemptKind,
  agent: z.string(),
  session_id: z.string(),
  session_dir: z.string(),
  prompt: strOrNull,
  holder_pid: intOrNull,
  holder_start: strOrNull,
  child_pid: intOrNull,
  child_start: strOrNull,
  head_sha: strOrNull,
  started_at: z.number().int(),
  ended_at: intOrNull,
  exit_code: intOrNull,
  signal: strOrNull,
  outcome: strOrNull,
  evidence: strOrNull,
  /** What the agent reported about itself (final message, its session id, tokens, cost), as JSON. */
  report: strOrNull,
  /** A reviewer's session: the review round (one head) it belongs to. */
  round_id: intOrNull.default(null),
  /** The model the session was started with, when one was named. */
  model: strOrNull.default(null),
});
export type AttemptRow = z.infer<typeof AttemptRow>;

/**
 * A review round: the AI reviewers' look at exactly one head, the one CI passed. It ends approved, with changes
 * asked, failed, or cancelled (the head moved); `ready` names the approved round it came from.
 */
export const ReviewRoundRow = z.object({
  id: z.number().int(),
  task_id: z.number().int(),
  attempt: z.number().int(),
  head: z.string(),
  /** The commit CI passed when the round started (null: no CI configured). */
  ci_head: strOrNull,
  started_at: z.number().int(),
  ended_at: intOrNull,
  outcome: z.enum(['approved', 'changes', 'failed', 'cancelled']).nullable(),
});
export type ReviewRoundRow = z.infer<typeof ReviewRoundRow>;

/** A session without its prompt and report: what a board of many tasks needs. */
export const AttemptHead = AttemptRow.pick({ id: true, task_id: true, n: true, kind: true, agent: true, session_id: true, session_dir: true, started_at: true, ended_at: true, outcome: true, round_id: true });
export type AttemptHead = z.infer<typeof AttemptHead>;

export const PrRow = z.object({
  id: z.number().int(),
  task_id: z.number().int(),
  forge: z.string(),
  number: intOrNull,
  url: strOrNull,
  branch: z.string(),
  base: z.string(),
  head_sha: strOrNull,
  state: z.enum(['open', 'merged', 'closed']),
  opened_at: z.number().int(),
  closed_at: intOrNull,
  /** GitHub's global id, for the batched GraphQL query. */
  node_id: strOrNull,
});
export type PrRow = z.infer<typeof PrRow>;

export const EventRow = z.object({
  id: z.number().int(),
  task_id: z.number().int(),
  at: z.number().int(),
  kind: z.string(),
  from_state: strOrNull,
  to_state: strOrNull,
  data: strOrNull,
});
export type EventRow = z.infer<typeof EventRow>;

export const NotificationRow = z.object({
  id: z.number().int(),
  key: z.string(),
  task_id: z.number().int(),
  event: z.string(),
  channel: z.string(),
  title: z.string(),
  body: z.string(),
  click_url: strOrNull,
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: z.number().int(),
  last_error: strOrNull,
  /** JSON array of file paths. */
  attachments: z.string().default('[]'),
  created_at: z.number().int(),
  sent_at: intOrNull,
});
export type NotificationRow = z.infer<typeof NotificationRow>;

export interface NotificationInput {
  event: string;
  title: string;
  body: string;
  click_url?: string | null;
  /** Files sent with it where the channel can (ntfy attaches the first; the webhook gets the paths). */
  attachments?: string[];
}
