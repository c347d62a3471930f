/**
 * Pure: the Test Anything Protocol (node --test --test-reporter=tap, tap --reporter=tap, ava --tap, and any
 * other TAP producer). Machine-readable, so preferred: each `not ok` with its YAML diagnostics. Subtests are
 * printed before their parent, so a failing parent is recognised by the failures nested under it, and only
 * the leaves count as failing tests.
 */
import { parse } from 'yaml';
import { cleanMessage, crashLine, findings, firstProjectFrame, indentOf, locationOf, looksLikeFile, relPath, type FailedTest, type Recogniser } from './types.js';

const NOT_OK = /^(\s*)not ok \d+(?: -)? ?(.*?)(?:\s+#\s*(.*))?$/;

function diagnostics(lines: readonly string[], start: number, indent: number): { data: Record<string, unknown>; end: number } {
  const open = lines[start];
  if (open === undefined || open.trim() !== '---' || indentOf(open) < indent) return { data: {}, end: start };
  const body: string[] = [];
  const pad = indentOf(open);
  let i = start + 1;
  for (; i < lines.length && !(lines[i]!.trim() === '...' && indentOf(lines[i]!) === pad); i++) body.push(lines[i]!.slice(pad));
  try {
    const data: unknown = parse(body.join('\n'));
    return { data: data && typeof data === 'object' ? (data as Record<string, unknown>) : {}, end: i };
  } catch {
    return { data: {}, end: i };
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : value === null ? 'null' : undefined);

/** The assertion in words from whatever fields this producer writes. */
function messageOf(data: Record<string, unknown>, root?: string): string[] {
  const out: string[] = [];
  const error = text(data.error) ?? text(data.message);
  const kind = text(data.name);
  if (error?.trim()) out.push(...`${kind && !error.startsWith(kind) ? `${kind}: ` : ''}${error}`.split('\n'));
  else if (kind) out.push(`${kind}${text(data.assertion) ? ` (${text(data.assertion)})` : ''}`);
  if ('expected' in data && 'actual' in data) out.push(`expected: ${JSON.stringify(data.expected)}, actual: ${JSON.stringify(data.actual)}`);
  const details = data.details;
  if (details && typeof details === 'object') for (const [label, value] of Object.entries(details)) out.push(label.replace(/:$/, ':'), ...(text(value) ?? '').split('\n'));
  const diff = text(data.diff);
  if (diff) out.push(...diff.split('\n').filter((l) => !/^@@ /.test(l)));
  return cleanMessage(out, root);
}

function locationFrom(data: Record<string, unknown>, root?: string): string | undefined {
  const stack = text(data.stack);
  const fromStack = stack ? firstProjectFrame(stack.split('\n'), root) : undefined;
  if (fromStack) return fromStack;
  const at = data.at;
  if (at && typeof at === 'object' && 'fileName' in at && 'lineNumber' in at) return `${relPath(String(at.fileName), root)}:${String(at.lineNumber)}`;
  if (typeof at === 'string') return firstProjectFrame([at.replace(/\n/g, ' ')], root);
  const location = text(data.location);
  return location ? locationOf(location, root) : undefined;
}

export const tap: Recogniser = (lines, root) => {
  if (!lines.some((l) => /^\s*TAP version \d+$/.test(l))) return null;
  const leaves: (FailedTest & { indent: number })[] = [];
  const crash: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = NOT_OK.exec(lines[i]!);
    if (!m || /^(TODO|SKIP)\b/i.test(m[3] ?? '')) continue;
    const indent = m[1]!.length;
    const { data, end } = diagnostics(lines, i + 1, indent);
    const children = leaves.filter((l) => l.indent > indent);
    const name = m[2]!.trim();
    if (children.length) {
      // A parent: its failing children get its name in front (a file's name stays out: it is their location).
      for (const child of children) {
        child.indent = indent;
        if (!looksLikeFile(name)) child.name = `${name} › ${child.name}`;
      }
      i = end;
      continue;
    }
    if (looksLikeFile(name) && ('exitCode' in data || 'signal' in data)) {
      crash.push(`${relPath(name, root)} could not run: ${crashLine(lines.slice(0, i), root) ?? `it exited with code ${text(data.exitCode) ?? '?'}`}`);
      i = end;
      continue;
    }
    const location = locationFrom(data, root);
    leaves.push({ indent, name, ...(location ? { location } : {}), message: messageOf(data, root) });
    i = end;
  }
  const tests = leaves.map(({ indent: _indent, ...test }) => test);
  return findings('tap', tests, { summary: lines.filter((l) => /^# (tests|pass|fail) \d+$/.test(l) || /^# \{ total: \d+/.test(l)), ...(crash.length ? { crash } : {}) });
};
