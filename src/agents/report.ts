import * as z from 'zod';
import { stripAnsi } from '../../monitor/evidence/terminal.js';

/**
 * What an agent said about its own run, where its CLI prints it. Every field is optional: CLIs differ.
 * `input_tokens` is every input token the model read, cached ones included (the CLIs disagree: Claude Code
 * and opencode print fresh and cached input apart, codex and gemini print the total); `cached_input_tokens`
 * is the part read from the provider's prompt cache. `cost_usd` is this attempt's own cost; where a CLI
 * prints the whole session's cost over a resume, that figure is `session_cost_usd`.
 */
export const AgentReport = z.object({
  final_message: z.string().optional(),
  session_id: z.string().optional(),
  input_tokens: z.number().optional(),
  cached_input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cost_usd: z.number().optional(),
  session_cost_usd: z.number().optional(),
});
export type AgentReport = z.infer<typeof AgentReport>;

/** The JSON objects printed one per line in a transcript (a pty may wrap nothing, but adds \r). */
export function jsonLines(transcript: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of stripAnsi(transcript).split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) out.push(value as Record<string, unknown>);
    } catch {
      // not JSON after all
    }
  }
  return out;
}

export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Claude Code `--output-format stream-json`: the last line is `{"type":"result", ...}`. */
export function parseClaude(transcript: string): AgentReport {
  const lines = jsonLines(transcript);
  const result = [...lines].reverse().find((l) => l.type === 'result');
  const init = lines.find((l) => l.type === 'system' && l.subtype === 'init');
  const usage = obj(result?.usage);
  const fresh = num(usage.input_tokens);
  const cacheRead = num(usage.cache_read_input_tokens) ?? 0;
  const cacheWrite = num(usage.cache_creation_input_tokens) ?? 0;
  const cost = num(result?.total_cost_usd);
  return {
    final_message: str(result?.result),
    session_id: str(result?.session_id) ?? str(init?.session_id),
    input_tokens: fresh === undefined ? undefined : fresh + cacheRead + cacheWrite,
    cached_input_tokens: fresh === undefined ? undefined : cacheRead,
    output_tokens: num(usage.output_tokens),
    // total_cost_usd covers the whole session, earlier resumed attempts included: see attemptCost.
    cost_usd: cost,
    session_cost_usd: cost,
  };
}

/**
 * Pure: this attempt's own cost when the CLI printed the session's running total and this attempt resumed
 * the previous attempt's session; otherwise the report as it is.
 */
export function attemptCost(report: AgentReport, previous: AgentReport | null): AgentReport {
  if (report.session_cost_usd === undefined || !previous?.session_id || previous.session_id !== report.session_id || previous.session_cost_usd === undefined) return report;
  return { ...report, cost_usd: Math.max(0, Math.round((report.session_cost_usd - previous.session_cost_usd) * 1e9) / 1e9) };
}

/** Codex `exec --json`: thread.started carries the id, turn.completed the usage, item.completed agent messages. */
export function parseCodex(transcript: string): AgentReport {
  const report: AgentReport = {};
  let input = 0;
  let cached = 0;
  let output = 0;
  let sawUsage = false;
  for (const line of jsonLines(transcript)) {
    if (line.type === 'thread.started') report.session_id = str(line.thread_id) ?? report.session_id;
    if (line.type === 'turn.completed') {
      // OpenAI's input_tokens already include the cached ones.
      const usage = obj(line.usage);
      input += num(usage.input_tokens) ?? 0;
      cached += num(usage.cached_input_tokens) ?? 0;
      output += num(usage.output_tokens) ?? 0;
      sawUsage = true;
    }
    const item = obj(line.item);
    if (line.type === 'item.completed' && item.type === 'agent_message') report.final_message = str(item.text) ?? report.final_message;
  }
  if (sawUsage) Object.assign(report, { input_tokens: input, cached_input_tokens: cached, output_tokens: output });
  return report;
}

/**
 * gemini `--output-format stream-json`: init has the session id, result the stats (input_tokens include the
 * cached ones). Assistant text arrives in chunks across turns; the final message is the last turn's text:
 * the chunks after the last tool call.
 */
export function parseGemini(transcript: string): AgentReport {
  const lines = jsonLines(transcript);
  const init = lines.find((l) => l.type === 'init');
  const result = [...lines].reverse().find((l) => l.type === 'result');
  const stats = obj(result?.stats);
  let turn: string[] = [];
  for (const line of lines) {
    if (line.type === 'tool_use' || line.type === 'tool_result') turn = [];
    if (line.type === 'message' && line.role === 'assistant') turn.push(str(line.content) ?? '');
  }
  const final = turn.join('').trim();
  return {
    session_id: str(init?.session_id) ?? str(init?.sessionId),
    final_message: final || undefined,
    input_tokens: num(stats.input_tokens) ?? num(stats.inputTokens),
    cached_input_tokens: num(stats.cached),
    output_tokens: num(stats.output_tokens) ?? num(stats.outputTokens),
  };
}

/** opencode `run --format json`: events carry sessionID; step_finish parts carry tokens and cost. */
export function parseOpencode(transcript: string): AgentReport {
  const report: AgentReport = {};
  let input = 0;
  let cached = 0;
  let output = 0;
  let cost = 0;
  let saw = false;
  for (const line of jsonLines(transcript)) {
    report.session_id = str(line.sessionID) ?? report.session_id;
    const part = obj(line.part);
    if (line.type === 'text' && str(part.text)) report.final_message = str(part.text);
    if (line.type === 'step_finish') {
      // opencode prints fresh input apart from cache reads and writes.
      const tokens = obj(part.tokens);
      const cache = obj(tokens.cache);
      input += (num(tokens.input) ?? 0) + (num(cache.read) ?? 0) + (num(cache.write) ?? 0);
      cached += num(cache.read) ?? 0;
      output += num(tokens.output) ?? 0;
      cost += num(part.cost) ?? 0;
      saw = true;
    }
  }
  if (saw) Object.assign(report, { input_tokens: input, cached_input_tokens: cached, output_tokens: output, cost_usd: cost });
  return report;
}

const K = (n: string, unit: string | undefined): number => Number(n) * (unit?.toLowerCase() === 'k' ? 1_000 : unit?.toLowerCase() === 'm' ? 1_000_000 : 1);

/** aider prints "Tokens: 4.2k sent, 312 received. Cost: $0.01 message, $0.03 session." after each reply. */
export function parseAider(transcript: string): AgentReport {
  const text = stripAnsi(transcript);
  const report: AgentReport = {};
  const tokenLines = [...text.matchAll(/Tokens:\s*([\d.]+)([kKmM]?)\s*sent,\s*([\d.]+)([kKmM]?)\s*received\.(?:\s*Cost:\s*\$([\d.]+)\s*message,\s*\$([\d.]+)\s*session)?/g)];
  if (tokenLines.length) {
    report.input_tokens = tokenLines.reduce((sum, m) => sum + K(m[1]!, m[2]), 0);
    report.output_tokens = tokenLines.reduce((sum, m) => sum + K(m[3]!, m[4]), 0);
    const last = tokenLines.at(-1)!;
    if (last[6]) report.cost_usd = Number(last[6]);
  }
  return report;
}

/** The built-in agent prints one machine-readable line when it ends. */
export const BUILTIN_REPORT_PREFIX = 'SWARM_AGENT_REPORT ';

export function parseBuiltin(transcript: string): AgentReport {
  const lines = stripAnsi(transcript).split('\n').filter((l) => l.startsWith(BUILTIN_REPORT_PREFIX));
  const last = lines.at(-1);
  if (!last) return {};
  try {
    const parsed = AgentReport.safeParse(JSON.parse(last.slice(BUILTIN_REPORT_PREFIX.length)));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}
