/**
 * The monitor's watch over hosts: each host's live sessions read ahead once per pass, a host that does not answer
 * (its tasks wait, no retry spent; told once per outage), a host gone past its gone_minutes (its running tasks
 * placed again here), and the agents left on it stopped once it answers. What to do is decided by `hostVerdict`
 * (pure, in decide.ts); this file only keeps time and acts.
 */
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import type { TaskRow } from '../registry/types.js';
import type { SwarmConfig } from '../src/config/schema.js';
import { hostSilentMessage, needsHelpMessage, placedAgainMessage } from '../src/notify/messages.js';
import type { Runners } from '../src/runners/runners.js';
import type { HostUnreachableError } from '../src/runners/errors.js';
import type { PodGoneError } from '../src/runners/kubernetes/cluster.js';
import { errorMessage } from '../src/errors.js';
import { worktreesRoot } from '../src/workspace/worktrees.js';
import { hostVerdict, podLostVerdict, POD_LOSSES_IN_A_ROW } from './decide.js';

/** A host silent this long is told about (once per outage), or at half its gone_minutes if sooner. */
const HOST_SILENT_NOTIFY_MS = 10 * 60_000;

export interface HostWatchDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  runners: Runners;
  channels: readonly string[];
  log: Logger;
  now: () => number;
  /** How much of each transcript a look reads. */
  lookBytes: number;
}

/** A session left on a gone host when its task was placed again elsewhere. */
export interface LeftBehind {
  task: number;
  host: string;
  dir: string;
}

/**
 * The sessions left on gone hosts and not stopped yet, from the task events that say so (`placed_again` with
 * the session left, `left_behind_stopped`): a daemon restarted meanwhile still stops them. Pure.
 */
export function leftBehindFrom(events: readonly { task_id: number; kind: string; data: string | null }[]): LeftBehind[] {
  const open = new Map<string, LeftBehind>();
  for (const event of events) {
    let data: { from?: unknown; left?: unknown; session?: unknown };
    try {
      data = JSON.parse(event.data ?? '{}') as typeof data;
    } catch {
      continue;
    }
    if (event.kind === 'placed_again' && typeof data.from === 'string' && typeof data.left === 'string') open.set(data.left, { task: event.task_id, host: data.from, dir: data.left });
    if (event.kind === 'left_behind_stopped' && typeof data.session === 'string') open.delete(data.session);
  }
  return [...open.values()];
}

export class HostWatch {
  /** Since when each host has not answered (by name). */
  private readonly down = new Map<string, number>();
  /** Tasks waiting for their host (said once each, until it answers). */
  private readonly waiting = new Set<number>();
  /** Outages already told (host and since when). */
  private readonly told = new Set<string>();
  /** Sessions left on a host that was gone (their tasks placed again here): stopped once it answers. */
  private leftBehind: LeftBehind[];

  constructor(private readonly deps: HostWatchDeps) {
    // Those an earlier daemon placed again and did not get to stop are this one's to stop.
    this.leftBehind = leftBehindFrom(deps.registry.eventsOfKind(['placed_again', 'left_behind_stopped']));
  }

  downSince(name: string): number | null {
    return this.down.get(name) ?? null;
  }

  /**
   * Each host's live sessions (agents of running tasks, CI of tasks in CI) read in one round trip; the runner
   * answers this pass's looks from it. A host that does not answer: each task's own look says so in its turn.
   */
  async beginPass(): Promise<void> {
    const { registry, runners } = this.deps;
    const byHost = new Map<string, string[]>();
    for (const task of registry.listTasks(['running', 'agent_exited', 'ci_running'])) {
      if (task.host === null) continue;
      const attempt = registry.latestAttempt(task.id, task.state === 'ci_running' ? 'ci' : 'agent');
      if (attempt && attempt.n === task.attempt) byHost.set(task.host, [...(byHost.get(task.host) ?? []), attempt.session_dir]);
    }
    await Promise.all(
      [...byHost].map(async ([host, dirs]) => {
        try {
          await runners.for({ host }).lookAll(dirs, this.deps.lookBytes);
        } catch {
          // Unreachable or gone from the config: each task's own look says so in its turn.
        }
      }),
    );
    if (this.leftBehind.length) await this.stopLeftBehind();
  }

  /** The task's host did not answer: the task waits; told once per outage; placed again here once the host is gone. */
  trouble(task: TaskRow, err: HostUnreachableError): void {
    const { registry, config, log } = this.deps;
    const now = this.deps.now();
    const since = this.down.get(err.host) ?? now;
    this.down.set(err.host, since);
    if (!this.waiting.has(task.id)) {
      this.waiting.add(task.id);
      registry.recordEvent(task.id, 'host_unreachable', { host: err.host, why: err.message });
      log.warn({ task: task.id, host: err.host, error: err.message }, 'host unreachable; the task waits (no retry spent)');
    }
    const goneMinutes = config.hosts[err.host]?.gone_minutes ?? Infinity;
    const silent = now - since;
    if (silent >= Math.min(HOST_SILENT_NOTIFY_MS, (goneMinutes * 60_000) / 2) && !this.told.has(`${err.host}:${since}`)) {
      this.told.add(`${err.host}:${since}`);
      const count = registry.listTasks(['queued', 'running', 'agent_exited', 'pr_open', 'ci_running', 'reviewing', 'ready']).filter((t) => t.host === err.host).length;
      registry.transition(task.id, task.state, task.state, { event: 'host_silent', data: { host: err.host, silent_ms: silent }, notify: { dedupe: `host:${err.host}:${since}`, channels: this.deps.channels, message: hostSilentMessage(task, err.host, silent, count, goneMinutes) } });
    }
    if (hostVerdict(task.state, silent, goneMinutes * 60_000) === 'place_again') this.placeAgain(task, err.host, silent);
  }

  /** The task's host answered this pass: a wait for it ends. */
  answered(task: TaskRow): void {
    if (!this.waiting.delete(task.id)) return;
    const since = this.down.get(task.host!);
    this.down.delete(task.host!);
    this.deps.registry.recordEvent(task.id, 'host_back', { host: task.host, ...(since !== undefined ? { after_ms: this.deps.now() - since } : {}) });
  }

  /** The task's host is gone: the attempt there is written off (no retry counted) and the task queued here, on its branch as fetched so far. */
  private placeAgain(task: TaskRow, host: string, silentMs: number): void {
    const { registry, config, repoRoot, log } = this.deps;
    const attempt = registry.latestAttempt(task.id, 'agent');
    if (attempt && attempt.ended_at === null) registry.updateAttempt(attempt.id, { ended_at: this.deps.now(), outcome: 'host_lost' });
    const moved = registry.transition(task.id, 'running', 'queued', {
      event: 'placed_again',
      data: { from: host, to: 'local', silent_ms: silentMs, ...(attempt ? { left: attempt.session_dir } : {}) },
      patch: { host: null, worktree: join(worktreesRoot(config, repoRoot), basename(task.worktree)), not_before: null },
      notify: { dedupe: `${task.id}:placed_again:${task.attempt}`, channels: this.deps.channels, message: placedAgainMessage(task, host, silentMs) },
    });
    if (!moved) return;
    this.waiting.delete(task.id);
    log.warn({ task: task.id, host }, 'host gone; task placed again on this machine');
    if (attempt) this.leftBehind.push({ task: task.id, host, dir: attempt.session_dir });
  }

  /**
   * The task's pod is gone (evicted, its node lost, deleted): nothing the agent did. The attempt is written off
   * (no retry counted) and the task queued again on the same cluster: a new pod starts from its branch as
   * last pushed to the forge.
   */
  podGone(task: TaskRow, err: PodGoneError): void {
    const { registry, log } = this.deps;
    const attempt = registry.latestAttempt(task.id, 'agent');
    if (attempt && attempt.ended_at === null) registry.updateAttempt(attempt.id, { ended_at: this.deps.now(), outcome: 'pod_lost' });
    // Losses since you last retried it by hand: the same pod killed every time (its memory) is the task's.
    const retried = registry.events(task.id).filter((e) => e.kind === 'retry').at(-1)?.at ?? 0;
    const outcomes = registry.attempts(task.id).filter((a) => a.kind === 'agent' && a.started_at >= retried).map((a) => a.outcome);
    if (podLostVerdict(outcomes) === 'needs_help') {
      const reason = `Its pod on cluster ${task.host} was lost ${POD_LOSSES_IN_A_ROW} times in a row; the last time: ${err.message} If the cluster ended it for memory (OOMKilled), raise kubernetes.${task.host}.resources.limits.memory; then \`swarm retry ${task.id}\`.`;
      registry.transition(task.id, task.state, 'needs_help', { event: 'needs_help', data: { reason: 'pod_lost', summary: reason }, patch: { reason }, notify: { dedupe: `${task.id}:needs_help:${task.attempt}`, channels: task.fanout_of === null ? this.deps.channels : [], message: needsHelpMessage(task, reason) } });
      log.warn({ task: task.id, pod: err.pod, why: err.message }, 'pod lost again; the task needs a human');
      return;
    }
    if (registry.transition(task.id, task.state, 'queued', { event: 'placed_again', data: { from: task.host, to: task.host, why: err.message }, patch: { not_before: null } })) {
      log.warn({ task: task.id, pod: err.pod, why: err.message }, 'pod gone; task placed again on its cluster (no retry spent)');
    }
  }

  /** A task now waiting on a human lets its runner rest what it holds there (a cluster's sandbox scaled to zero). */
  async rest(task: TaskRow): Promise<void> {
    if (task.host === null) return;
    try {
      const runner = this.deps.runners.for(task);
      if (!runner.rest) return;
      // An agent still live (waiting on a question, say) is the human's to look at: nothing rests under it.
      const attempt = this.deps.registry.latestAttempt(task.id, 'agent');
      if (attempt && attempt.n === task.attempt && (await runner.look(attempt.session_dir, 0)).live.kind === 'running') return;
      const what = await runner.rest(task);
      if (what) this.deps.registry.recordEvent(task.id, 'rested', { host: task.host, what });
    } catch (err) {
      this.deps.log.warn({ task: task.id, host: task.host, error: errorMessage(err) }, 'could not let the task\'s place rest; it is kept as it is');
    }
  }

  private async stopLeftBehind(): Promise<void> {
    const still: typeof this.leftBehind = [];
    for (const left of this.leftBehind) {
      try {
        // A host taken out of the config cannot be reached: let go (a daemon started with it back tries again).
        if (!this.deps.config.hosts[left.host]) continue;
        const survivors = await this.deps.runners.for({ host: left.host }).stop(left.dir);
        this.deps.registry.recordEvent(left.task, 'left_behind_stopped', { host: left.host, session: left.dir, ...(survivors?.length ? { survivors } : {}) });
      } catch {
        still.push(left);
      }
    }
    this.leftBehind = still;
  }
}
