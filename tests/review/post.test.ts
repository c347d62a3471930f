import { describe, expect, it } from 'vitest';
import { diffLines, reviewPayload, SWARM_REVIEW_MARK } from '../../src/review/post.js';

const diff = `diff --git a/src/add.ts b/src/add.ts
index 1..2 100644
--- a/src/add.ts
+++ b/src/add.ts
@@ -1,3 +1,4 @@
 export function addNumbers(a: number, b: number): number {
-  return a - b;
+  // both are numbers
+  return a + b;
 }
@@ -20,2 +21,2 @@ export function other() {
-  x;
+  y;
 }
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-gone
`;

describe('diffLines', () => {
  it('new-side lines of each hunk, context and added; removed lines and deleted files take none', () => {
    const lines = diffLines(diff);
    expect([...lines.get('src/add.ts')!]).toEqual([1, 2, 3, 4, 21, 22]);
    expect(lines.has('old.txt')).toBe(false);
  });
});

describe('reviewPayload', () => {
  it("findings on diff lines inline, the rest in the body; marked as swarm's own", () => {
    const payload = reviewPayload({
      reviewer: 'logic',
      model: 'qwen:7b',
      head: 'abc',
      lines: diffLines(diff),
      answer: { verdict: 'request_changes', summary: 'One bug.', findings: [{ severity: 'major', file: 'src/add.ts', line: 3, title: 'Comment lies', body: 'It says numbers.' }, { severity: 'minor', file: 'src/add.ts', line: 10, title: 'Far away', body: '' }, { severity: 'nit', file: 'docs.md', title: 'No line', body: '' }] },
    });
    expect(payload.comments).toEqual([{ path: 'src/add.ts', line: 3, side: 'RIGHT', body: `**major** Comment lies (swarm reviewer \`logic\`)\n\nIt says numbers.\n${SWARM_REVIEW_MARK}` }]);
    expect(payload.body).toContain('**swarm reviewer `logic`** (qwen:7b): requests changes');
    expect(payload.body).toContain('- `src/add.ts:10` **minor** Far away');
    expect(payload.body).toContain('- `docs.md` **nit** No line');
    expect(payload.body.endsWith(SWARM_REVIEW_MARK)).toBe(true);
    expect(payload).toMatchObject({ commit_id: 'abc', event: 'COMMENT' });
  });
});
