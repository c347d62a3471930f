import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SwarmConfig } from '../../src/config/schema.js';
import { envFile, launchAgentPlist, serviceEnvNames, serviceName, systemdUnit } from '../../src/daemon/service.js';
import { rotateLog } from '../../src/log.js';
import { agentCommand, BIN, runDaemon, sandbox, swarm, tempDir, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { waitFor } from '../../src/wait.js';

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('the service files', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('service')));
  afterEach(() => execFileSync('rm', ['-rf', dir]));

  it('one service per repository, named after it', () => {
    expect(serviceName('/home/ana/My Shop')).toMatch(/^swarm-my-shop-[0-9a-f]{8}$/);
    expect(serviceName('/home/ana/My Shop')).toBe(serviceName('/home/ana/My Shop'));
    expect(serviceName('/home/bob/My Shop')).not.toBe(serviceName('/home/ana/My Shop'));
  });

  it('the daemon gets PATH and what the config names (tokens, its agents\' providers), nothing else', () => {
    const config = SwarmConfig.parse({
      agents: { claude: { type: 'claude' }, mine: { command: ['x'], pass_env: ['COMPANY_*'] } },
      notify: { telegram: { chats: [1] }, slack: { channels: ['C0SWARM'] } },
      forge: 'github',
    });
    const env = { PATH: '/usr/bin', TELEGRAM_BOT_TOKEN: 't', SLACK_BOT_TOKEN: 'b', SLACK_APP_TOKEN: 'a', GITHUB_TOKEN: 'g', ANTHROPIC_API_KEY: 'k', COMPANY_PROXY: 'p', AWS_SECRET_ACCESS_KEY: 'no', OPENAI_API_KEY: 'not for claude', HOME: '/root' };
    expect(serviceEnvNames(config, env)).toEqual(['ANTHROPIC_API_KEY', 'COMPANY_PROXY', 'GITHUB_TOKEN', 'PATH', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN']);
    expect(envFile(['A', 'B'], { A: 'plain', B: 'with "quotes" and \\ and\nnewline' })).toContain('A="plain"\nB="with \\"quotes\\" and \\\\ and\\nnewline"');
  });

  it.runIf(hasSystemdAnalyze)('the systemd unit passes systemd-analyze verify, even for a repository path with spaces, % and $', () => {
    const repo = join(dir, 'my shop 100% $HOME');
    mkdirSync(repo);
    const name = serviceName(repo);
    const unit = join(dir, `${name}.service`);
    writeFileSync(unit, systemdUnit({ name, repoRoot: repo, command: [process.execPath, join(repo, 'bin', 'swarm.js'), 'daemon', 'run'], envPath: join(dir, 'env file') }));
    const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    // verify exits 0 on an unknown key or a bad quote too, and says so: nothing said about the unit is the pass.
    expect(verified.status).toBe(0);
    expect(verified.stderr.split('\n').filter((l) => l.includes(unit) || /unknown|invalid|ignoring/i.test(l))).toEqual([]);
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(`WorkingDirectory=${join(dir, 'my shop 100%% $HOME')}`);
    expect(text).toContain(`ExecStart=${process.execPath} "${join(dir, 'my shop 100%% $$HOME', 'bin', 'swarm.js')}" daemon run`);
    expect(text).toContain('KillMode=process');
    expect(text).toContain('Restart=on-failure');
  });

  it('the LaunchAgent is a well-formed plist that runs the daemon at load, restarts it if it dies, and keeps special characters', () => {
    const xml = launchAgentPlist({ name: 'swarm-shop-1234abcd', repoRoot: '/Users/ana/R&D <shop>', command: ['/usr/local/bin/node', '/opt/swarm/bin/swarm.js', 'daemon', 'run', '--log-file', '/Users/ana/Library/Logs/worktree-swarm/x.log'], envPath: '', env: { PATH: '/usr/bin:/bin', TELEGRAM_BOT_TOKEN: 'a&b' }, logPath: '/tmp/x.stderr' });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1.0\/\/EN"/);
    const parsed = new XMLParser({ preserveOrder: true, ignoreAttributes: false }).parse(xml) as Record<string, unknown>[];
    const plist = parsed.find((n) => 'plist' in n)!.plist as Record<string, unknown>[];
    // A plist dict is an ordered run of key, value: read it back into an object.
    type Node = Record<string, unknown>;
    const value = (node: Node): unknown => {
      if ('string' in node) return ((node.string as Node[])[0]?.['#text'] as string | undefined) ?? '';
      if ('integer' in node) return Number((node.integer as Node[])[0]!['#text']);
      if ('true' in node) return true;
      if ('false' in node) return false;
      if ('array' in node) return (node.array as Node[]).map(value);
      const entries = node.dict as Node[];
      const out: Record<string, unknown> = {};
      for (let i = 0; i < entries.length; i += 2) out[String((entries[i]!.key as Node[])[0]!['#text'])] = value(entries[i + 1]!);
      return out;
    };
    expect(value(plist[0]!)).toEqual({
      Label: 'dev.worktree-swarm.swarm-shop-1234abcd',
      ProgramArguments: ['/usr/local/bin/node', '/opt/swarm/bin/swarm.js', 'daemon', 'run', '--log-file', '/Users/ana/Library/Logs/worktree-swarm/x.log'],
      WorkingDirectory: '/Users/ana/R&D <shop>',
      EnvironmentVariables: { PATH: '/usr/bin:/bin', TELEGRAM_BOT_TOKEN: 'a&b', SWARM_SERVICE: 'swarm-shop-1234abcd' },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 5,
      AbandonProcessGroup: true,
      StandardOutPath: '/tmp/x.stderr',
      StandardErrorPath: '/tmp/x.stderr',
    });
    if (spawnSync('plutil', ['-help']).status === 0) {
      const file = join(dir, 'x.plist');
      writeFileSync(file, xml);
      expect(spawnSync('plutil', ['-lint', file]).status).toBe(0);
    }
  });

  it('a log past its size moves to .1, the older ones shift, the oldest beyond three is dropped', () => {
    const log = join(dir, 'daemon.log');
    for (const [file, text] of [[log, 'x'.repeat(100)], [`${log}.1`, 'one'], [`${log}.2`, 'two'], [`${log}.3`, 'three']] as const) writeFileSync(file, text);
    expect(rotateLog(log, 1000)).toBe(false);
    expect(rotateLog(log, 50)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['daemon.log.1', 'daemon.log.2', 'daemon.log.3']);
    expect(readFileSync(`${log}.1`, 'utf8')).toBe('x'.repeat(100));
    expect(readFileSync(`${log}.3`, 'utf8')).toBe('two');
  });
});

describe('swarm daemon install, uninstall, status', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('svc');
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } }, default_agent: 'right', notify: { desktop: false, telegram: { chats: [1], api_url: 'http://127.0.0.1:9/' } } });
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('without a systemd user manager, install says so, what to do instead, and writes nothing; --print shows the unit and the variables it would keep, never their values', async () => {
    const config = join(box.dir, 'xdg');
    const env = { XDG_CONFIG_HOME: config, TELEGRAM_BOT_TOKEN: 'secret-telegram-token' };
    const installed = await swarm(box.repo, ['daemon', 'install'], env);
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toContain('This machine has no systemd user manager to run the daemon as a service');
    expect(installed.stderr).toContain('Nothing was installed. Run `swarm daemon start` instead');
    expect(existsSync(config)).toBe(false);

    const printed = await swarm(box.repo, ['daemon', 'install', '--print'], env);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^# ${config}/systemd/user/swarm-repo-[0-9a-f]{8}\\.service\\n\\[Unit\\]`));
    expect(printed.stdout).toContain(`WorkingDirectory=${box.repo}`);
    expect(printed.stdout).toMatch(/would hold: .*PATH.*TELEGRAM_BOT_TOKEN/);
    expect(printed.stdout).not.toContain('secret-telegram-token');
    expect(existsSync(config)).toBe(false);

    const removed = await swarm(box.repo, ['daemon', 'uninstall'], env);
    expect(removed.stdout).toContain('No service is installed for this repository');
  });

  it('status says whether the daemon runs under the service; --log-file logs to a file', async () => {
    const log = join(box.dir, 'logs', 'daemon.log');
    const env = { TELEGRAM_BOT_TOKEN: '1:x', XDG_CONFIG_HOME: join(box.dir, 'xdg') };
    const stopped = await swarm(box.repo, ['daemon', 'status'], env);
    expect(stopped.stdout).toContain('Daemon not running. Start it with `swarm daemon start`, or keep it always on with `swarm daemon install`.');

    daemon = await runDaemon(box, { ...env, SWARM_SERVICE: 'swarm-repo-0000' });
    const status = await swarm(box.repo, ['daemon', 'status'], env);
    expect(status.stdout).toContain('Under the service swarm-repo-0000: started at login, restarted if it dies.');
    daemon.child.kill('SIGKILL');
    await daemon.exited;

    const byHand = await runDaemon(box, env);
    daemon = byHand;
    expect((await swarm(box.repo, ['daemon', 'status'], env)).stdout).toContain('Started by hand');
    byHand.child.kill('SIGKILL');
    await byHand.exited;

    // Under launchd the daemon keeps its own log: to the file, not to standard output.
    const child = spawn(process.execPath, [BIN, 'daemon', 'run', '--log-file', log], { cwd: box.repo, env: { ...process.env, ...env, XDG_DATA_HOME: join(box.dir, 'data') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => (existsSync(log) && readFileSync(log, 'utf8').includes('daemon started') ? true : undefined), { timeoutMs: 20_000, what: 'the daemon\'s log file' });
      expect(out).not.toContain('daemon started');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
