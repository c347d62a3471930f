import type { Evidence } from '../../registry/types.js';

export interface EvidenceBudget {
  max_lines: number;
  max_chars: number;
}

export const DEFAULT_EVIDENCE_BUDGET: EvidenceBudget = { max_lines: 40, max_chars: 4_000 };

/**
 * Pure: the evidence of one failed attempt as prompt lines, within a budget of lines and characters: the
 * failing tests with their assertions first (each name once, with its file:line), then compiler errors or
 * a crash, then as much of the log excerpt as still fits. The count of failures stays exact when the list
 * is cut ("… and 7 more").
 */
export function evidenceLines(evidence: Pick<Evidence, 'tests' | 'failed_count' | 'failing_tests' | 'assertions' | 'log_tail' | 'findings'>, budget: EvidenceBudget = DEFAULT_EVIDENCE_BUDGET): string[] {
  const out: string[] = [];
  let chars = 0;
  const size = (lines: readonly string[]): number => lines.reduce((sum, line) => sum + line.length + 1, 0);
  const fits = (lines: readonly string[], reserve = 0): boolean => out.length + lines.length + reserve <= budget.max_lines && chars + size(lines) <= budget.max_chars;
  const push = (lines: readonly string[]): void => {
    out.push(...lines);
    chars += size(lines);
  };
  const findings = evidence.findings ?? [];
  if (findings.length) {
    push([`Review findings to address (${findings.length}):`]);
    let shown = 0;
    for (const f of findings) {
      const block = [`- ${f.line ? `${f.file}:${f.line}` : f.file} [${f.severity}] ${f.title} (reviewer ${f.reviewer})`, ...f.body.split('\n').filter(Boolean).map((line) => `    ${line}`)];
      if (!fits(block, 1)) break;
      push(block);
      shown++;
    }
    if (shown < findings.length) push([`- … and ${findings.length - shown} more`]);
  }
  const tests: { name: string; location?: string; message: string[]; count?: number }[] = evidence.tests ?? (evidence.failing_tests ?? []).map((name) => ({ name, message: [] }));
  const listed = tests.reduce((sum, t) => sum + (t.count ?? 1), 0);
  const count = Math.max(evidence.failed_count ?? listed, listed);
  if (tests.length) {
    push([`Failing tests${count > 1 ? ` (${count})` : ''}:`]);
    let shown = 0;
    for (const test of tests) {
      const block = [`- ${test.name}${test.location ? ` (${test.location})` : ''}`, ...test.message.map((line) => `    ${line}`)];
      // The first test is always shown (its message cut to fit); later ones only whole.
      if (!fits(block, 1)) {
        if (shown === 0) push(block.slice(0, Math.max(1, budget.max_lines - out.length - 1)).map((l) => l.slice(0, Math.max(40, Math.floor(budget.max_chars / 4)))));
        else break;
      } else push(block);
      shown += test.count ?? 1;
    }
    if (shown < count) push([`- … and ${count - shown} more`]);
  }
  const problems = evidence.assertions ?? [];
  if (problems.length) {
    push(['', evidence.tests || !evidence.failing_tests?.length ? 'Errors:' : 'Assertion messages:']);
    for (const problem of problems) {
      const block = problem.split('\n').map((line, i) => (i === 0 ? `- ${line}` : `  ${line}`));
      if (!fits(block)) break;
      push(block);
    }
  }
  if (evidence.log_tail) {
    const room = budget.max_lines - out.length - 4;
    const charRoom = budget.max_chars - chars - 40;
    if (room > 0 && charRoom > 80) {
      let lines = evidence.log_tail.split('\n').slice(-room);
      while (size(lines) > charRoom && lines.length > 1) lines = lines.slice(1);
      const text = lines.join('\n');
      push(['', 'Log excerpt:', '```', text.length > charRoom ? `…${text.slice(text.length - charRoom)}` : text, '```']);
    }
  }
  return out;
}
