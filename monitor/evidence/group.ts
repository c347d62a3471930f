/**
 * Pure: many failures of one parametrized test at one assertion said once ("test_escape — 9
 * parametrizations: [&-&amp;], [a & b-a &amp; b], …" at tests/test_escape.py:32, with the first one's
 * assertion), so a list of failures stays short and the count stays exact.
 */
import type { FailedTest } from './types.js';

const PARAMS = /^(.*?)\[(.*)\]$/;

export function groupParametrized(tests: readonly FailedTest[], minGroup = 3, shownParams = 3): FailedTest[] {
  const groups = new Map<string, FailedTest[]>();
  for (const test of tests) {
    const m = PARAMS.exec(test.name);
    const key = m ? `${m[1]}\0${test.location ?? ''}` : `\0${test.name}`;
    groups.set(key, [...(groups.get(key) ?? []), test]);
  }
  const out: FailedTest[] = [];
  for (const members of groups.values()) {
    const base = PARAMS.exec(members[0]!.name)?.[1];
    if (base === undefined || members.length < minGroup) {
      out.push(...members);
      continue;
    }
    const params = members.slice(0, shownParams).map((t) => `[${PARAMS.exec(t.name)![2]}]`);
    out.push({
      name: `${base} — ${members.length} parametrizations: ${params.join(', ')}${members.length > shownParams ? ', …' : ''}`,
      ...(members[0]!.location ? { location: members[0]!.location } : {}),
      message: members[0]!.message,
      count: members.length,
    });
  }
  return out;
}
