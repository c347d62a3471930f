import Database from 'better-sqlite3';
import * as z from 'zod';
import { MIGRATIONS } from './migrations.js';
import {
  AttemptHead,
  AttemptRow,
  EventRow,
  NotificationRow,
  PrRow,
  ReviewRoundRow,
  TaskRow,
  type AttemptKind,
  type NotificationInput,
  type TaskState,
} from './types.js';

type Patch = Partial<Omit<TaskRow, 'id' | 'state' | 'created_at' | 'updated_at'>>;

export interface NewTask {
  title: string;
  prompt: string;
  agent: string;
  model?: string | null;
  kind?: string | null;
  base: string;
  /** `{id}` is replaced by the new task's id. */
  branch: string;
  worktree: string;
  max_retries: number;
  depends_on?: number[];
  plan_id?: string | null;
  source_key?: string | null;
  routing_note?: string | null;
  /** Start in this state instead of queued (discovered tasks start as proposed; a fan-out as fanout). */
  state?: 'queued' | 'proposed' | 'fanout';
  /** The host it is pinned to (null: this machine). */
  host?: string | null;
  fanout_of?: number | null;
  fanout_size?: number;
}

export interface TransitionOptions {
  event: string;
  data?: Record<string, unknown>;
  patch?: Patch;
  /** Enqueued in the same transaction, once per channel; `dedupe` makes it once across restarts. */
  notify?: { dedupe: string; channels: readonly string[]; message: NotificationInput };
}

const TASK_COLUMNS = new Set(Object.keys(TaskRow.shape));

function parseRows<T>(schema: z.ZodType<T>, rows: unknown[]): T[] {
  return rows.map((row) => schema.parse(row));
}

/** The only place that speaks SQL. Every state change and its event land in one transaction. */
export class Registry {
  readonly db: Database.Database;
  private readonly now: () => number;

  constructor(file: string, options: { now?: () => number } = {}) {
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.now = options.now ?? Date.now;
    this.migrate();
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const current = Number(this.db.pragma('user_version', { simple: true }));
    if (current > MIGRATIONS.length) {
      throw new Error(`swarm.db has schema version ${current}, newer than this swarm (${MIGRATIONS.length}). Upgrade worktree-swarm.`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    }
  }

  // ---- tasks ----

  createTask(input: NewTask): TaskRow {
    const now = this.now();
    return this.db.transaction(() => {
      const result = this.db
        .prepare(
          `INSERT INTO tasks (title, prompt, agent, model, kind, state, base, branch, worktree, max_retries, created_at, updated_at, depends_on, plan_id, source_key, routing_note, host, fanout_of, fanout_size)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(input.title, input.prompt, input.agent, input.model ?? null, input.kind ?? null, input.state ?? 'queued', input.base, `pending-${now}-${Math.random()}`, '', input.max_retries, now, now, JSON.stringify(input.depends_on ?? []), input.plan_id ?? null, input.source_key ?? null, input.routing_note ?? null, input.host ?? null, input.fanout_of ?? null, input.fanout_size ?? 0);
      const id = Number(result.lastInsertRowid);
      this.db
        .prepare('UPDATE tasks SET branch = ?, worktree = ? WHERE id = ?')
        .run(input.branch.replaceAll('{id}', String(id)), input.worktree.replaceAll('{id}', String(id)), id);
      this.insertEvent(id, 'created', null, input.state ?? 'queued', { agent: input.agent, base: input.base, ...(input.host ? { host: input.host } : {}), ...(input.depends_on?.length ? { depends_on: input.depends_on } : {}), ...(input.source_key ? { source: input.source_key } : {}), ...(input.fanout_of ? { fanout_of: input.fanout_of } : {}), ...(input.fanout_size ? { candidates: input.fanout_size } : {}) }, now);
      return this.mustGetTask(id);
    }).immediate();
  }

  getTask(id: number): TaskRow | null {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id);
    return row === undefined ? null : TaskRow.parse(row);
  }

  mustGetTask(id: number): TaskRow {
    const task = this.getTask(id);
    if (!task) throw new Error(`task ${id} vanished from the registry`);
    return task;
  }

  listTasks(states?: readonly TaskState[]): TaskRow[] {
    if (!states) return parseRows(TaskRow, this.db.prepare('SELECT * FROM tasks ORDER BY id').all());
    if (states.length === 0) return [];
    const marks = states.map(() => '?').join(', ');
    return parseRows(TaskRow, this.db.prepare(`SELECT * FROM tasks WHERE state IN (${marks}) ORDER BY id`).all(...states));
  }

  /** How many tasks are in each state, in one query (status lines, without reading every row). */
  stateCounts(): Partial<Record<TaskState, number>> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state').all() as { state: TaskState; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  sourceKeyTaken(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM tasks WHERE source_key = ?').get(key) !== undefined;
  }

  /** Runs `fn` in one transaction: several tasks of a plan are queued together or not at all. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  branchTaken(branch: string): boolean {
    return this.db.prepare('SELECT 1 FROM tasks WHERE branch = ?').get(branch) !== undefined;
  }

  /**
   * Compare-and-set: moves the task only if it is still in one of `from`. Returns the new row, or null when
   * another process moved it first, so two writers (CLI and daemon) can never both act on one state.
   */
  transition(id: number, from: TaskState | readonly TaskState[], to: TaskState, options: TransitionOptions): TaskRow | null {
    const fromStates: readonly TaskState[] = typeof from === 'string' ? [from] : from;
    const now = this.now();
    return this.db.transaction(() => {
      const before = this.getTask(id);
      if (!before || !fromStates.includes(before.state)) return null;
      const patch = options.patch ?? {};
      const sets = ['state = ?', 'updated_at = ?'];
      const values: unknown[] = [to, now];
      for (const [column, value] of Object.entries(patch)) {
        if (!TASK_COLUMNS.has(column)) throw new Error(`unknown task column ${column}`);
        sets.push(`${column} = ?`);
        values.push(value ?? null);
      }
      this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ? AND state = ?`).run(...values, id, before.state);
      this.insertEvent(id, options.event, before.state, to, options.data ?? null, now);
      if (options.notify) this.enqueueNotification(id, options.notify.dedupe, options.notify.channels, options.notify.message, now);
      return this.mustGetTask(id);
    }).immediate();
  }

  /** An event that does not change state (a note for the timeline). */
  recordEvent(taskId: number, kind: string, data: Record<string, unknown> | null = null): void {
    const task = this.mustGetTask(taskId);
    this.insertEvent(taskId, kind, task.state, task.state, data, this.now());
  }

  private insertEvent(taskId: number, kind: string, from: string | null, to: string | null, data: Record<string, unknown> | null, at: number): void {
    this.db
      .prepare('INSERT INTO events (task_id, at, kind, from_state, to_state, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(taskId, at, kind, from, to, data === null ? null : JSON.stringify(data));
  }

  events(taskId?: number): EventRow[] {
    const rows =
      taskId === undefined
        ? this.db.prepare('SELECT * FROM events ORDER BY id').all()
        : this.db.prepare('SELECT * FROM events WHERE task_id = ? ORDER BY id').all(taskId);
    return parseRows(EventRow, rows);
  }

  /** Every task's events of these kinds, oldest first. */
  eventsOfKind(kinds: readonly string[]): EventRow[] {
    if (!kinds.length) return [];
    return parseRows(EventRow, this.db.prepare(`SELECT * FROM events WHERE kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY id`).all(...kinds));
  }

  // ---- attempts (agent and CI sessions) ----

  insertAttempt(input: { task_id: number; n: number; kind: AttemptKind; agent: string; session_id: string; session_dir: string; prompt: string | null; head_sha?: string | null; round_id?: number | null; model?: string | null }): AttemptRow {
    const result = this.db
      .prepare(
        `INSERT INTO attempts (task_id, n, kind, agent, session_id, session_dir, prompt, head_sha, started_at, round_id, model)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(input.task_id, input.n, input.kind, input.agent, input.session_id, input.session_dir, input.prompt, input.head_sha ?? null, this.now(), input.round_id ?? null, input.model ?? null);
    return AttemptRow.parse(this.db.prepare('SELECT * FROM attempts WHERE id = ?').get(result.lastInsertRowid));
  }

  updateAttempt(id: number, patch: Partial<Omit<AttemptRow, 'id' | 'task_id'>>): void {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    const sets = entries.map(([column]) => {
      if (!(column in AttemptRow.shape)) throw new Error(`unknown attempt column ${column}`);
      return `${column} = ?`;
    });
    this.db.prepare(`UPDATE attempts SET ${sets.join(', ')} WHERE id = ?`).run(...entries.map(([, value]) => value ?? null), id);
  }

  attempts(taskId: number): AttemptRow[] {
    return parseRows(AttemptRow, this.db.prepare('SELECT * FROM attempts WHERE task_id = ? ORDER BY id').all(taskId));
  }

  /** The latest session of a kind for a task: the one the monitor watches. */
  latestAttempt(taskId: number, kind: AttemptKind): AttemptRow | null {
    const row = this.db.prepare('SELECT * FROM attempts WHERE task_id = ? AND kind = ? ORDER BY id DESC LIMIT 1').get(taskId, kind);
    return row === undefined ? null : AttemptRow.parse(row);
  }

  /** Sessions' summaries (no prompt, no report): every task's in one query (the dashboard's board), or one task's. */
  attemptHeads(taskId?: number): AttemptHead[] {
    const columns = 'SELECT id, task_id, n, kind, agent, session_id, session_dir, started_at, ended_at, outcome, round_id FROM attempts';
    const rows = taskId === undefined ? this.db.prepare(`${columns} ORDER BY id`).all() : this.db.prepare(`${columns} WHERE task_id = ? ORDER BY id`).all(taskId);
    return parseRows(AttemptHead, rows);
  }

  attemptBySession(sessionId: string): AttemptRow | null {
    const row = this.db.prepare('SELECT * FROM attempts WHERE session_id = ?').get(sessionId);
    return row === undefined ? null : AttemptRow.parse(row);
  }

  openSessions(): AttemptRow[] {
    return parseRows(AttemptRow, this.db.prepare('SELECT * FROM attempts WHERE ended_at IS NULL ORDER BY id').all());
  }

  // ---- review rounds ----

  /** Starts a round on `head` in the same transaction as the task's move to `reviewing` (null: the task had moved). */
  startRound(task: TaskRow, head: string, ciHead: string | null, transition: TransitionOptions): { task: TaskRow; round: ReviewRoundRow } | null {
    const raced = new Error('the task moved');
    try {
      return this.db.transaction(() => {
        const result = this.db.prepare('INSERT INTO review_rounds (task_id, attempt, head, ci_head, started_at) VALUES (?, ?, ?, ?, ?)').run(task.id, task.attempt, head, ciHead, this.now());
        const round = this.round(Number(result.lastInsertRowid))!;
        const moved = this.transition(task.id, task.state, 'reviewing', { ...transition, data: { ...transition.data, round: round.id } });
        if (!moved) throw raced; // rolls the round back with it
        return { task: moved, round };
      }).immediate();
    } catch (err) {
      if (err === raced) return null;
      throw err;
    }
  }

  round(id: number): ReviewRoundRow | null {
    const row = this.db.prepare('SELECT * FROM review_rounds WHERE id = ?').get(id);
    return row === undefined ? null : ReviewRoundRow.parse(row);
  }

  /** The task's round still open (at most one). */
  openRound(taskId: number): ReviewRoundRow | null {
    const row = this.db.prepare('SELECT * FROM review_rounds WHERE task_id = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1').get(taskId);
    return row === undefined ? null : ReviewRoundRow.parse(row);
  }

  rounds(taskId: number): ReviewRoundRow[] {
    return parseRows(ReviewRoundRow, this.db.prepare('SELECT * FROM review_rounds WHERE task_id = ? ORDER BY id').all(taskId));
  }

  endRound(id: number, outcome: NonNullable<ReviewRoundRow['outcome']>): void {
    this.db.prepare('UPDATE review_rounds SET ended_at = ?, outcome = ? WHERE id = ? AND ended_at IS NULL').run(this.now(), outcome, id);
  }

  // ---- pull requests ----

  openPr(input: { task_id: number; forge: string; branch: string; base: string; head_sha: string | null; number?: number | null; url?: string | null; node_id?: string | null }): PrRow {
    this.db
      .prepare(
        `INSERT INTO prs (task_id, forge, number, url, branch, base, head_sha, state, opened_at, node_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
         ON CONFLICT(task_id) DO UPDATE SET head_sha = excluded.head_sha, state = 'open', closed_at = NULL,
           number = COALESCE(excluded.number, prs.number), url = COALESCE(excluded.url, prs.url), node_id = COALESCE(excluded.node_id, prs.node_id)`,
      )
      .run(input.task_id, input.forge, input.number ?? null, input.url ?? null, input.branch, input.base, input.head_sha, this.now(), input.node_id ?? null);
    const pr = this.getPr(input.task_id)!;
    if (pr.number === null) {
      this.db.prepare('UPDATE prs SET number = id WHERE id = ?').run(pr.id);
      return this.getPr(input.task_id)!;
    }
    return pr;
  }

  getPr(taskId: number): PrRow | null {
    const row = this.db.prepare('SELECT * FROM prs WHERE task_id = ?').get(taskId);
    return row === undefined ? null : PrRow.parse(row);
  }

  allPrs(): PrRow[] {
    return parseRows(PrRow, this.db.prepare('SELECT * FROM prs ORDER BY id').all());
  }

  openPrs(forge: string): PrRow[] {
    return parseRows(PrRow, this.db.prepare(`SELECT * FROM prs WHERE forge = ? AND state = 'open' ORDER BY id`).all(forge));
  }

  updatePr(taskId: number, patch: Partial<Pick<PrRow, 'state' | 'head_sha' | 'closed_at' | 'url' | 'number'>>): void {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    this.db.prepare(`UPDATE prs SET ${entries.map(([column]) => `${column} = ?`).join(', ')} WHERE task_id = ?`).run(...entries.map(([, v]) => v ?? null), taskId);
  }

  // ---- notifications (an outbox: enqueued with the state change, sent by the daemon) ----

  private enqueueNotification(taskId: number, dedupe: string, channels: readonly string[], message: NotificationInput, now: number): void {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO notifications (key, task_id, event, channel, title, body, click_url, next_attempt_at, created_at, attachments)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const channel of channels) {
      insert.run(`${dedupe}:${channel}`, taskId, message.event, channel, message.title, message.body, message.click_url ?? null, now, now, JSON.stringify(message.attachments ?? []));
    }
  }

  /** What is due, oldest first; `channel`: only that channel's (each channel is delivered in its own lane). */
  dueNotifications(limit = 50, channel?: string): NotificationRow[] {
    if (channel !== undefined) {
      return parseRows(NotificationRow, this.db.prepare(`SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? AND channel = ? ORDER BY id LIMIT ?`).all(this.now(), channel, limit));
    }
    return parseRows(NotificationRow, this.db.prepare(`SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`).all(this.now(), limit));
  }

  markNotificationSent(id: number): void {
    this.db.prepare(`UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`).run(this.now(), id);
  }

  /** `retryInMs` null: give up on this row. */
  markNotificationFailed(id: number, error: string, retryInMs: number | null): void {
    this.db
      .prepare(`UPDATE notifications SET attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?`)
      .run(error, retryInMs === null ? 'failed' : 'pending', retryInMs === null ? null : this.now() + retryInMs, id);
  }

  /** Every review attempt with its task's state now: what `swarm stats` reads about the reviewers. */
  reviewRows(): { task_id: number; task_state: string; reviewer: string; n: number; report: string | null }[] {
    const rows = this.db.prepare(`SELECT a.task_id AS task_id, t.state AS task_state, a.agent AS reviewer, a.n AS n, a.report AS report FROM attempts a JOIN tasks t ON t.id = a.task_id WHERE a.kind = 'review' ORDER BY a.id`).all();
    return z.array(z.object({ task_id: z.number().int(), task_state: z.string(), reviewer: z.string(), n: z.number().int(), report: z.string().nullable() })).parse(rows);
  }

  notifications(taskId?: number): NotificationRow[] {
    const rows =
      taskId === undefined
        ? this.db.prepare('SELECT * FROM notifications ORDER BY id').all()
        : this.db.prepare('SELECT * FROM notifications WHERE task_id = ? ORDER BY id').all(taskId);
    return parseRows(NotificationRow, rows);
  }
}
