/**
 * Pure: turns a CI run's terminal log (and any report files it wrote) into the evidence the next agent acts
 * on: each failing test once, with its full name, its assertion (expected and actual) and a file:line relative
 * to the worktree; compiler and linter errors as file:line: message; a crash before any test ran said in words;
 * and only then the smallest useful excerpt of the log. Runner by runner (monitor/evidence/*), with a generic
 * fallback for the rest.
 */
import { compilerProblems } from './evidence/compilers.js';
import { groupParametrized } from './evidence/group.js';
import { ava, jest, mocha, nodeDot, nodeSpec, tapReporter, uvu, vitest } from './evidence/js.js';
import { cargo, goTest, rspec, unittest } from './evidence/other.js';
import { pytest } from './evidence/pytest.js';
import { readReport } from './evidence/reports.js';
import { tap } from './evidence/tap.js';
import { renderTerminal, stripAnsi } from './evidence/terminal.js';
import { cleanMessage, firstProjectFrame, relText, type FailedTest, type Findings, type Recogniser } from './evidence/types.js';

export { stripAnsi, renderTerminal };
export type { FailedTest };

export interface FailureEvidence {
  /** Which runner(s) the output came from ("jest", "pytest"), or null when none was recognised. */
  runner: string | null;
  /** Failing tests as the runner counted them. */
  failed: number;
  tests: FailedTest[];
  /** Compiler/type/lint errors (file:line: message), a crash before tests ran, or (unrecognised output) the assertion-like lines. */
  problems: string[];
  /** The smallest useful excerpt of the log: the runner's summary when the tests were read, else its end. */
  log_tail: string;
}

export interface EvidenceOptions {
  /** The worktree the run was in: paths under it are made relative. */
  root?: string;
  /** Contents of report files the run wrote (JUnit XML, jest/vitest JSON): preferred to the log. */
  reports?: readonly string[];
  /** How many tests to keep (the count stays exact). */
  maxTests?: number;
  /** Lines and characters of log excerpt when nothing was recognised. */
  tailLines?: number;
  tailChars?: number;
}

const RECOGNISERS: readonly Recogniser[] = [tap, nodeSpec, nodeDot, vitest, jest, mocha, uvu, ava, tapReporter, pytest, unittest, goTest, cargo, rspec];
const MESSAGE_LINES = 8;

export function tail(lines: readonly string[], maxLines: number, maxChars: number): string {
  let out = lines.slice(-maxLines).join('\n');
  if (out.length > maxChars) out = `…${out.slice(out.length - maxChars)}`;
  return out;
}

const TIMESTAMP = /^(?:\d{4}-\d\d-\d\dT[\d:.]+Z ?|\[?\d\d:\d\d:\d\d(?:\.\d+)?\]? )/;
const RULE = /^[\s=_\-─⎯━*!#~]{8,}$/;

/** The log as read: redraws replayed, colours and timestamps gone, right-trimmed. */
export function logLines(raw: string): string[] {
  return renderTerminal(raw).map((line) => line.replace(TIMESTAMP, '').replace(/\s+$/, ''));
}

export function extractFailure(rawLog: string, options: EvidenceOptions = {}): FailureEvidence {
  const { root } = options;
  const lines = logLines(rawLog);
  const found = RECOGNISERS.map((recognise) => recognise(lines, root)).filter((f): f is Findings => f !== null && (f.tests.length > 0 || f.failed > 0 || (f.crash?.length ?? 0) > 0));
  const fromReports = (options.reports ?? []).map((content) => readReport(content, root)).filter((r) => r !== null && (r.tests.length > 0 || r.crash.length > 0));
  const tests: FailedTest[] = [];
  const add = (test: FailedTest): void => {
    if (!tests.some((t) => t.name === test.name)) tests.push({ ...test, message: test.message.slice(0, MESSAGE_LINES) });
  };
  for (const report of fromReports) report!.tests.forEach(add);
  if (!tests.length) for (const f of found) f.tests.forEach(add);
  const crash = [...fromReports.flatMap((r) => r!.crash), ...found.flatMap((f) => f.crash ?? [])].filter((c, i, all) => all.indexOf(c) === i);
  const compiled = compilerProblems(lines, root);
  const problems = [...crash, ...compiled];
  const failed = fromReports.length && tests.length ? tests.length : found.reduce((sum, f) => sum + f.failed, 0) || tests.length;
  const runner = [...new Set([...(fromReports.length ? ['report'] : []), ...found.map((f) => f.runner)])].join(', ') || null;
  if (!tests.length && !problems.length) problems.push(...genericAssertions(lines, root));
  const summary = found.flatMap((f) => f.summary);
  // Read in full (every test with its assertion, or the errors that stopped the run): the summary, or a few last
  // lines, is all the log adds. Not read: the end of the log, without rules, runs of blank lines or runtime frames.
  const understood = (tests.length > 0 && tests.every((t) => t.message.length > 0)) || (tests.length === 0 && problems.length > 0 && (crash.length > 0 || compiled.length > 0));
  const readable = lines.filter((line, i, all) => !RULE.test(line) && !(line === '' && (all[i - 1] ?? '') === '') && !/^\s*at .*(node:internal|node_modules\/|\(node:)/.test(line));
  const excerpt = understood && summary.length ? summary : understood ? readable.filter((l) => l.trim() !== '' && !/^\s*at /.test(l)).slice(-4) : readable;
  return {
    runner,
    failed,
    tests: groupParametrized(tests).slice(0, options.maxTests ?? 20),
    problems: problems.slice(0, 20),
    log_tail: relText(tail(excerpt, understood ? 6 : (options.tailLines ?? 30), options.tailChars ?? 3_000), root).trim(),
  };
}

const ASSERTION_START: readonly RegExp[] = [/AssertionError/, /\bassert(ion)?\b.*\b(failed|error)\b/i, /^\s*Expected\b/, /^\s*expected\b.+\bto\b/, /^\s*(Type|Reference|Syntax)Error:/, /^\s*\w*Error: /];

/** Unknown runner: each assertion-like line with the few lines that say what differed, and where. */
function genericAssertions(lines: readonly string[], root?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length && out.length < 6; i++) {
    if (!ASSERTION_START.some((pattern) => pattern.test(lines[i]!))) continue;
    const block = [lines[i]!];
    for (let j = i + 1; j < lines.length && block.length < 5 && lines[j]!.trim() !== '' && !/^\s*at\s/.test(lines[j]!); j++) block.push(lines[j]!);
    const where = firstProjectFrame(lines.slice(i, i + 12), root);
    const text = `${cleanMessage(block, root, 5).join('\n')}${where ? `\n(at ${where})` : ''}`;
    if (!out.includes(text)) out.push(text);
    i += block.length - 1;
  }
  return out;
}
