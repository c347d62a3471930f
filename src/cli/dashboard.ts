/** `swarm dashboard`: starts the daemon if needed and opens its web UI with a one-time sign-in link. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { DaemonClient } from '../daemon/client.js';
import { DaemonError } from '../errors.js';
import { dashboardUrl } from '../api/urls.js';
import { json, type Out } from './output.js';
import { withProject } from './with-project.js';

/** The desktop's "open this URL" command, or null where there is no desktop to open it on. */
export function openerFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] | null {
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler'];
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : null;
}

function openInBrowser(url: string): Promise<boolean> {
  const opener = openerFor(process.platform, process.env);
  if (!opener) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(opener[0]!, [...opener.slice(1), url], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

export function registerDashboardCommand(program: Command, io: Out, cwd: () => string | undefined): void {
  program
    .command('dashboard')
    .description('open the web dashboard (board, live terminals, task pages); starts the daemon if needed')
    .option('--print', 'print the sign-in link instead of opening a browser')
    .option('--public', 'a link on dashboard.public_url (to open on your phone)')
    .option('--json', 'machine-readable output')
    .action((options: { print?: boolean; public?: boolean; json?: boolean }) =>
      withProject(cwd(), async (project) => {
        await (await import('./daemon.js')).startDaemon(project);
        const client = DaemonClient.find(project.paths);
        if (!client) throw new DaemonError('SWARM_DAEMON_NOT_RUNNING', 'The daemon stopped right after starting; see .swarm/daemon.log.');
        const { url } = await client.ticket();
        const publicUrl = project.config.dashboard.public_url;
        if (options.public && !publicUrl) throw new DaemonError('SWARM_NO_PUBLIC_URL', 'dashboard.public_url is not set in swarm.config.json: set it to the address your phone reaches this machine at (e.g. a tailnet name), with dashboard.host listening there.');
        const link = options.public && publicUrl ? dashboardUrl(publicUrl, `login${new URL(url).search}`) : url;
        const opened = !options.print && !options.json && !options.public && (await openInBrowser(link));
        if (options.json) return io.out(json({ url: link, port: client.port }));
        io.out(opened ? `Opened the dashboard in your browser.` : `Dashboard (a one-time sign-in link; open it in one browser):\n  ${link}`);
      }),
    );
}
