/** `swarm hosts`: each configured host checked for real over SSH (reachable, git, node, swarm, CLIs, sandbox, disk, memory), and each cluster over its API. */
import type { Command } from 'commander';
import type { Project } from '../config/project.js';
import { ExitCode } from '../errors.js';
import type { HostReport } from '../runners/ssh/probe.js';
import { json, type Out } from './output.js';
import { withProject } from './with-project.js';

/** Every host and cluster asked at once (one ssh round trip each; a few API requests each); the order of the config kept. */
export async function hostReports(project: Project): Promise<HostReport[]> {
  const { probeHost } = await import('../runners/ssh/probe.js');
  const clusters = Object.entries(project.config.kubernetes);
  const { probeCluster } = clusters.length ? await import('../runners/kubernetes/probe.js') : { probeCluster: null };
  return Promise.all([
    ...Object.entries(project.config.hosts).map(([name, host]) => probeHost(name, host, project.paths.dir)),
    ...clusters.map(([name, cluster]) => probeCluster!(name, cluster, project.config)),
  ]);
}

export function renderHosts(reports: readonly HostReport[]): string {
  if (!reports.length) return 'No hosts configured: every task runs on this machine. Add one under "hosts" in swarm.config.json, e.g. "hosts": { "box": { "ssh": "me@box" } } (see docs/hosts.md), or a cluster under "kubernetes" (docs/kubernetes.md).';
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.name} (${r.ssh}): ${r.ok ? 'ready' : r.reachable ? 'NOT ready' : 'UNREACHABLE'}`);
    for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}`);
  }
  return lines.join('\n');
}

export function registerHostsCommand(program: Command, io: Out, cwd: () => string | undefined): void {
  // The host's half of the SSH runner, run there by the daemon over ssh: not a command for people.
  program
    .command('host', { hidden: true })
    .argument('<op>')
    .argument('[args...]')
    .action(async (op: string, args: string[]) => {
      const { onHost } = await import('../runners/ssh/on-host.js');
      process.exitCode = await onHost(op, args);
    });

  program
    .command('hosts')
    .description('check each host in the config for real over SSH (reachable, git, node, swarm, coding CLIs, sandbox, disk, memory), and each cluster over its API')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const reports = await hostReports(project);
        io.out(options.json ? json(reports) : renderHosts(reports));
        if (reports.some((r) => !r.ok)) process.exitCode = ExitCode.host;
      }),
    );
}
