import { z } from 'zod';
import { stripAnsi } from '../../monitor/evidence.js';

/** What an agent said about its own run, where its CLI prints it. Every field is optional: CLIs differ. */
export const AgentReport = z.object({
  final_message: z.string().optional(),
  session_id: z.string().optional(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cost_usd: z.number().optional(),
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
  return {
    final_message: str(result?.result),
    session_id: str(result?.session_id) ?? str(init?.session_id),
    input_tokens: num(usage.input_tokens),
    output_tokens: num(usage.output_tokens),
    cost_usd: num(result?.total_cost_usd),
  };
}

/** Codex `exec --json`: thread.started carries the id, turn.completed the usage, item.completed agent messages. */
export function parseCodex(transcript: string): AgentReport {
  const report: AgentReport = {};
  let input = 0;
  let output = 0;
  let sawUsage = false;
  for (const line of jsonLines(transcript)) {
    if (line.type === 'thread.started') report.session_id = str(line.thread_id) ?? report.session_id;
    if (line.type === 'turn.completed') {
      const usage = obj(line.usage);
      input += num(usage.input_tokens) ?? 0;
      output += num(usage.output_tokens) ?? 0;
      sawUsage = true;
    }
    const item = obj(line.item);
    if (line.type === 'item.completed' && item.type === 'agent_message') report.final_message = str(item.text) ?? report.final_message;
  }
  if (sawUsage) Object.assign(report, { input_tokens: input, output_tokens: output });
  return report;
}

/** gemini `--output-format stream-json`: init has the session id, result the stats. */
export function parseGemini(transcript: string): AgentReport {
  const lines = jsonLines(transcript);
  const init = lines.find((l) => l.type === 'init');
  const result = [...lines].reverse().find((l) => l.type === 'result');
  const stats = obj(result?.stats);
  const messages = lines.filter((l) => l.type === 'message' && l.role === 'assistant').map((l) => str(l.content) ?? '');
  return {
    session_id: str(init?.session_id) ?? str(init?.sessionId),
    final_message: messages.length ? messages.join('') : undefined,
    input_tokens: num(stats.input_tokens) ?? num(stats.inputTokens),
    output_tokens: num(stats.output_tokens) ?? num(stats.outputTokens),
  };
}

/** opencode `run --format json`: events carry sessionID; step_finish parts carry tokens and cost. */
export function parseOpencode(transcript: string): AgentReport {
  const report: AgentReport = {};
  let input = 0;
  let output = 0;
  let cost = 0;
  let saw = false;
  for (const line of jsonLines(transcript)) {
    report.session_id = str(line.sessionID) ?? report.session_id;
    const part = obj(line.part);
    if (line.type === 'text' && str(part.text)) report.final_message = str(part.text);
    if (line.type === 'step_finish') {
      const tokens = obj(part.tokens);
      input += num(tokens.input) ?? 0;
      output += num(tokens.output) ?? 0;
      cost += num(part.cost) ?? 0;
      saw = true;
    }
  }
  if (saw) Object.assign(report, { input_tokens: input, output_tokens: output, cost_usd: cost });
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
