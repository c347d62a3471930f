/** Which runner a task's sessions and checkout live on. Every room that reaches a task asks here. */
import type { Project } from '../config/project.js';
import type { SpareHolder } from '../sessions/spare.js';
import type { WorktreePool } from '../workspace/pool.js';
import { LocalRunner } from './local.js';
import { SshRunner } from './ssh/runner.js';
import { KubeRunner } from './kubernetes/runner.js';
import type { Runner } from './runner.js';

export class Runners {
  private readonly byName = new Map<string, Runner>();

  constructor(readonly local: Runner, others: readonly Runner[] = []) {
    this.byName.set(local.name, local);
    for (const runner of others) this.byName.set(runner.name, runner);
  }

  /** The runner a task was placed on (`host`, null or absent = this machine). */
  for(task: { host?: string | null }): Runner {
    const name = task.host ?? this.local.name;
    const runner = this.byName.get(name);
    if (!runner) throw new Error(`This task runs on "${name}", which is not in the config's hosts any more. Add it back (or run \`swarm kill\` on the task).`);
    return runner;
  }

  all(): Runner[] {
    return [...this.byName.values()];
  }

  close(): void {
    for (const runner of this.byName.values()) runner.close?.();
  }
}

/** This machine only: for a room used on its own (a benchmark, a test of one room). */
export function localRunners(repoRoot: string, sessionsDir: string): Runners {
  return new Runners(new LocalRunner({ repoRoot, sessionsDir }));
}

const made = new WeakMap<Project, Runners>();

/**
 * The project's runners, made once per project (the daemon first, with its spare holders; a CLI command on
 * its own). Every room reaches a task's sessions and checkout through these.
 */
export function runnersOf(project: Project, daemon: { spares?: SpareHolder; pool?: WorktreePool } = {}): Runners {
  let runners = made.get(project);
  if (!runners) {
    const hosts = Object.entries(project.config.hosts).map(([name, host]): Runner => new SshRunner(name, host, project.repo.root, project.paths.dir, project.config));
    const clusters = Object.entries(project.config.kubernetes).map(([name, cluster]): Runner => new KubeRunner(name, cluster, project.repo.root, project.paths.dir, project.config));
    runners = new Runners(new LocalRunner({ repoRoot: project.repo.root, sessionsDir: project.paths.sessions, config: project.config, ...daemon }), [...hosts, ...clusters]);
    made.set(project, runners);
  }
  return runners;
}
