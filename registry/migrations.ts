/** Append-only: each entry moves the schema from version i to i+1 (PRAGMA user_version). Never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    agent TEXT NOT NULL,
    model TEXT,
    kind TEXT,
    state TEXT NOT NULL,
    base TEXT NOT NULL,
    branch TEXT NOT NULL,
    worktree TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL,
    evidence TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    pr_at INTEGER,
    ready_at INTEGER,
    done_at INTEGER
  );
  CREATE INDEX tasks_state ON tasks(state);
  CREATE UNIQUE INDEX tasks_branch ON tasks(branch);

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    agent TEXT NOT NULL,
    session_id TEXT NOT NULL UNIQUE,
    session_dir TEXT NOT NULL,
    prompt TEXT,
    holder_pid INTEGER,
    holder_start TEXT,
    child_pid INTEGER,
    child_start TEXT,
    head_sha TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    exit_code INTEGER,
    signal TEXT,
    outcome TEXT,
    evidence TEXT
  );
  CREATE INDEX attempts_task ON attempts(task_id, n);

  CREATE TABLE prs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
    forge TEXT NOT NULL,
    number INTEGER,
    url TEXT,
    branch TEXT NOT NULL,
    base TEXT NOT NULL,
    head_sha TEXT,
    state TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER
  );

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    data TEXT
  );
  CREATE INDEX events_task ON events(task_id, id);

  CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    click_url TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
  );
  CREATE INDEX notifications_pending ON notifications(status, next_attempt_at);
  `,
  `
  ALTER TABLE attempts ADD COLUMN report TEXT;
  `,
  `
  ALTER TABLE prs ADD COLUMN node_id TEXT;
  `,
  `
  ALTER TABLE tasks ADD COLUMN depends_on TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE tasks ADD COLUMN plan_id TEXT;
  ALTER TABLE tasks ADD COLUMN source_key TEXT;
  ALTER TABLE tasks ADD COLUMN routing_note TEXT;
  CREATE UNIQUE INDEX tasks_source_key ON tasks(source_key) WHERE source_key IS NOT NULL;
  `,
  `
  ALTER TABLE tasks ADD COLUMN not_before INTEGER;
  ALTER TABLE tasks ADD COLUMN transient_waits INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN waited_ms INTEGER NOT NULL DEFAULT 0;
  `,
  `
  ALTER TABLE tasks ADD COLUMN verified_sha TEXT;
  `,
  `
  ALTER TABLE notifications ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
  `,
  `
  CREATE TABLE review_rounds (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    attempt INTEGER NOT NULL,
    head TEXT NOT NULL,
    ci_head TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT
  );
  CREATE INDEX review_rounds_task ON review_rounds(task_id, id);
  ALTER TABLE attempts ADD COLUMN round_id INTEGER;
  ALTER TABLE attempts ADD COLUMN model TEXT;
  `,
  `
  ALTER TABLE tasks ADD COLUMN host TEXT;
  `,
  `
  ALTER TABLE tasks ADD COLUMN fanout_of INTEGER;
  ALTER TABLE tasks ADD COLUMN fanout_size INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN chosen INTEGER;
  CREATE INDEX tasks_fanout_of ON tasks(fanout_of) WHERE fanout_of IS NOT NULL;
  `,
];
