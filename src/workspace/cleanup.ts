import { existsSync } from 'node:fs';
import type { Registry } from '../../registry/registry.js';
import { branchExists } from './git.js';
import { removeWorktree } from './worktrees.js';

export interface CleanupReport {
  removed: { task: number; path: string }[];
  kept: { task: number; path: string; why: string }[];
}

/**
 * Removes worktrees and branches of done and cancelled tasks. Never the main checkout; never a worktree
 * with uncommitted work unless `force`.
 */
export async function cleanupFinished(repoRoot: string, registry: Registry, options: { force?: boolean } = {}): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], kept: [] };
  for (const task of registry.listTasks(['done', 'cancelled'])) {
    const hasWorktree = task.worktree !== '' && existsSync(task.worktree);
    if (!hasWorktree && !(await branchExists(repoRoot, task.branch))) continue;
    const result = await removeWorktree(repoRoot, task.worktree, task.branch, { force: options.force, deleteBranch: true });
    if (result.removed) {
      report.removed.push({ task: task.id, path: task.worktree });
      registry.recordEvent(task.id, 'cleaned_up', { worktree: task.worktree, branch: task.branch });
    } else report.kept.push({ task: task.id, path: task.worktree, why: result.why ?? 'unknown' });
  }
  return report;
}
