import { describe, expect, it } from 'vitest';
import type { TaskRow } from '../../registry/types.js';
import { needsHelpMessage, readyMessage } from '../../src/notify/messages.js';

const task = { id: 3, title: 'Fix addNumbers', branch: 'swarm/3-fix', retries: 0 } as TaskRow;

describe('notification words', () => {
  it.each([
    [0, undefined, 'Task 3 needs help: The AI review could not be completed'],
    [1, undefined, 'Task 3 needs help after 1 retry: The AI review could not be completed'],
    [3, undefined, 'Task 3 needs help after 3 retries: The AI review could not be completed'],
    [2, 'Error: invalid API key', 'Task 3 needs help: Error: invalid API key'],
  ] as const)('needs help after %i retries (decisive line %s)', (retries, line, title) => {
    expect(needsHelpMessage({ ...task, retries }, 'The AI review could not be completed', line).title).toBe(title);
  });

  it('ready, and ready again after the branch moved, naming both commits', () => {
    expect(readyMessage(task, 7, true, { approvals: 2, of: 2, fixed: 0 }).title).toBe('Task 3 ready: PR #7, CI green, 2/2 reviewers approve');
    const again = readyMessage(task, 7, true, { approvals: 2, of: 2, fixed: 0 }, [], { from: 'a'.repeat(40), to: 'b'.repeat(40) });
    expect(again.title).toBe('Task 3 ready again: PR #7, CI green, 2/2 reviewers approve');
    expect(again.body).toContain('Ready again: the branch moved from aaaaaaaaaa to bbbbbbbbbb after it was ready, and the new head passed CI and review.');
  });
});
