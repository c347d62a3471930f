import { existsSync } from 'node:fs';
import type { Registry } from '../../registry/registry.js';
import { branchExists } from './git.js';
import type { TaskRow } from '../../registry/types.js';
import { removeWorktree, type RemoveResult } from './worktrees.js';

export interface CleanupReport {
  removed: { task: number; path: string }[];
  kept: { task: number; path: string; why: string }[];
}

/**
 * Removes worktrees and branches of done and cancelled tasks. Never the main checkout; never a worktree
 * with uncommitted work unless `force`.
 */
export async function cleanupFinished(repoRoot: string, registry: Registry, options: { force?: boolean; remote?: (task: TaskRow, options: { force?: boolean; deleteBranch: boolean }) => Promise<RemoveResult> } = {}): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], kept: [] };
  for (const task of registry.listTasks(['done', 'cancelled'])) {
    // A task on a host: its checkout is there (removed through its runner), once.
    const onHost = task.host !== null && options.remote !== undefined && !registry.events(task.id).some((e) => e.kind === 'cleaned_up');
    const hasWorktree = onHost || (task.worktree !== '' && existsSync(task.worktree));
    if (!hasWorktree && !(await branchExists(repoRoot, task.branch))) continue;
    const result = onHost && options.remote ? await options.remote(task, { force: options.force, deleteBranch: true }) : await removeWorktree(repoRoot, task.worktree, task.branch, { force: options.force, deleteBranch: true });
    if (result.removed) {
      report.removed.push({ task: task.id, path: task.worktree });
      registry.recordEvent(task.id, 'cleaned_up', { worktree: task.worktree, branch: task.branch });
    } else report.kept.push({ task: task.id, path: task.worktree, why: result.why ?? 'unknown' });
  }
  return report;
}
