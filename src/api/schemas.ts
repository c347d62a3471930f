/** The API's shapes: requests are parsed with them, responses typed by them, and /api/openapi.json is built from them. */
import * as z from 'zod';
import { AttemptKind, EventRow, PrRow, TaskRow, TaskState } from '../../registry/types.js';
import { ReviewAnswer } from '../review/findings.js';
import { DaemonStatus } from '../daemon/info.js';

export const COLUMNS = ['queued', 'running', 'ci', 'review', 'ready', 'needs_help', 'done'] as const;
export const Column = z.enum(COLUMNS);
export type Column = z.infer<typeof Column>;

export const Card = z
  .object({
    id: z.number().int(),
    title: z.string(),
    state: TaskState,
    column: Column,
    agent: z.string(),
    model: z.string().nullable(),
    kind: z.string().nullable(),
    /** The host it runs on (null: the daemon's machine). */
    host: z.string().nullable().default(null),
    attempt: z.number().int(),
    retries: z.number().int(),
    max_retries: z.number().int(),
    reason: z.string().nullable(),
    created_at: z.number().int(),
    started_at: z.number().int().nullable(),
    ended_at: z.number().int().nullable().describe('ready, done or cancelled: elapsed stops here'),
    ci: z.enum(['running', 'passed', 'failed']).nullable(),
    review: z.object({ approvals: z.number().int(), blocking: z.number().int(), of: z.number().int(), running: z.number().int() }).nullable(),
    pr: z.object({ number: z.number().int().nullable(), url: z.string().nullable(), state: z.string() }).nullable(),
    /** The live session a terminal can attach to (agent, CI or a reviewer). */
    session: z.object({ id: z.string(), kind: AttemptKind, name: z.string() }).nullable(),
    last_line: z.string().nullable(),
    depends_on: z.array(z.number().int()),
  })
  .meta({ id: 'Card' });
export type Card = z.infer<typeof Card>;

export const Attempt = z.object({
  id: z.number().int(),
  n: z.number().int(),
  kind: AttemptKind,
  agent: z.string(),
  session_id: z.string(),
  started_at: z.number().int(),
  ended_at: z.number().int().nullable(),
  exit_code: z.number().int().nullable(),
  outcome: z.string().nullable(),
  head_sha: z.string().nullable(),
  /** What failed, as the monitor recorded it (the next attempt's prompt carries it). */
  evidence: z.unknown().nullable(),
  review: ReviewAnswer.nullable(),
  live: z.boolean(),
});
export type Attempt = z.infer<typeof Attempt>;

export const Neighbour = z.object({ id: z.number().int(), title: z.string(), state: TaskState });

/** A fan-out's candidate, as the ranking sees it. */
export const Candidate = z
  .object({
    id: z.number().int(),
    agent: z.string(),
    model: z.string().nullable(),
    state: z.string(),
    branch: z.string(),
    green: z.boolean().describe('ready, with CI (and review) passed on its verified head'),
    chosen: z.boolean(),
    line: z.string().describe('what it did, in one line'),
    verdict: z.string().nullable().describe('why it won, or where it lost (once decided)'),
    findings: z.object({ critical: z.number(), major: z.number(), minor: z.number(), nit: z.number() }),
    approvals: z.number().nullable(),
    reviewers: z.number().nullable(),
    retries: z.number().int(),
    diff: z.object({ files: z.number(), added: z.number(), removed: z.number() }).nullable(),
    tests_changed: z.number().int(),
    duration_ms: z.number().nullable(),
    cost_usd: z.number().nullable(),
  })
  .meta({ id: 'Candidate' });

export const TaskPage = z
  .object({
    task: TaskRow,
    card: Card,
    attempts: z.array(Attempt),
    events: z.array(EventRow),
    pr: PrRow.nullable(),
    ci_log: z.string().describe('the latest CI run, last 64 KB, terminal codes stripped'),
    diff: z.string().describe('unified diff of the branch against base (bounded)'),
    diff_truncated: z.boolean(),
    screenshots: z.array(z.string()),
    depends_on: z.array(Neighbour),
    dependents: z.array(Neighbour),
    candidates: z.array(Candidate).describe("a fan-out's candidates, side by side (empty for other tasks)"),
    fanout_of: Neighbour.nullable().describe('the fan-out this task is a candidate of'),
  })
  .meta({ id: 'TaskPage' });
export type TaskPage = z.infer<typeof TaskPage>;

export const SpawnBody = z.object({
  prompt: z.string().min(1),
  agent: z.string().optional(),
  model: z.string().optional(),
  kind: z.string().optional(),
  title: z.string().optional(),
  host: z.string().optional(),
  /** A fan-out: this many candidates, or these (agent or agent:model). */
  fanout: z.number().int().optional(),
  agents: z.array(z.string().min(1)).optional(),
});
export const PickBody = z.object({ candidate: z.number().int() });
export const RetryBody = z.object({ note: z.string().optional() }).default({});
export const Empty = z.object({}).optional();
export const Ok = z.object({ ok: z.literal(true) });
export const ApiError = z.object({ error: z.string() }).meta({ id: 'Error' });
export const Ticket = z.object({ ticket: z.string(), url: z.string() });
export const MergeResult = z.object({ task: TaskRow, commit: z.string(), cleanup: z.string().nullable() });
export const KillResult = z.object({ task: TaskRow, sessions_killed: z.number().int() });
export const Status = DaemonStatus.extend({
  active: z.number().int(),
  queued: z.number().int(),
  memory: z.object({ daemon_rss: z.number(), free: z.number(), total: z.number() }),
  agents: z.array(z.string()),
  kinds: z.array(z.string()),
  web: z.object({ streams: z.number().int(), terminals: z.number().int(), stream_bytes: z.number(), terminal_bytes: z.number(), terminal_screens: z.number().int() }).describe('open dashboards and what they were sent since the daemon started'),
}).meta({ id: 'Status' });
export type Status = z.infer<typeof Status>;

/** Server-sent events on /api/v1/events. */
export const LiveEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), cards: z.array(Card) }),
  z.object({ type: z.literal('card'), card: Card }),
  z.object({ type: z.literal('line'), id: z.number().int(), line: z.string() }),
  z.object({ type: z.literal('status'), status: Status }),
]);
export type LiveEvent = z.infer<typeof LiveEvent>;

/**
 * Text frames on a terminal WebSocket: the screen first, the exit last; output in between comes as binary
 * frames holding the terminal's bytes. The browser sends keys and (when focused) its size.
 */
export const TerminalFrame = z.discriminatedUnion('t', [
  z.object({ t: z.literal('replay'), data: z.string() }),
  z.object({ t: z.literal('exit'), exit_code: z.number().int().nullable(), signal: z.string().nullable() }),
]);
export const TerminalInput = z.discriminatedUnion('t', [
  z.object({ t: z.literal('input'), data: z.string().max(64 * 1024) }),
  z.object({ t: z.literal('resize'), cols: z.number().int().min(10).max(500), rows: z.number().int().min(4).max(200) }),
]);
