/** Pure: turns a raw terminal log into the evidence an agent needs: failing tests, assertion messages, a short tail. */

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r\n?/g, '\n');
}

const FAILING_TEST_PATTERNS: readonly RegExp[] = [
  /^\s*not ok \d+ - (.+?)(?:\s+#.*)?$/, // TAP (node --test, tap)
  /^\s*[✖✗×]\s+(.+?)(?:\s+\(\d+(?:\.\d+)?m?s\))?$/, // node spec reporter, vitest
  /^\s*FAIL\s+(.+)$/, // vitest, jest
  /^FAILED\s+(\S+)/, // pytest
  /^\s*--- FAIL: (\S+)/, // go test
  /^\s*\d+\) (.+)$/, // mocha
];

/** Runner summaries that look like failures but are not test names ("✖ failing tests:", "fail 1"). */
const SUMMARY_LINE = /^(failing tests:?|(tests?|suites?|pass|fail(ed)?|skipped|todo|cancelled|duration_ms)\s+\d.*)$/i;

const ASSERTION_START: readonly RegExp[] = [
  /AssertionError/,
  /\bassert(ion)?\b.*\b(failed|error)\b/i,
  /^\s*Expected\b/,
  /^\s*expected\b.+\bto\b/,
  /^\s*[-+] Expected|^\s*[-+] Received/,
  /^\s*(Type|Reference|Syntax)Error:/,
  /^\s*error TS\d+:/,
  /^E\s+/, // pytest
];

export interface FailureEvidence {
  failing_tests: string[];
  assertions: string[];
  log_tail: string;
}

export function tail(lines: readonly string[], maxLines: number, maxChars: number): string {
  let out = lines.slice(-maxLines).join('\n');
  if (out.length > maxChars) out = `…${out.slice(out.length - maxChars)}`;
  return out;
}

export function extractFailure(rawLog: string, options: { maxTests?: number; maxAssertions?: number; tailLines?: number; tailChars?: number } = {}): FailureEvidence {
  const lines = stripAnsi(rawLog)
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''));
  const failing = new Set<string>();
  const assertions: string[] = [];
  const seenAssertions = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const pattern of FAILING_TEST_PATTERNS) {
      const match = pattern.exec(line);
      if (match?.[1] && !SUMMARY_LINE.test(match[1].trim())) {
        failing.add(match[1].trim());
        break;
      }
    }
    if (ASSERTION_START.some((pattern) => pattern.test(line))) {
      // The assertion line plus the few lines that say what differed.
      const block: string[] = [line.trim()];
      for (let j = i + 1; j < lines.length && block.length < 6; j++) {
        const next = lines[j]!.trim();
        if (next === '') {
          if (block.length > 1) break;
          continue;
        }
        if (/^at\s/.test(next) || /^\{$/.test(next)) break;
        block.push(next);
      }
      const text = block.join('\n');
      if (!seenAssertions.has(text)) {
        seenAssertions.add(text);
        assertions.push(text);
      }
    }
  }
  return {
    failing_tests: [...failing].slice(0, options.maxTests ?? 20),
    assertions: assertions.slice(0, options.maxAssertions ?? 10),
    log_tail: tail(lines.filter((line, index, all) => !(line === '' && all[index - 1] === '')), options.tailLines ?? 40, options.tailChars ?? 3_000),
  };
}
