/**
 * `swarm daemon install | uninstall`: the repository's daemon as a user service that starts at login (or
 * boot, with linger) and is restarted if it dies. What the service is lives in daemon/service.ts (pure);
 * this file writes it where the platform looks and asks systemd or launchd to run it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Project } from '../config/project.js';
import { DaemonError } from '../errors.js';
import { SWARM_BIN } from '../install.js';
import { envFile, launchAgentPlist, launchdLabel, serviceEnvNames, serviceName, systemdUnit } from '../daemon/service.js';
import { daemonStatus, stopDaemon } from './daemon.js';
import { waitFor } from '../wait.js';

export interface ServicePaths {
  name: string;
  kind: 'systemd' | 'launchd';
  /** The unit or the plist. */
  file: string;
  /** systemd: the environment file; launchd: the log file. */
  env: string | null;
  log: string | null;
}

export function servicePaths(repoRoot: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ServicePaths {
  const name = serviceName(repoRoot);
  const home = env.HOME ?? homedir();
  if (platform === 'darwin') {
    return { name, kind: 'launchd', file: join(home, 'Library', 'LaunchAgents', `${launchdLabel(name)}.plist`), env: null, log: join(home, 'Library', 'Logs', 'worktree-swarm', `${name}.log`) };
  }
  const config = env.XDG_CONFIG_HOME || join(home, '.config');
  return { name, kind: 'systemd', file: join(config, 'systemd', 'user', `${name}.service`), env: join(config, 'swarm', 'services', `${name}.env`), log: null };
}

function run(program: string, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error) return { ok: false, out: (result.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${program} is not installed` : result.error.message };
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}`.trim() };
}

/** What the service would be, without installing it (`--print`). */
export function renderService(project: Project, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { paths: ServicePaths; text: string; envNames: string[] } {
  const paths = servicePaths(project.repo.root, env, platform);
  const envNames = serviceEnvNames(project.config, env);
  const command = [process.execPath, SWARM_BIN, 'daemon', 'run', ...(paths.log ? ['--log-file', paths.log] : [])];
  const spec = { name: paths.name, repoRoot: project.repo.root, command, envPath: paths.env ?? '' };
  const text = paths.kind === 'systemd' ? systemdUnit(spec) : launchAgentPlist({ ...spec, env: Object.fromEntries(envNames.map((n) => [n, env[n] ?? ''])), logPath: `${paths.log}.stderr` });
  return { paths, text, envNames };
}

/** Installs and starts the service; the lines to show. Writes nothing when the platform cannot run it. */
export async function installService(project: Project, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<string[]> {
  const { paths, text, envNames } = renderService(project, env, platform);
  if (paths.kind === 'systemd') {
    const manager = run('systemctl', ['--user', 'show-environment']);
    if (!manager.ok) {
      throw new DaemonError(
        'SWARM_NO_SERVICE_MANAGER',
        `This machine has no systemd user manager to run the daemon as a service (systemctl --user: ${manager.out.split('\n')[0] || 'no answer'}). Nothing was installed. Run \`swarm daemon start\` instead (from your shell's start-up file to have it at login), or see the unit with \`swarm daemon install --print\` to install it by hand.`,
      );
    }
  } else if (platform !== 'darwin' || !run('launchctl', ['help']).ok) {
    throw new DaemonError('SWARM_NO_SERVICE_MANAGER', 'launchctl is not available here. Nothing was installed. Run `swarm daemon start` instead.');
  }
  const lines: string[] = [];
  // A daemon started by hand holds the repository's lock: it hands over to the service (agents keep running).
  const running = await daemonStatus(project);
  if (running && !running.service) {
    await stopDaemon(project);
    lines.push(`Stopped the daemon started by hand (pid ${running.pid}); the service runs it from now on. Running agents keep running.`);
  }
  const written: string[] = [];
  try {
    mkdirSync(dirname(paths.file), { recursive: true });
    if (paths.env) {
      mkdirSync(dirname(paths.env), { recursive: true, mode: 0o700 });
      writeFileSync(paths.env, envFile(envNames, env), { mode: 0o600 });
      chmodSync(paths.env, 0o600);
      written.push(paths.env);
    }
    if (paths.log) mkdirSync(dirname(paths.log), { recursive: true });
    writeFileSync(paths.file, text, { mode: paths.kind === 'launchd' ? 0o600 : 0o644 });
    written.push(paths.file);
    const steps: [string, string[]][] =
      paths.kind === 'systemd'
        ? [
            ['systemctl', ['--user', 'daemon-reload']],
            ['systemctl', ['--user', 'enable', '--now', `${paths.name}.service`]],
          ]
        : [['launchctl', ['bootstrap', `gui/${userInfo().uid}`, paths.file]]];
    for (const [program, args] of steps) {
      const step = run(program, args);
      if (!step.ok) throw new DaemonError('SWARM_SERVICE_FAILED', `${program} ${args.join(' ')} failed: ${step.out}. Nothing is left installed.`);
    }
  } catch (err) {
    for (const file of written) rmSync(file, { force: true });
    if (paths.kind === 'systemd') run('systemctl', ['--user', 'daemon-reload']);
    throw err;
  }
  lines.push(`Installed ${paths.file}.`);
  if (paths.env) lines.push(`Its environment (${envNames.join(', ') || 'nothing'}) is in ${paths.env}, readable only by you; run install again after changing a token.`);
  const answered = await waitFor(async () => ((await daemonStatus(project))?.service ? true : undefined), { timeoutMs: 20_000, what: 'the service\'s daemon' }).catch(() => false);
  lines.push(answered ? 'The daemon runs under the service: it starts at login and is restarted if it dies.' : `The service was started but its daemon has not answered yet: ${paths.kind === 'systemd' ? `journalctl --user -u ${paths.name}` : `see ${paths.log}`}.`);
  if (paths.kind === 'systemd') {
    const linger = run('loginctl', ['show-user', userInfo().username, '--property=Linger', '--value']);
    lines.push(linger.out === 'yes' ? 'Linger is on: it also runs after you log out, and from boot.' : `It stops when you log out. To keep it running without a login, and from boot: loginctl enable-linger ${userInfo().username}`);
    lines.push(`Logs: journalctl --user -u ${paths.name} -f`);
  } else {
    lines.push(`Logs: ${paths.log} (rotated at 10 MB, 3 kept)`);
  }
  return lines;
}

/** Stops and removes the service; the lines to show. */
export function uninstallService(project: Project, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const paths = servicePaths(project.repo.root, env, platform);
  if (!existsSync(paths.file)) return [`No service is installed for this repository (${paths.file} does not exist).`];
  const lines: string[] = [];
  const stop = paths.kind === 'systemd' ? run('systemctl', ['--user', 'disable', '--now', `${paths.name}.service`]) : run('launchctl', ['bootout', `gui/${userInfo().uid}/${launchdLabel(paths.name)}`]);
  if (!stop.ok) lines.push(`Could not stop the service (${stop.out.split('\n')[0]}); its files are removed all the same. A daemon still running stops with \`swarm daemon stop\`.`);
  rmSync(paths.file, { force: true });
  if (paths.env) rmSync(paths.env, { force: true });
  if (paths.kind === 'systemd') run('systemctl', ['--user', 'daemon-reload']);
  lines.push(`Removed ${paths.file}${paths.env ? ` and ${paths.env}` : ''}. The daemon no longer starts by itself; running agents keep running.`);
  return lines;
}
