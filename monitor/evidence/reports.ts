/**
 * Pure: machine-readable reports a CI run wrote (JUnit XML from pytest, vitest, node:test, jest-junit and most
 * other runners; the JSON of jest --json and vitest --reporter=json). Preferred to the terminal log: names and
 * messages come as fields, not as text to be guessed at.
 */
import { XMLParser } from 'fast-xml-parser';
import * as z from 'zod';
import { stripAnsi } from './terminal.js';
import { cleanMessage, expectedActual, firstProjectFrame, isStackLine, looksLikeFile, relPath, type FailedTest } from './types.js';

const SEP = ' › ';

export interface ReportFindings {
  tests: FailedTest[];
  crash: string[];
}

/** Message lines of a failure text: pytest's "E" lines, or everything before the stack, plus expected/actual. */
function messageFrom(text: string, root?: string): string[] {
  const lines = stripAnsi(text).split('\n');
  const pytestE = lines.filter((l) => /^E\s/.test(l)).map((l) => l.replace(/^E\s+/, ''));
  if (pytestE.length) return cleanMessage(pytestE, root);
  const end = lines.findIndex((l) => isStackLine(l) || /^\s*\{$/.test(l.trim()));
  return [...cleanMessage(end === -1 ? lines : lines.slice(0, end), root, 10), ...expectedActual(lines)];
}

function locationFrom(text: string, root?: string): string | undefined {
  const lines = stripAnsi(text).split('\n');
  const pytest = lines.map((l) => /^(\S+?\.py):(\d+): \w+/.exec(l)).find((m) => m !== null);
  return pytest ? `${relPath(pytest[1]!, root)}:${pytest[2]}` : firstProjectFrame(lines, root);
}

type Node = Record<string, unknown>;
const asList = (value: unknown): Node[] => (Array.isArray(value) ? (value as Node[]) : value && typeof value === 'object' ? [value as Node] : []);
const attr = (node: Node, name: string): string => str((node.$ as Node | undefined)?.[name]);
const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

function junit(content: string, root?: string): ReportFindings | null {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', attributesGroupName: '$', textNodeName: '#text', isArray: (name) => ['testsuite', 'testcase', 'failure', 'error'].includes(name) });
  let doc: Node;
  try {
    doc = parser.parse(content) as Node;
  } catch {
    return null;
  }
  const top = (doc.testsuites as Node | undefined) ?? doc;
  if (!('testsuite' in top)) return null;
  const tests: FailedTest[] = [];
  const walk = (suite: Node, path: string[]): void => {
    const suiteName = attr(suite, 'name');
    const here = suiteName && !looksLikeFile(suiteName) && suiteName !== 'pytest' && !/^(vitest|jest|mocha) tests$/.test(suiteName) ? [...path, suiteName] : path;
    for (const child of asList(suite.testsuite)) walk(child, here);
    for (const testcase of asList(suite.testcase)) {
      const failure = [...asList(testcase.failure), ...asList(testcase.error)][0];
      if (!failure) continue;
      const classname = attr(testcase, 'classname');
      // pytest: tests.test_math.TestMath → TestMath; vitest: the file, which is the location not the name.
      const cls = /^[\w.]+$/.test(classname) && classname.includes('.') ? classname.split('.').filter((p) => /^[A-Z]/.test(p)) : [];
      const name = [...here.filter((p) => p !== classname), ...cls, ...attr(testcase, 'name').split(' > ')].join(SEP);
      const text = str(failure['#text']) || attr(failure, 'message');
      const location = locationFrom(text, root) ?? (looksLikeFile(classname) ? relPath(classname, root) : undefined) ?? (attr(testcase, 'file') ? relPath(attr(testcase, 'file'), root) : undefined);
      tests.push({ name, ...(location ? { location } : {}), message: messageFrom(text, root) });
    }
  };
  for (const suite of asList(top.testsuite)) walk(suite, []);
  return { tests, crash: [] };
}

const JestJson = z.object({
  testResults: z.array(
    z.object({
      name: z.string().optional(),
      message: z.string().optional(),
      status: z.string().optional(),
      assertionResults: z.array(z.object({ ancestorTitles: z.array(z.string()).default([]), title: z.string(), status: z.string(), failureMessages: z.array(z.string()).nullish() })).default([]),
    }),
  ),
});

function jestJson(content: string, root?: string): ReportFindings | null {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch {
    return null;
  }
  const parsed = JestJson.safeParse(data);
  if (!parsed.success) return null;
  const tests: FailedTest[] = [];
  const crash: string[] = [];
  for (const file of parsed.data.testResults) {
    const failing = file.assertionResults.filter((a) => a.status === 'failed');
    if (!failing.length && file.status === 'failed' && file.message) {
      crash.push(`${relPath(file.name ?? 'a test file', root)} could not run: ${messageFrom(file.message, root).slice(0, 2).join(' ')}`);
      continue;
    }
    for (const result of failing) {
      const text = result.failureMessages?.[0] ?? '';
      const location = locationFrom(text, root);
      tests.push({ name: [...result.ancestorTitles, result.title].join(SEP), ...(location ? { location } : {}), message: messageFrom(text, root) });
    }
  }
  return { tests, crash };
}

/** The failing tests a report file lists; null when the file is neither JUnit XML nor jest/vitest JSON. */
export function readReport(content: string, root?: string): ReportFindings | null {
  const trimmed = content.trimStart();
  if (trimmed.startsWith('<')) return junit(content, root);
  if (trimmed.startsWith('{')) return jestJson(content, root);
  return null;
}
