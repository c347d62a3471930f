/**
 * Pure: pytest's output in every verbosity (-q, default, -v), every --tb style (long, short, line, no) and with
 * -x. Keyed on its stable markers: the `FAILED path::id - message` lines of the short summary, the
 * `____ id ____` section of each failure, `path:line: Error` locations, and the closing count line, which
 * -q prints bare ("10 failed, 70 passed in 0.10s") and the others between rules.
 */
import { cleanMessage, findings, relPath, type FailedTest, type Recogniser } from './types.js';

const SEP = ' › ';
const COUNT_LINE = /^(?:=+ )?((?:\d+ (?:failed|passed|errors?|skipped|deselected|xfailed|xpassed|warnings?)(?:, )?)+ in [\d.]+s(?: \([^)]*\))?)(?: =+)?$/;

/** pytest writes non-ASCII in node ids as \xNN / \uNNNN escapes: back to the characters. */
export function unescapeId(id: string): string {
  return id.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})|\\U([0-9a-f]{8})/gi, (_, x?: string, u?: string, U?: string) => String.fromCodePoint(Number.parseInt(x ?? u ?? U ?? '0', 16)));
}

/** A parametrized id readable at a glance: the function and the distinguishing part of a long parameter. */
export function shortId(name: string, max = 48): string {
  const open = name.indexOf('[');
  if (open === -1 || !name.endsWith(']')) return name;
  const params = name.slice(open + 1, -1);
  if (params.length <= max) return name;
  return `${name.slice(0, open)}[${params.slice(0, max - 14)}…${params.slice(-12)}]`;
}

interface Summary {
  file: string;
  /** The id after the file: Class::test[params]. */
  id: string;
  message: string[];
}

/** `FAILED file.py::Class::test[a b] - Error: msg`, its message continued on indented lines. Ids hold spaces. */
function summaries(lines: readonly string[]): Summary[] {
  const out: Summary[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(?:FAILED|ERROR) (\S+?\.py)::(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const rest = m[2]!;
    const bracket = rest.indexOf('[');
    const space = rest.indexOf(' ');
    let end: number;
    if (bracket !== -1 && (space === -1 || bracket < space)) {
      const close = rest.indexOf('] - ');
      // No "] - ": the id ends the line, or the terminal cut it (-q cuts the summary to its width).
      end = close !== -1 ? close + 1 : rest.length;
    } else end = space === -1 ? rest.length : space;
    const said = rest.slice(end).replace(/^ - /, '');
    const message = said ? [said] : [];
    for (let j = i + 1; j < lines.length && /^ {2}\S/.test(lines[j]!); j++) message.push(lines[j]!.trim());
    out.push({ file: m[1]!, id: unescapeId(rest.slice(0, end)), message });
  }
  return out;
}

const nameOf = (id: string): string => shortId(id.split('::').join(SEP));

export const pytest: Recogniser = (lines, root) => {
  const countLine = lines.map((l) => COUNT_LINE.exec(l)?.[1]).filter((l): l is string => l !== undefined).at(-1);
  const marked = lines.some((l) => /^=+ (test session starts|FAILURES|ERRORS|short test summary info) =+$/.test(l));
  if (!marked && !(countLine && lines.some((l) => /^(FAILED|ERROR) \S+\.py::/.test(l)))) return null;
  const crash: string[] = [];
  const sections: { title: string; body: string[] }[] = [];
  const lineStyle: { file: string; line: string; message: string }[] = [];
  let inFailures = false;
  for (const line of lines) {
    if (/^=+ (FAILURES|ERRORS) =+$/.test(line)) inFailures = true;
    else if (/^=+ .* =+$/.test(line) || /^!{3,} .* !{3,}$/.test(line)) inFailures = false;
    // A title wider than the terminal keeps one "_" each side.
    else if (inFailures && /^_+ (.+?) _+$/.test(line)) sections.push({ title: unescapeId(/^_+ (.+?) _+$/.exec(line)![1]!), body: [] });
    else if (inFailures && sections.length) sections.at(-1)!.body.push(line);
    else if (inFailures) {
      // --tb=line: one "path:line: Error: message" per failure, no sections.
      const m = /^(\S+?\.py):(\d+): (.*)$/.exec(line);
      if (m) lineStyle.push({ file: relPath(m[1]!, root), line: m[2]!, message: m[3]! });
    }
  }
  const listed = summaries(lines);
  const tests: FailedTest[] = [];
  for (const section of sections) {
    const errorLines = section.body.filter((l) => /^E\s/.test(l)).map((l) => l.replace(/^E\s+/, ''));
    const where = section.body.map((l) => /^(\S+?\.py):(\d+): /.exec(l)).filter((m) => m !== null).at(-1);
    const collecting = /^ERROR collecting (.+)$/.exec(section.title);
    if (collecting) {
      crash.push(`${relPath(collecting[1]!, root)} could not be collected: ${cleanMessage(errorLines, root).join(' ') || cleanMessage(section.body, root, 1).join('')}`);
      continue;
    }
    // The summary names the file and class (file::Class::test); the title only Class.test.
    const title = section.title.replace(/^ERROR at \w+ of /, '');
    const summary = listed.find((s) => s.id.split('::').join('.') === title || s.id === title);
    const location = where ? `${relPath(where[1]!, root)}:${where[2]}` : summary ? relPath(summary.file, root) : undefined;
    tests.push({ name: nameOf(summary?.id ?? title.split('.').join('::')), ...(location ? { location } : {}), message: cleanMessage(errorLines.length ? errorLines : section.body.slice(-3), root) });
  }
  if (!sections.length) {
    // --tb=line gives each failure's place in the order of the summary; --tb=no only the summary.
    listed.forEach((s, i) => {
      const at = lineStyle[i];
      const location = at && at.file === relPath(s.file, root) ? `${at.file}:${at.line}` : relPath(s.file, root);
      tests.push({ name: nameOf(s.id), location, message: cleanMessage(s.message.length ? s.message : at ? [at.message] : [], root) });
    });
  }
  // Errors in a test's setup or teardown fail that test; a file that could not be collected is a crash, not a test.
  const setupErrors = sections.filter((s) => /^ERROR at \w+ of /.test(s.title)).length;
  const failed = Number.parseInt(/(\d+) failed/.exec(countLine ?? '')?.[1] ?? '0', 10) + setupErrors || tests.length;
  return findings('pytest', tests, { failed, summary: countLine ? [countLine] : [], ...(crash.length ? { crash } : {}) });
};
