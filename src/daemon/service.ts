/**
 * Pure: the user service that keeps a repository's daemon running (docs/daemon.md, "Always on"): a systemd
 * user unit on Linux, a LaunchAgent on macOS. Both run `swarm daemon run` in the repository, restart it if
 * it dies, and stop only the daemon on a stop (agents keep running in their session holders, as with
 * `swarm daemon stop`). The environment the daemon needs (PATH, and the variables the config names) goes in
 * a file only the user can read, never in the unit.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { XMLBuilder } from 'fast-xml-parser';
import picomatch from 'picomatch';
import type { SwarmConfig } from '../config/schema.js';
import { PROVIDER_ENV } from '../agents/clis.js';

/** One service per repository: `swarm-<folder>-<hash of the path>`. */
export function serviceName(repoRoot: string): string {
  const slug = basename(repoRoot).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'repo';
  return `swarm-${slug}-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 8)}`;
}

/** The environment variables the daemon reads for this config: tokens by name, the agents' providers', PATH. */
export function serviceEnvNames(config: SwarmConfig, env: NodeJS.ProcessEnv): string[] {
  const exact = new Set(['PATH', 'LANG', 'LC_ALL', 'OLLAMA_HOST', 'SWARM_LOG_LEVEL']);
  const { notify, orchestrator } = config;
  for (const name of [notify.telegram?.token_env, notify.slack?.webhook_url_env, notify.ntfy?.token_env, notify.webhook?.token_env, orchestrator.api_key_env, config.forge === 'github' ? config.github.token_env : undefined]) if (name) exact.add(name);
  if (notify.slack?.channels.length) for (const name of [notify.slack.bot_token_env, notify.slack.app_token_env]) exact.add(name);
  const patterns = new Set<string>();
  for (const agent of Object.values(config.agents)) {
    if (agent.api_key_env) exact.add(agent.api_key_env);
    for (const name of agent.pass_env) patterns.add(name);
    const provider = agent.type === 'claude' || agent.type === 'codex' || agent.type === 'gemini' ? PROVIDER_ENV[agent.type] : agent.type === 'opencode' || agent.type === 'aider' ? PROVIDER_ENV.multi : [];
    for (const name of provider) patterns.add(name);
  }
  const match = picomatch([...patterns]);
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && (exact.has(name) || match(name)))
    .sort();
}

/** A systemd EnvironmentFile: NAME="value", with what systemd unquotes escaped. */
export function envFile(names: readonly string[], env: NodeJS.ProcessEnv): string {
  const lines = names.map((name) => `${name}="${(env[name] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `# Written by \`swarm daemon install\`: the environment of the swarm daemon's service. Only you can read it.\n${lines.join('\n')}\n`;
}

/** One word of a systemd command line: quoted when it must be, `%` and `$` kept literal. */
function systemdWord(word: string): string {
  const literal = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(literal) || literal === '' ? `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : literal;
}

export interface ServiceSpec {
  name: string;
  repoRoot: string;
  /** The program and its arguments: node, swarm's bin, daemon run. */
  command: readonly string[];
  /** The environment file (systemd) or the variables themselves (launchd). */
  envPath: string;
}

export function systemdUnit(spec: ServiceSpec): string {
  return [
    '[Unit]',
    `Description=worktree-swarm daemon for ${spec.repoRoot.replace(/%/g, '%%')}`,
    'Documentation=man:systemd.service(5)',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${spec.repoRoot.replace(/%/g, '%%')}`,
    `ExecStart=${spec.command.map(systemdWord).join(' ')}`,
    `EnvironmentFile=-${spec.envPath.replace(/%/g, '%%')}`,
    `Environment=SWARM_SERVICE=${spec.name}`,
    'Restart=on-failure',
    'RestartSec=5',
    // The daemon only: the agents' session holders outlive a stop or a restart, as with `swarm daemon stop`.
    'KillMode=process',
    'TimeoutStopSec=30',
    `SyslogIdentifier=${spec.name}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

export interface LaunchAgentSpec extends ServiceSpec {
  env: Record<string, string>;
  logPath: string;
}

/** The LaunchAgent's label: reverse-DNS, as launchd wants. */
export function launchdLabel(name: string): string {
  return `dev.worktree-swarm.${name}`;
}

export function launchAgentPlist(spec: LaunchAgentSpec): string {
  // A plist dict is a flat run of <key> and value elements, in order: built as an ordered list.
  const dict = (entries: [string, Record<string, unknown>][]): Record<string, unknown>[] => entries.flatMap(([key, value]) => [{ key: [{ '#text': key }] }, value]);
  const string = (text: string): Record<string, unknown> => ({ string: [{ '#text': text }] });
  const plist = [
    { '?xml': [{ '#text': '' }], ':@': { '@_version': '1.0', '@_encoding': 'UTF-8' } },
    {
      plist: [
        {
          dict: dict([
            ['Label', string(launchdLabel(spec.name))],
            ['ProgramArguments', { array: spec.command.map((word) => ({ string: [{ '#text': word }] })) }],
            ['WorkingDirectory', string(spec.repoRoot)],
            ['EnvironmentVariables', { dict: dict([...Object.entries(spec.env), ['SWARM_SERVICE', spec.name]].map(([k, v]) => [k, string(v)])) }],
            ['RunAtLoad', { true: [] }],
            // Restarted when it dies, not after a clean `swarm daemon stop`.
            ['KeepAlive', { dict: dict([['SuccessfulExit', { false: [] }]]) }],
            ['ThrottleInterval', { integer: [{ '#text': '5' }] }],
            ['AbandonProcessGroup', { true: [] }],
            ['StandardOutPath', string(spec.logPath)],
            ['StandardErrorPath', string(spec.logPath)],
          ]),
        },
      ],
      ':@': { '@_version': '1.0' },
    },
  ];
  const xml = new XMLBuilder({ preserveOrder: true, format: true, indentBy: '  ', ignoreAttributes: false, suppressEmptyNode: true, processEntities: true }).build(plist) as string;
  return xml.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">');
}
