/** Pure recognisers for JavaScript runners' human output: node:test (spec), vitest, jest, mocha, uvu, ava, tap. */
import { cleanMessage, crashLine, expectedActual, findings, firstNumber, firstProjectFrame, indentOf, isStackLine, looksLikeFile, relPath, relText, type FailedTest, type Recogniser } from './types.js';

const SEP = ' › ';
const DURATION = /\s+\((?:[\d.]+m?s|[\d.]+ms)\)$/;

/** Lines of one block: from `start` while lines are indented deeper than `indent` (or blank). */
function blockAfter(lines: readonly string[], start: number, indent: number): string[] {
  const out: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() !== '' && indentOf(line) <= indent) break;
    out.push(line);
  }
  return out;
}

/** The message part of an error block: everything before the stack frames (and node's trailing error object). */
function untilStack(block: readonly string[]): string[] {
  const end = block.findIndex((line) => isStackLine(line) || /^\s*\{$/.test(line));
  return end === -1 ? [...block] : block.slice(0, end);
}

export const nodeSpec: Recogniser = (lines, root) => {
  if (!lines.some((l) => /^ℹ (tests|fail) \d+$/.test(l))) return null;
  const marker = /^(\s*)([▶✔✖﹣])\s(.+?)$/;
  const ancestors = (index: number, indent: number): string[] => {
    const names: string[] = [];
    let current = indent;
    for (let i = index - 1; i >= 0 && current > 0; i--) {
      const m = marker.exec(lines[i]!);
      if (m?.[2] === '▶' && m[1]!.length < current) {
        names.unshift(m[3]!.replace(DURATION, ''));
        current = m[1]!.length;
      }
    }
    return names;
  };
  const section = lines.findIndex((l) => /^✖ failing tests:$/.test(l));
  const tests: FailedTest[] = [];
  const crash: string[] = [];
  const entries: { index: number; name: string; declared?: string; block: string[] }[] = [];
  if (section !== -1) {
    for (let i = section + 1; i < lines.length; i++) {
      const m = /^✖ (.+)$/.exec(lines[i]!);
      if (!m) continue;
      const declared = /^test at (.+)$/.exec(lines[i - 1] ?? '')?.[1];
      entries.push({ index: i, name: m[1]!.replace(DURATION, ''), ...(declared ? { declared } : {}), block: blockAfter(lines, i + 1, 0) });
    }
  } else {
    for (let i = 0; i < lines.length; i++) {
      const m = marker.exec(lines[i]!);
      const block = m?.[2] === '✖' ? blockAfter(lines, i + 1, m[1]!.length) : [];
      if (m && block.some((l) => l.trim() !== '' && !marker.test(l))) entries.push({ index: i, name: m[3]!.replace(DURATION, ''), block });
    }
  }
  for (const entry of entries) {
    if (looksLikeFile(entry.name)) {
      const said = crashLine(lines.slice(0, entry.index), root) ?? cleanMessage(entry.block, root)[0] ?? 'it exited with an error';
      crash.push(`${relPath(entry.name, root)} could not run: ${said}`);
      continue;
    }
    // The same leaf name in two suites: the n-th failure of that name is the n-th such line of the tree.
    const nth = entries.slice(0, entries.indexOf(entry)).filter((e) => e.name === entry.name).length;
    const treeIndex = lines.map((l, i) => (marker.exec(l)?.[2] === '✖' && i < (section === -1 ? lines.length : section) && marker.exec(l)?.[3]?.replace(DURATION, '') === entry.name ? i : -1)).filter((i) => i !== -1)[nth] ?? -1;
    const path = treeIndex === -1 ? [] : ancestors(treeIndex, indentOf(lines[treeIndex]!));
    const location = firstProjectFrame(entry.block, root) ?? (entry.declared ? relText(entry.declared, root).replace(/:\d+$/, '') : undefined);
    tests.push({ name: [...path, entry.name].join(SEP), ...(location ? { location } : {}), message: [...cleanMessage(untilStack(entry.block), root), ...expectedActual(entry.block)] });
  }
  const fail = firstNumber(lines, /^ℹ fail (\d+)$/);
  return findings('node:test', tests, { failed: crash.length ? tests.length : (fail ?? tests.length), summary: lines.filter((l) => /^ℹ (tests|pass|fail) \d+$/.test(l)), ...(crash.length ? { crash } : {}) });
};

/**
 * node's test runner with the dot reporter: a dots line, then "Failed tests:" with each failure flat (children
 * before their suite, a suite saying "'N subtests failed'"). The tree is rebuilt from those counts.
 */
export const nodeDot: Recogniser = (lines, root) => {
  const start = lines.findIndex((l) => /^Failed tests:$/.test(l));
  if (start === -1 || !lines.slice(0, start).some((l) => /^[.XU*]+$/.test(l.trim()))) return null;
  type Item = { tests: FailedTest[] };
  const items: Item[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^✖ (.+)$/.exec(lines[i]!);
    if (!m) continue;
    const name = m[1]!.replace(DURATION, '');
    const block = blockAfter(lines, i + 1, 0);
    const subtests = /^\s*'(\d+) subtests? failed'$/.exec(block.find((l) => l.trim() !== '') ?? '');
    if (subtests) {
      const children = items.splice(Math.max(0, items.length - Number(subtests[1])));
      items.push({ tests: children.flatMap((c) => c.tests).map((t) => ({ ...t, name: `${name}${SEP}${t.name}` })) });
      continue;
    }
    const location = firstProjectFrame(block, root);
    items.push({ tests: [{ name, ...(location ? { location } : {}), message: [...cleanMessage(untilStack(block), root), ...expectedActual(block)] }] });
  }
  const tests = items.flatMap((item) => item.tests);
  return tests.length ? findings('node:test', tests, { summary: [`${tests.length} failed (dot reporter)`] }) : null;
};

export const vitest: Recogniser = (lines, root) => {
  const summary = lines.filter((l) => /^\s*(Test Files|Tests)\s+\d+ (failed|passed)/.test(l)).map((l) => l.trim());
  if (!summary.length || !lines.some((l) => /^\s*FAIL\s/.test(l))) return null;
  const tests: FailedTest[] = [];
  const crash: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*FAIL\s+(\S+)(?: > (.+)| \[ .+ \])$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    let location: string | undefined;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      const at = /^\s*❯ (\S+):(\d+):\d+$/.exec(line);
      if (at) {
        location ??= `${relPath(at[1]!, root)}:${at[2]}`;
        continue;
      }
      if (/^\s*FAIL\s/.test(line) || /^⎯/.test(line.trim()) || /^\s*(Test Files|Tests)\s+\d/.test(line)) break;
      if (/^\s*\d+\|/.test(line) || /^\s*\|\s*\^/.test(line)) continue; // the code frame
      body.push(line);
    }
    if (m[2] === undefined) {
      crash.push(`${relPath(m[1]!, root)} could not run: ${cleanMessage(body, root, 3).join(' ')}`);
      continue;
    }
    const name = m[2].split(' > ').join(SEP);
    if (tests.some((t) => t.name === name)) continue;
    tests.push({ name, location: location ?? relPath(m[1]!, root), message: cleanMessage(body, root) });
  }
  return findings('vitest', tests, { failed: firstNumber(lines, /^\s*Tests\s+(\d+) failed/) ?? tests.length, summary, ...(crash.length ? { crash } : {}) });
};

export const jest: Recogniser = (lines, root) => {
  if (!lines.some((l) => /^Tests:\s+/.test(l)) || !lines.some((l) => /^Test Suites:\s+/.test(l))) return null;
  const tests: FailedTest[] = [];
  const crash: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)● (.+)$/.exec(lines[i]!);
    if (!m) continue;
    const block = blockAfter(lines, i + 1, m[1]!.length);
    const message = untilStack(block).filter((l) => !/^\s*>?\s*\d+ \|/.test(l) && !/^\s*\|\s*\^/.test(l));
    const location = firstProjectFrame(block, root);
    if (m[2] === 'Test suite failed to run') {
      crash.push(`${location ? `${location.replace(/:\d+$/, '')} ` : ''}could not run: ${cleanMessage(message, root, 2).join(' ')}`);
      continue;
    }
    const name = m[2]!;
    if (!tests.some((t) => t.name === name)) tests.push({ name, ...(location ? { location } : {}), message: cleanMessage(message, root) });
  }
  return findings('jest', tests, { failed: firstNumber(lines, /^Tests:\s+(\d+) failed/) ?? tests.length, summary: lines.filter((l) => /^(Tests|Test Suites):/.test(l)), ...(crash.length ? { crash } : {}) });
};

export const mocha: Recogniser = (lines, root) => {
  const failingAt = lines.findIndex((l) => /^\s*\d+ failing$/.test(l));
  if (failingAt === -1 || !lines.some((l) => /^\s*\d+ passing \(/.test(l))) return null;
  const tests: FailedTest[] = [];
  for (let i = failingAt + 1; i < lines.length; i++) {
    const m = /^(\s*)\d+\) (.+)$/.exec(lines[i]!);
    if (!m) continue;
    // The title spans lines, one per suite level, the last one ending in ":".
    const title = [m[2]!];
    let j = i + 1;
    if (!m[2]!.endsWith(':')) {
      for (; j < lines.length && lines[j]!.trim() !== '' && indentOf(lines[j]!) > m[1]!.length; j++) {
        title.push(lines[j]!.trim());
        if (lines[j]!.trim().endsWith(':')) {
          j++;
          break;
        }
      }
    }
    const block: string[] = [];
    for (; j < lines.length && !/^\s*\d+\) /.test(lines[j]!); j++) block.push(lines[j]!);
    const location = firstProjectFrame(block, root);
    tests.push({ name: title.map((t) => t.replace(/:$/, '')).join(SEP), ...(location ? { location } : {}), message: cleanMessage(untilStack(block), root) });
    i = j - 1;
  }
  return findings('mocha', tests, { failed: firstNumber(lines, /^\s*(\d+) failing$/) ?? tests.length, summary: lines.filter((l) => /^\s*\d+ (passing|failing|pending)/.test(l)).map((l) => l.trim()) });
};

/**
 * uvu, single files or its CLI over a folder (`uvu -r esm test`): per file a header line (the file, relative to
 * the folder), then `FAIL  suite  "test"` blocks, or `FAIL  "test"` for a test outside any suite (named by its
 * file then), with `++expected`/`--actual` values.
 */
export const uvu: Recogniser = (lines, root) => {
  const total = firstNumber(lines, /^\s*Total:\s+(\d+)$/);
  const passed = firstNumber(lines, /^\s*Passed:\s+(\d+)$/);
  // --bail ends before the totals: its "Exiting early" line and the dots line say it is uvu.
  const bailed = lines.some((l) => /^Exiting early before testing is finished\.$/.test(l)) && lines.some((l) => /^\s*(?:\S+\s+)?[•✘](?: [•✘])*\s+\(\d+ \/ \d+\)$/.test(l));
  if ((total === undefined || passed === undefined) && !bailed) return null;
  const skipped = firstNumber(lines, /^\s*Skipped:\s+(\d+)$/) ?? 0;
  const tests: FailedTest[] = [];
  let file: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const header = /^([^\s"]+\.[cm]?[jt]sx?)$/.exec(lines[i]!);
    if (header) file = header[1]!;
    const m = /^(\s*)FAIL\s+(?:(.+?)\s+)?"(.+)"$/.exec(lines[i]!);
    if (!m) continue;
    const block = blockAfter(lines, i + 1, m[1]!.length);
    const location = firstProjectFrame(block, root);
    const message = untilStack(block)
      .filter((l) => !/^\s*\^+\s*$/.test(l))
      .map((l) => l.replace(/^(\s*)\+\+(.*?)\s+\(Expected\)$/, '$1expected: $2').replace(/^(\s*)--(.*?)\s+\(Actual\)$/, '$1actual: $2'));
    const suite = m[2] ?? file ?? location?.replace(/:\d+$/, '');
    tests.push({ name: suite ? [suite, m[3]!].join(SEP) : m[3]!, ...(location ? { location } : {}), message: cleanMessage(message, root) });
  }
  const failed = total !== undefined && passed !== undefined ? total - passed - skipped : tests.length;
  return findings('uvu', tests, { failed, summary: bailed ? ['uvu stopped at the first failure (--bail)'] : lines.filter((l) => /^\s*(Total|Passed|Skipped):/.test(l)).map((l) => l.trim()) });
};

export const ava: Recogniser = (lines, root) => {
  const names = lines.map((l) => /^\s*✘ \[fail\]: (.+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
  const failed = firstNumber(lines, /^\s*(\d+) tests? failed$/);
  if (!names.length && failed === undefined) return null;
  const tests: FailedTest[] = names.map((name) => {
    const at = lines.findIndex((l, i) => l.trim() === name && i > 0 && lines.slice(0, i).some((p) => p.trim() === '─'));
    if (at === -1) return { name, message: [] };
    const block: string[] = [];
    for (let j = at + 1; j < lines.length && lines[j]!.trim() !== '─'; j++) block.push(lines[j]!);
    const loc = block.map((l) => /^\s*(\S+\.\w+):(\d+)$/.exec(l)).find((m) => m !== null);
    const message = block.filter((l) => !/^\s*(\S+\.\w+):(\d+)$/.test(l) && !/^\s*\d+:/.test(l) && !/^\s*›/.test(l));
    return { name, ...(loc ? { location: `${relPath(loc[1]!, root)}:${loc[2]}` } : {}), message: cleanMessage(message, root) };
  });
  return findings('ava', tests, { failed: failed ?? tests.length, summary: lines.filter((l) => /^\s*\d+ tests? (failed|passed)$/.test(l)).map((l) => l.trim()) });
};

/** tap's own (default) reporter: `✖ suite > test > assertion`, the location, a code frame and a diff. */
export const tapReporter: Recogniser = (lines, root) => {
  const total = lines.find((l) => /^# \{ total: \d+, pass: \d+, fail: \d+/.test(l));
  if (!total || lines.some((l) => /^\s*TAP version \d+/.test(l))) return null;
  const tests: FailedTest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^✖ (.+)$/.exec(lines[i]!);
    if (!m) continue;
    const name = m[1]!.split(' > ').join(SEP);
    const end = lines.findIndex((l, j) => j > i && l.trim() === '');
    const block = lines.slice(i + 1, end === -1 ? lines.length : end);
    const message = block.filter((l) => !/^\s*\d+\s/.test(l) && !/^\s*━+┛/.test(l) && !/^\s*\S+\.\w+(:\d+:\d+)?$/.test(l) && !/^\s*@@ /.test(l) && !/\(\S+:\d+:\d+\)$/.test(l));
    const location = firstProjectFrame(block, root);
    const found = tests.find((t) => t.name === name);
    const test = { name, ...(location ? { location } : {}), message: cleanMessage(message, root) };
    // The live reporter redraws a failure before its details are in: the fullest drawing wins.
    if (!found) tests.push(test);
    else if (test.message.length > found.message.length) tests.splice(tests.indexOf(found), 1, test);
  }
  return findings('tap', tests, { failed: Number(/fail: (\d+)/.exec(total)?.[1] ?? tests.length), summary: [total] });
};
