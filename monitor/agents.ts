/**
 * What the monitor sees of a task's agent session in one look: starting, running (or only reconnecting),
 * lost, or exited with how it failed; at exit, the attempt row written with what the agent reported.
 */
import type { Registry } from '../registry/registry.js';
import { Evidence, type TaskRow } from '../registry/types.js';
import type { SwarmConfig } from '../src/config/schema.js';
import { ADAPTERS } from '../src/agents/registry.js';
import { AgentReport, attemptCost } from '../src/agents/report.js';
import type { Runners } from '../src/runners/runners.js';
import { classifyExit, FAST_FAILURE_MS, readableNodeDump, reconnectOnly } from './classify.js';
import type { SessionFacts } from './decide.js';
import { stripAnsi, tail } from './evidence.js';

export interface AgentWatchDeps {
  config: SwarmConfig;
  registry: Registry;
  runners: Runners;
  now: () => number;
  /** How much of the transcript's end a look reads. */
  lookBytes: number;
}

function transcriptTail(text: string): string {
  // A node dump's byte values said as the text they were.
  return tail(readableNodeDump(stripAnsi(text)).split('\n'), 40, 3_000);
}

export class AgentWatch {
  /** Per attempt: since when its output has been only reconnect lines (a timer; a restart just restarts it). */
  private readonly reconnecting = new Map<number, number>();

  constructor(private readonly deps: AgentWatchDeps) {}

  async observe(task: TaskRow): Promise<SessionFacts> {
    const attempt = this.deps.registry.latestAttempt(task.id, 'agent');
    if (!attempt || attempt.n !== task.attempt) return { kind: 'none' };
    const runner = this.deps.runners.for(task);
    // One look per pass: liveness, last output and the transcript's end together (on a host, read ahead for all
    // its sessions at the start of the pass: one round trip per host, not one per task).
    const view = await runner.look(attempt.session_dir, this.deps.lookBytes);
    const live = view.live;
    switch (live.kind) {
      case 'starting':
        return { kind: 'starting', started_at: attempt.started_at };
      case 'running': {
        const line = reconnectOnly(view.tail.slice(-8 * 1024));
        if (!line) {
          this.reconnecting.delete(attempt.id);
          return { kind: 'running', started_at: attempt.started_at, last_output_at: view.last_output_at };
        }
        const since = this.reconnecting.get(attempt.id) ?? this.deps.now();
        this.reconnecting.set(attempt.id, since);
        return { kind: 'reconnecting', started_at: attempt.started_at, for_ms: this.deps.now() - since, line };
      }
      case 'lost':
        return { kind: 'lost', log_tail: transcriptTail(view.tail) };
      case 'exited':
        if (attempt.ended_at === null) {
          this.deps.registry.updateAttempt(attempt.id, { ended_at: live.exit.ended_at, exit_code: live.exit.exit_code, signal: live.exit.signal, outcome: live.exit.exit_code === 0 ? 'exited' : 'crashed', report: await this.report(attempt.agent, attempt.session_dir, task) });
        }
        this.reconnecting.delete(attempt.id);
        const duration_ms = Math.max(0, live.exit.ended_at - attempt.started_at);
        const failure = live.exit.exit_code === 0 ? undefined : classifyExit({ exit_code: live.exit.exit_code, signal: live.exit.signal, duration_ms, output: view.tail, previous: this.previousFailure(task) });
        return { kind: 'exited', exit_code: live.exit.exit_code, signal: live.exit.signal, error: live.exit.error, log_tail: transcriptTail(view.tail), duration_ms, ...(failure ? { failure } : {}) };
    }
  }

  /** The previous attempt's decisive line and whether it failed fast: the same fast failure twice is a fault. */
  private previousFailure(task: TaskRow): { line: string; fast: boolean } | null {
    const previous = this.deps.registry.attempts(task.id).filter((a) => a.kind === 'agent' && a.n === task.attempt - 1).at(-1);
    if (!previous?.evidence) return null;
    const parsed = Evidence.safeParse(JSON.parse(previous.evidence));
    if (!parsed.success || !parsed.data.decisive_line) return null;
    return { line: parsed.data.decisive_line, fast: (parsed.data.duration_ms ?? Infinity) < FAST_FAILURE_MS };
  }

  /** What the agent said about its run (its own session id, tokens, cost), parsed once at exit. */
  private async report(agent: string, dir: string, task: TaskRow): Promise<string | null> {
    const type = this.deps.config.agents[agent]?.type;
    const parse = type ? ADAPTERS.get(type)?.parseReport : undefined;
    if (!parse) return null;
    try {
      const previous = this.deps.registry.attempts(task.id).filter((a) => a.kind === 'agent' && a.n === task.attempt - 1 && a.report).at(-1);
      const before = previous?.report ? AgentReport.safeParse(JSON.parse(previous.report)) : null;
      const { tail: transcript } = await this.deps.runners.for(task).look(dir, 4 * 1024 * 1024);
      const report = attemptCost(parse(transcript), before?.success ? before.data : null);
      return Object.keys(report).length ? JSON.stringify(report) : null;
    } catch {
      return null;
    }
  }
}
