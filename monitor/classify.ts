/**
 * Pure: why an agent's attempt ended badly, from its exit and its own output. Three classes:
 * - task: the work went wrong (respawn with evidence, counts a retry);
 * - transient: rate limit, overload, 5xx, network (wait with backoff, no retry counted);
 * - fault: the agent cannot work at all here (bad flag, auth, quota, root, untrusted folder, missing binary,
 *   or the same fast failure twice): needs a human at once.
 * Each rule has a row, taken from the real CLIs' output, in tests/monitor/classify.test.ts.
 */
import { jsonLines, num, obj, str } from '../src/agents/report.js';
import { stripAnsi } from './evidence.js';

export type FailureClass = 'task' | 'transient' | 'fault';

export interface ExitFailure {
  class: FailureClass;
  /** Short words for the cause ("rate limited (HTTP 429)", "unknown command-line flag"). */
  cause: string;
  /** The decisive line of output, as the agent printed it. */
  line: string;
}

export interface ExitInput {
  exit_code: number | null;
  signal: string | null;
  /** How long the attempt ran. */
  duration_ms: number;
  /** The end of the transcript (raw: ANSI is stripped here). */
  output: string;
  /** The previous attempt's failure, when it also failed fast. */
  previous?: { line: string; fast: boolean } | null;
}

/** An attempt that ends within this is "fast": twice fast with the same line is a fault, not bad luck. */
export const FAST_FAILURE_MS = 30_000;

interface Rule {
  pattern: RegExp;
  class: Exclude<FailureClass, 'task'>;
  cause: string;
}

/** Checked in order; the first match wins. Faults first: "401" inside a retry message is still auth. */
const TEXT_RULES: readonly Rule[] = [
  { pattern: /cannot be used with root\/sudo privileges/i, class: 'fault', cause: 'refuses to run as root' },
  { pattern: /not running in a trusted directory|folder is not trusted|untrusted (folder|workspace)/i, class: 'fault', cause: 'the worktree is not trusted by the CLI' },
  { pattern: /unexpected argument '[^']+' found|unknown option '?-|unknown (argument|flag)s?:?\s|unrecognized (option|arguments?)|Unknown arguments?:/i, class: 'fault', cause: 'unknown command-line flag' },
  { pattern: /insufficient_quota|exceeded your current quota|credit balance is too low|billing (hard )?limit|out of credits/i, class: 'fault', cause: 'quota or billing exhausted' },
  { pattern: /invalid (x-)?api[- ]key|incorrect api key|api key not valid|authentication[_ ](error|failed)|\b401\b.*unauthori[sz]ed|unauthori[sz]ed.*\b401\b|please run \/login|not logged in|invalid auth method|must specify the \w+_API_KEY|OAuth token has expired|permission_error|\b403\b.*forbidden/i, class: 'fault', cause: 'authentication failed' },
  { pattern: /: command not found$|spawn \S+ ENOENT|execvp\b.*No such file or directory|cannot execute binary/i, class: 'fault', cause: 'a program it needs is missing' },
  { pattern: /\bHTTP 429\b|\b429\b|rate[_ ]limit|too many requests|RESOURCE_EXHAUSTED/i, class: 'transient', cause: 'rate limited' },
  { pattern: /\b529\b|overloaded/i, class: 'transient', cause: 'the provider is overloaded' },
  { pattern: /\bHTTP 5\d\d\b|\b50[0234]\b.*(error|unavailable|gateway)|internal server error|service unavailable|bad gateway|gateway time-?out|\bUNAVAILABLE\b/i, class: 'transient', cause: 'the provider had a server error' },
  { pattern: /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|socket hang up|fetch failed|stream disconnected|connection (error|refused|reset)|could not connect|network (error|is unreachable)|waiting for network|Reconnecting\.\.\./i, class: 'transient', cause: 'the network or the provider was unreachable' },
];

function byStatus(status: number): Omit<Rule, 'pattern'> | null {
  if (status === 401 || status === 403) return { class: 'fault', cause: `authentication failed (HTTP ${status})` };
  if (status === 402) return { class: 'fault', cause: 'quota or billing exhausted (HTTP 402)' };
  if (status === 429) return { class: 'transient', cause: 'rate limited (HTTP 429)' };
  if (status === 529) return { class: 'transient', cause: 'the provider is overloaded (HTTP 529)' };
  if (status === 408 || status >= 500) return { class: 'transient', cause: `the provider had a server error (HTTP ${status})` };
  return null;
}

function textRule(line: string): Omit<Rule, 'pattern'> | null {
  const rule = TEXT_RULES.find((r) => r.pattern.test(line));
  return rule ? { class: rule.class, cause: rule.cause } : null;
}

/** The CLIs' own structured error reports: the line to show and the HTTP status when they give one. */
function structuredError(output: string): { line: string; status: number | null } | null {
  let found: { line: string; status: number | null } | null = null;
  for (const event of jsonLines(output)) {
    // Claude Code: the result says is_error, with api_error_status.
    if (event.type === 'result' && event.is_error === true) {
      found = { line: str(event.result) ?? str(event.subtype) ?? 'error result', status: num(event.api_error_status) ?? null };
    }
    // codex: turn.failed / error events (not item.completed errors, which are warnings).
    if (event.type === 'turn.failed') found = { line: str(obj(event.error).message) ?? 'turn failed', status: null };
    if (event.type === 'error' && str(event.message)) found = { line: str(event.message)!, status: null };
    // gemini: a result with status error.
    if (event.type === 'result' && event.status === 'error') found = { line: str(obj(event.error).message) ?? 'error', status: null };
    // opencode: {"type":"error","error":{"name":"APIError","data":{"message","statusCode"}}}
    if (event.type === 'error' && event.error) {
      const data = obj(obj(event.error).data);
      found = { line: str(data.message) ?? str(obj(event.error).name) ?? 'error', status: num(data.statusCode) ?? null };
    }
  }
  if (found && found.status === null) {
    const m = /\b(?:status|code)["':\s]*(\d{3})\b|\b(\d{3}) (?:Unauthorized|Forbidden|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable)/i.exec(found.line);
    const status = m ? Number(m[1] ?? m[2]) : NaN;
    if (Number.isFinite(status)) found.status = status;
  }
  return found;
}

const BUILTIN_REPORT = /^SWARM_AGENT_REPORT /;
/** Lines that end a crash report but say nothing (node's version footer, a caret under a source line). */
const NOISE = /^(Node\.js v\d+\S*|\^+|Error: process exited.*)$/;
const ERRORISH = /\b(\w*Error|ERROR|error|fatal|FATAL|panic(ked)?|Exception|Traceback|failed)\b/;

/**
 * Pure: node's dump of a failed child process (execFileSync's error object) made readable: its stdout and
 * stderr, printed by node as byte values (`stdout: Buffer(57) [Uint8Array] [ 110, 111, ... ]` or
 * `<Buffer 6e 6f ...>`), decoded back to their lines; the duplicate `output: [...]` array and the
 * status/signal/pid fields dropped; empty streams gone. "nothing to commit, working tree clean" was only
 * there as numbers.
 */
export function readableNodeDump(text: string): string {
  const decode = (bytes: number[], more: boolean, stream: string, indent: string): string => {
    const lines = Buffer.from(bytes).toString('utf8').split('\n').map((l) => l.trimEnd()).filter(Boolean);
    return [...lines.map((l) => `${indent}${stream}: ${l}`), ...(more ? [`${indent}${stream}: …`] : [])].join('\n');
  };
  let out = text.replace(/^(\s*)(stdout|stderr): Buffer\(\d+\) \[Uint8Array\] \[([\d,\s]*?)(\.\.\. \d+ more items?\s*)?\],?$/gm, (_, indent: string, stream: string, body: string, more?: string) => decode(body.split(/[,\s]+/).filter(Boolean).map(Number), more !== undefined, stream, indent));
  out = out.replace(/^(\s*)(stdout|stderr): <Buffer ([0-9a-f ]*?)( \.\.\. \d+ more bytes)?>,?$/gm, (_, indent: string, stream: string, hex: string, more?: string) => decode(hex.split(' ').filter(Boolean).map((h) => Number.parseInt(h, 16)), more !== undefined, stream, indent));
  const kept: string[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const array = /^(\s*)output: \[$/.exec(line);
    if (array) {
      while (i + 1 < lines.length && !new RegExp(`^${array[1]}\\],?$`).test(lines[i + 1]!)) i++;
      i++;
      continue;
    }
    if (/^\s*(status: \d+|signal: (null|'\w+')|pid: \d+|output: \[.*\]),?$/.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n');
}

function lastLines(output: string, n: number): string[] {
  return readableNodeDump(stripAnsi(output))
    .split('\n')
    .map((l) => l.trim())
    // JSON lines are the CLI's event stream (tool output included): their errors are read structurally above.
    .filter((l) => l !== '' && !l.startsWith('at ') && l !== '}' && !(l.startsWith('{') && l.endsWith('}')) && !BUILTIN_REPORT.test(l) && !NOISE.test(l))
    .slice(-n);
}

export function classifyExit(input: ExitInput): ExitFailure {
  const lines = lastLines(input.output, 20);
  const structured = structuredError(input.output);
  let verdict: ExitFailure | null = null;
  if (structured) {
    const rule = (structured.status !== null ? byStatus(structured.status) : null) ?? textRule(structured.line);
    if (rule) verdict = { ...rule, line: structured.line };
  }
  if (!verdict) {
    // Plain text: the first line (from the end) that a rule knows; faults win over transient trouble.
    const matches = [...lines].reverse().flatMap((line) => {
      const rule = textRule(line);
      return rule ? [{ ...rule, line }] : [];
    });
    // A bare "status: 429" says less than the line that carries the message: prefer lines with words.
    const telling = matches.filter((m) => m.line.length >= 20);
    verdict = matches.find((m) => m.class === 'fault') ?? telling[0] ?? matches[0] ?? null;
  }
  if (!verdict && (input.exit_code === 127 || input.exit_code === 126)) {
    verdict = { class: 'fault', cause: input.exit_code === 127 ? 'a program it needs is missing (exit 127)' : 'a program could not be executed (exit 126)', line: lines.at(-1) ?? '' };
  }
  // For a plain crash, the line that names the error says more than the last one.
  let line = verdict?.line ?? structured?.line ?? [...lines].reverse().find((l) => ERRORISH.test(l)) ?? lines.at(-1) ?? '';
  // A command that failed: what it printed says why ("git commit" failing: "nothing to commit, working tree clean").
  if (!verdict && /^Error: Command failed: /.test(line)) {
    const said = lines.slice(lines.indexOf(line) + 1).filter((l) => /^(stdout|stderr): /.test(l) && !/^(stdout|stderr): …$/.test(l));
    const decisive = said.find((l) => l.startsWith('stderr: ')) ?? said.at(-1);
    if (decisive) line = `${line} (${decisive.replace(/^(stdout|stderr): /, '')})`;
  }
  const fast = input.duration_ms < FAST_FAILURE_MS;
  if (!verdict && fast && input.previous?.fast && input.previous.line === line && line !== '') {
    return { class: 'fault', cause: 'the same fast failure twice', line };
  }
  return verdict ?? { class: 'task', cause: input.signal ? `killed by ${input.signal}` : `exit code ${String(input.exit_code)}`, line };
}

/** Capped exponential backoff: base, 2x base, 4x base, ... never above max. Pure. */
export function backoffMs(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n));
}

const RECONNECT = /Reconnecting|waiting for network|Retrying with backoff|retrying in \d|stream disconnected|"subtype":"api_retry"|connection (lost|error).*retry/i;

/**
 * When an agent's latest output is nothing but reconnect/retry lines (no model reply), the last such line;
 * else null. Pure: the monitor times how long this stays true.
 */
export function reconnectOnly(tail: string): string | null {
  const lines = stripAnsi(tail)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at ') && l !== '}' && !/^status: \d+$/.test(l))
    .slice(-2);
  if (lines.length === 0 || !lines.every((l) => RECONNECT.test(l))) return null;
  return lines.at(-1)!.slice(0, 300);
}
