/** Pure recognisers for unittest, go test (text and -json), cargo test and rspec (pytest has its own file). */
import { cleanMessage, findings, firstNumber, indentOf, relPath, type FailedTest, type Recogniser } from './types.js';

const SEP = ' › ';

export const unittest: Recogniser = (lines, root) => {
  const result = lines.find((l) => /^FAILED \((failures|errors)=/.test(l));
  if (!result || !lines.some((l) => /^Ran \d+ tests? in /.test(l))) return null;
  const tests: FailedTest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(FAIL|ERROR): (\w+) \((?:[\w.]+\.)?(\w+)\.\w+\)$/.exec(lines[i]!) ?? /^(FAIL|ERROR): (\w+) \(([\w.]+)\)$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    for (let j = i + 2; j < lines.length && !/^(-{20,}|={20,})$/.test(lines[j]!); j++) body.push(lines[j]!);
    const frames = body.map((l) => /^\s*File "(.+?)", line (\d+)/.exec(l)).filter((f) => f !== null).map((f) => `${relPath(f[1]!, root)}:${f[2]}`);
    const location = frames.filter((f) => !f.startsWith('/')).at(-1);
    const errorAt = body.findIndex((l) => /^\w+(Error|Exception)\b/.test(l));
    const className = m[3]!.split('.').at(-1)!;
    tests.push({ name: `${className}${SEP}${m[2]}`, ...(location ? { location } : {}), message: cleanMessage(errorAt === -1 ? body.slice(-2) : body.slice(errorAt), root) });
  }
  const failed = (firstNumber([result], /failures=(\d+)/) ?? 0) + (firstNumber([result], /errors=(\d+)/) ?? 0);
  return findings('unittest', tests, { failed, summary: [result, ...lines.filter((l) => /^Ran \d+ tests? in /.test(l))] });
};

/** go test -json: one JSON event per line; the failed leaves with their own output. */
function goJson(lines: readonly string[], root?: string): FailedTest[] | null {
  const events: { Action?: string; Test?: string; Output?: string }[] = [];
  for (const line of lines) {
    if (!line.startsWith('{"')) continue;
    try {
      events.push(JSON.parse(line) as { Action?: string; Test?: string; Output?: string });
    } catch {
      /* a line that is not an event */
    }
  }
  if (!events.length) return null;
  const failed = events.filter((e) => e.Action === 'fail' && e.Test).map((e) => e.Test!);
  const leaves = failed.filter((name) => !failed.some((other) => other.startsWith(`${name}/`)));
  return leaves.map((name) => {
    const output = events.filter((e) => e.Test === name && e.Action === 'output' && e.Output && !/^\s*(=== RUN|--- FAIL|--- PASS)/.test(e.Output)).map((e) => e.Output!.trimEnd());
    return goFailure(name, output, root);
  });
}

/** The per-package result lines ("FAIL\texample.com/x\t0.003s") of a -json run. */
function goJsonSummary(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const output = /"Action":"output","Package":"[^"]*","Output":"((?:FAIL|ok) [^"]*|FAIL\\t[^"]*|ok  \\t[^"]*)"/.exec(line)?.[1];
    return output ? [output.replace(/\\t/g, ' ').replace(/\\n$/, '').trim()] : [];
  });
}

function goFailure(name: string, output: readonly string[], root?: string): FailedTest {
  const at = output.map((l) => /^\s*([\w./-]+\.go):(\d+): /.exec(l)).find((m) => m !== null);
  return { name, ...(at ? { location: `${relPath(at[1]!, root)}:${at[2]}` } : {}), message: cleanMessage(output.map((l) => l.replace(/^\s*[\w./-]+\.go:\d+: /, '')), root) };
}

export const goTest: Recogniser = (lines, root) => {
  const fromJson = goJson(lines, root);
  if (fromJson?.length) return findings('go test', fromJson, { summary: goJsonSummary(lines) });
  const failLines = lines.map((l, i) => ({ m: /^(\s*)--- FAIL: (\S+) \(/.exec(l), i })).filter((x) => x.m !== null);
  if (!failLines.length) return null;
  const names = failLines.map((x) => x.m![2]!);
  const tests = failLines
    .filter((x) => !names.some((other) => other.startsWith(`${x.m![2]}/`)))
    .map((x) => {
      const indent = x.m![1]!.length;
      const output: string[] = [];
      for (let j = x.i + 1; j < lines.length && indentOf(lines[j]!) > indent && !/^\s*--- (FAIL|PASS)/.test(lines[j]!); j++) output.push(lines[j]!);
      return goFailure(x.m![2]!, output, root);
    });
  return findings('go test', tests, { summary: lines.filter((l) => /^(FAIL|ok)\s+\S+\s+[\d.]+s$/.test(l)) });
};

export const cargo: Recogniser = (lines, root) => {
  const result = lines.find((l) => /^test result: FAILED\. \d+ passed; \d+ failed/.test(l));
  if (!result) return null;
  const tests: FailedTest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^---- (\S+) stdout ----$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && !/^---- \S+ stdout ----$/.test(lines[j]!) && !/^failures:$/.test(lines[j]!); j++) body.push(lines[j]!);
    const panic = body.map((l) => /panicked at (\S+?):(\d+):\d+:?(?: (.*))?$/.exec(l)).find((p) => p !== null);
    const message = body.filter((l) => !/panicked at/.test(l) && !/^note: run with `RUST_BACKTRACE/.test(l));
    if (panic?.[3]) message.unshift(panic[3]);
    tests.push({ name: m[1]!, ...(panic ? { location: `${relPath(panic[1]!, root)}:${panic[2]}` } : {}), message: cleanMessage(message, root) });
  }
  return findings('cargo test', tests, { failed: firstNumber([result], /(\d+) failed/) ?? tests.length, summary: [result] });
};

export const rspec: Recogniser = (lines, root) => {
  const total = lines.find((l) => /^\d+ examples?, \d+ failures?/.test(l));
  if (!total) return null;
  const tests: FailedTest[] = [];
  const failures = lines.findIndex((l) => l === 'Failures:');
  for (let i = failures + 1; failures !== -1 && i < lines.length; i++) {
    if (/^Finished in /.test(lines[i]!)) break;
    const m = /^(\s*)\d+\) (.+)$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || indentOf(lines[j]!) > m[1]!.length); j++) body.push(lines[j]!);
    const where = body.map((l) => /^\s*# (\S+?):(\d+):in /.exec(l)).find((w) => w !== null && !w[1]!.includes('/gems/'));
    const message = body.filter((l) => !/^\s*# /.test(l) && !/^\s*\(compared using /.test(l)).map((l) => l.replace(/^(\s*)Failure\/Error: /, '$1'));
    tests.push({ name: m[2]!, ...(where ? { location: `${relPath(where[1]!, root)}:${where[2]}` } : {}), message: cleanMessage(message, root) });
  }
  return findings('rspec', tests, { failed: firstNumber([total], /(\d+) failures?/) ?? tests.length, summary: [total] });
};
