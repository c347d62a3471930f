/** `swarm cleanup`: worktrees and branches of finished tasks, and the warm worktrees. */
import type { Command } from 'commander';
import { silentLogger } from '../log.js';
import { cleanupFinished } from '../workspace/cleanup.js';
import { WorktreePool } from '../workspace/pool.js';
import { DEPS_UNUSED_DAYS, pruneDeps } from '../workspace/deps.js';
import { swarmDataDir } from '../sandbox/data-dir.js';
import { join } from 'node:path';
import { poolRoot } from '../workspace/worktrees.js';
import { json, type Out } from './output.js';
import { withProject } from './with-project.js';
import { runnersOf } from '../runners/runners.js';

export function registerCleanupCommand(program: Command, io: Out, cwd: () => string | undefined): void {
  program
    .command('cleanup')
    .description('remove worktrees and branches of done and cancelled tasks (never uncommitted work unless --force)')
    .option('--force', 'also remove worktrees with uncommitted changes')
    .option('--json', 'machine-readable output')
    .action((options: { force?: boolean; json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const report = await cleanupFinished(project.repo.root, project.registry, { force: options.force, remote: (task, o) => runnersOf(project).for(task).removeCheckout(task, o) });
        // Warm worktrees go too; the daemon makes new ones when it next needs them.
        const warm = await new WorktreePool(project.repo.root, poolRoot(project.config, project.repo.root), project.config.base, 0, silentLogger()).clear();
        const deps = pruneDeps(join(swarmDataDir(), 'deps'), Date.now());
        if (options.json) return io.out(json({ ...report, warm_removed: warm, deps_removed: deps.length }));
        for (const r of report.removed) io.out(`removed task ${r.task}: ${r.path}`);
        for (const k of report.kept) io.out(`kept task ${k.task}: ${k.why}`);
        if (warm) io.out(`removed ${warm} warm worktree${warm === 1 ? '' : 's'} (worktree.pool)`);
        if (deps.length) io.out(`removed ${deps.length} cached dependency install${deps.length === 1 ? '' : 's'} unused for ${DEPS_UNUSED_DAYS} days (worktree.deps)`);
        if (report.removed.length + report.kept.length + warm + deps.length === 0) io.out('Nothing to clean up.');
      }),
    );
}
