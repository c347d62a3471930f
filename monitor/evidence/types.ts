/** What a recogniser reads out of a run, and the small path helpers they share. All pure. */

export interface FailedTest {
  /** Full name, suite › test. */
  name: string;
  /** file:line relative to the worktree, where the assertion (or else the test) is. */
  location?: string;
  /** The assertion: message, expected and actual; a few lines. */
  message: string[];
  /** Failures this entry stands for (a group of parametrizations at one assertion); 1 when absent. */
  count?: number;
}

export interface Findings {
  runner: string;
  tests: FailedTest[];
  /** Failing tests as the runner counted them (its summary), else the tests found. */
  failed: number;
  /** Compiler, type-checker and linter errors as `file:line: message`. */
  problems: string[];
  /** The run crashed before any test ran: what it said. */
  crash?: string[];
  /** The runner's summary line(s): "Tests 1 failed | 1 passed (2)". */
  summary: string[];
}

/** Reads one runner's output (rendered terminal lines); null when the output is not that runner's. */
export type Recogniser = (lines: readonly string[], root?: string) => Findings | null;

export function findings(runner: string, tests: FailedTest[], extra: Partial<Omit<Findings, 'runner' | 'tests'>> = {}): Findings {
  return { runner, tests, failed: extra.failed ?? tests.length, problems: extra.problems ?? [], summary: extra.summary ?? [], ...(extra.crash ? { crash: extra.crash } : {}) };
}

const GITHUB_WORKSPACE = /^\/home\/runner\/work\/[^/]+\/[^/]+\/|^[A-Z]:\\a\\[^\\]+\\[^\\]+\\/;

/** A path as the worktree sees it: no file:// scheme, no worktree (or GitHub workspace) prefix, no "./". */
export function relPath(path: string, root?: string): string {
  let p = path.replace(/^file:\/\//, '');
  if (root && p.startsWith(`${root}/`)) p = p.slice(root.length + 1);
  return p.replace(GITHUB_WORKSPACE, '').replace(/^\.\//, '');
}

/** Every worktree path inside a message made relative (file:///root/wt/src/a.js → src/a.js). */
export function relText(text: string, root?: string): string {
  let t = text;
  if (root) t = t.split(`file://${root}/`).join('').split(`${root}/`).join('');
  return t.replace(/file:\/\/(\/home\/runner\/work\/[^/\s]+\/[^/\s]+\/)?/g, '').replace(/\/home\/runner\/work\/[^/\s]+\/[^/\s]+\//g, '');
}

/** Project code, not a dependency or the runtime: what a location should point at. */
export function isProjectPath(path: string): boolean {
  return !path.startsWith('/') && !path.startsWith('node:') && !/(^|\/)(node_modules|site-packages|\.cargo|\.rustup|go\/pkg)\//.test(path) && !/^[a-z]+:/.test(path) && !path.startsWith('..') && !path.startsWith('<');
}

const FRAME = /(?:\(|\bat\s+|^\s*❯\s+|^\s*)((?:file:\/\/)?[^\s()'"]+?\.[A-Za-z]{1,5}):(\d+)(?::\d+)?\)?$/;

/** `file:line` of the first stack frame (or `path:line` mention) in project code, made relative. */
export function firstProjectFrame(lines: readonly string[], root?: string): string | undefined {
  for (const line of lines) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    const path = relPath(match[1]!, root);
    if (isProjectPath(path)) return `${path}:${match[2]}`;
  }
  return undefined;
}

/** `path:line:col` (or `path:line`) → `path:line`, relative. */
export function locationOf(text: string, root?: string): string | undefined {
  const match = /^((?:file:\/\/)?[^\s:()]+):(\d+)(?::\d+)?$/.exec(text.trim().replace(/^'|'$/g, ''));
  return match ? `${relPath(match[1]!, root)}:${match[2]}` : undefined;
}

// A diff header, and which sign marks the expected value: tap, mocha, ava, jest/vitest.
const DIFF_HEADERS: readonly [RegExp, RegExp | null, '-' | '+'][] = [
  [/^--- expected$/, /^\+\+\+ actual$/, '-'],
  [/^\+ expected - actual$/, null, '+'],
  [/^Difference \(- actual, \+ expected\):$/, null, '+'],
  [/^- Expected$/, /^\+ Received$/, '-'],
];

/** A one-value diff (header, one "-" line, one "+" line) said plainly: "expected: 5, actual: -1". */
export function simplifyDiff(lines: readonly string[]): string[] {
  for (let i = 0; i < lines.length; i++) {
    for (const [first, second, expectedSign] of DIFF_HEADERS) {
      if (!first.test(lines[i]!)) continue;
      const start = second ? (second.test(lines[i + 1] ?? '') ? i + 2 : -1) : i + 1;
      if (start === -1) continue;
      let end = start;
      while (end < lines.length && /^[-+]/.test(lines[end]!) && !/^(---|\+\+\+) /.test(lines[end]!)) end++;
      const body = lines.slice(start, end);
      const minus = body.filter((l) => l.startsWith('-'));
      const plus = body.filter((l) => l.startsWith('+'));
      if (minus.length !== 1 || plus.length !== 1) continue;
      const value = (l: string): string => l.slice(1).trim();
      const [expected, actual] = expectedSign === '-' ? [value(minus[0]!), value(plus[0]!)] : [value(plus[0]!), value(minus[0]!)];
      return [...lines.slice(0, i), `expected: ${expected}, actual: ${actual}`, ...simplifyDiff(lines.slice(end))];
    }
  }
  return [...lines];
}

/** Message lines: trimmed, blank lines and exact repeats dropped, one-value diffs said plainly, paths made relative. */
export function cleanMessage(lines: readonly string[], root?: string, max = 12): string[] {
  const out: string[] = [];
  for (const raw of simplifyDiff(lines.map((l) => l.trim()).filter((l) => l !== ''))) {
    const line = relText(raw.trim(), root);
    if (line === '' || out.includes(line)) continue;
    out.push(line);
    if (out.length >= max) break;
  }
  return out;
}

export function isStackLine(line: string): boolean {
  return /^\s*at\s\S/.test(line) || /^\s*❯ \S+:\d+:\d+$/.test(line);
}

export function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

export function firstNumber(lines: readonly string[], pattern: RegExp): number | undefined {
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match?.[1]) return Number.parseInt(match[1], 10);
  }
  return undefined;
}

/** A test name that is really a file (a test file that could not run): belongs in the location, not the name. */
export function looksLikeFile(name: string): boolean {
  return /^(?:file:\/\/)?[^\s]*\/?[^\s/]+\.(?:[cm]?[jt]sx?|py|go|rs|rb)$/.test(name.trim());
}

/** `actual: -1` / `expected: 5` from node's printed error object, as one line. */
export function expectedActual(block: readonly string[]): string[] {
  const value = (key: string): string | undefined => block.map((l) => new RegExp(`^\\s*${key}: (.+?),?$`).exec(l)?.[1]).find((v) => v !== undefined);
  const expected = value('expected');
  const actual = value('actual');
  return expected !== undefined && actual !== undefined ? [`expected: ${expected}, actual: ${actual}`] : [];
}

/** The error line a crashed file printed (Error [ERR_MODULE_NOT_FOUND]: Cannot find module …). */
export function crashLine(lines: readonly string[], root?: string): string | undefined {
  const line = lines.find((l) => /^\s*(?:\w+\.)?\w*(?:Error|Exception)\b(?: \[\w+\])?: \S/.test(l));
  return line ? relText(line.trim(), root) : undefined;
}
