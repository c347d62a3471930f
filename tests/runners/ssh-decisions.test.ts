import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { agentOnHost, compatibleSwarm, judgeHost, parseProbe, versionIn, type HostFacts } from '../../src/runners/ssh/probe.js';
import { remoteCommand, shellQuote, sshTrouble } from '../../src/runners/ssh/ssh.js';
import { SwarmConfig, type HostConfig } from '../../src/config/schema.js';
import { pinnedHost } from '../../src/orchestrator/intake.js';

const HOST: HostConfig = { ssh: 'me@box', dir: '~/swarm', slots: 4, swarm: ['swarm'], gone_minutes: 30 };
const FACTS: HostFacts = { os: 'Linux', arch: 'x86_64', git: 'git version 2.43.0', node: 'v22.3.0', swarm: '0.1.0', paths: { claude: '/usr/bin/claude', bwrap: '/usr/bin/bwrap' }, dir: '/home/me/swarm', dir_error: null, disk_free_mb: 50_000, mem_free_mb: 12_000, mem_total_mb: 32_000 };

describe('quoting for the remote shell', () => {
  it.each(['plain', 'two words', "it's", '$(touch pwned)', '`id`', 'a;b|c&d', '"q"', '~/swarm', '', 'new\nline', '*'])('%j reaches the remote argv as it is', (arg) => {
    // The host's sh reads what ssh hands it: here a local sh stands in and prints each argument back.
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${remoteCommand([arg])}`], { encoding: 'utf8' });
    expect(out).toBe(`${arg}\0`);
  });
  it('leaves safe words unquoted', () => expect(shellQuote('--version')).toBe('--version'));
});

describe('versions', () => {
  it.each([
    ['git version 2.39.5', [2, 39, 5]],
    ['v20.19.2', [20, 19, 2]],
    ['0.1.0', [0, 1, 0]],
    ['git version 2.38', [2, 38, 0]],
    [null, null],
    ['nothing', null],
  ] as const)('versionIn(%j)', (text, want) => expect(versionIn(text)).toEqual(want));
  it.each([
    ['0.1.0', '0.1.3', true],
    ['0.1.0', '0.2.0', false],
    ['1.2.0', '1.9.1', true],
    ['1.2.0', '2.0.0', false],
    ['0.1.0', null, false],
  ] as const)('local %s, host %s: compatible %s', (local, remote, ok) => expect(compatibleSwarm(local, remote)).toBe(ok));
});

describe('judging a host', () => {
  const failing = (facts: Partial<HostFacts>) => judgeHost('box', HOST, { ...FACTS, ...facts }, '0.1.0').filter((c) => !c.ok).map((c) => c.what);
  it.each([
    ['everything there', {}, []],
    ['git too old', { git: 'git version 2.30.1' }, [/git 2\.30\.1 is too old.*2\.38/]],
    ['no git', { git: null }, [/no git on box's PATH/]],
    ['node too old', { node: 'v18.19.0' }, [/node v18\.19\.0 is too old/]],
    ['no node', { node: null }, [/no node on box's PATH.*non-interactive ssh/]],
    ['no swarm', { swarm: null }, [/no swarm on box.*npm install -g worktree-swarm@0\.1\.0/]],
    ['another swarm', { swarm: '0.3.0' }, [/swarm 0\.3\.0 on box does not match this one \(0\.1\.0\)/]],
    ['folder not writable', { dir_error: 'cannot create or write /srv/swarm', dir: null }, [/cannot create or write \/srv\/swarm on box: set hosts\.box\.dir/]],
    ['disk full', { disk_free_mb: 300 }, [/only 300 MB free.*Free some space there/]],
  ] as const)('%s', (_what, facts, want) => {
    const got = failing(facts);
    expect(got).toHaveLength(want.length);
    want.forEach((re, i) => expect(got[i]).toMatch(re));
  });
  it('says the CLIs, the sandbox, the disk and the memory it found', () => {
    const all = judgeHost('box', HOST, FACTS, '0.1.0').map((c) => c.what).join('\n');
    expect(all).toMatch(/coding CLIs: claude/);
    expect(all).toMatch(/bubblewrap: yes/);
    expect(all).toMatch(/memory: 11\.7 GB free of 31\.3 GB; 4 slots/);
    expect(judgeHost('mac', HOST, { ...FACTS, os: 'Darwin', paths: {} }, '0.1.0').map((c) => c.what).join('\n')).toMatch(/sandbox: Darwin \(no bubblewrap\)/);
  });
});

describe('reading the probe', () => {
  it('reads every field, and refuses an answer cut short', () => {
    const out = 'os=Linux\narch=aarch64\ngit=git version 2.39.5\nnode=v20.20.2\nswarm=0.1.0\npath.codex=/opt/codex\npath.claude=\ndir=/root/swarm\ndisk_kb=2097152\nmem_kb=1048576\nmem_total_kb=4194304\nend=1\n';
    expect(parseProbe(out)).toEqual({ os: 'Linux', arch: 'aarch64', git: 'git version 2.39.5', node: 'v20.20.2', swarm: '0.1.0', paths: { codex: '/opt/codex' }, dir: '/root/swarm', dir_error: null, disk_free_mb: 2048, mem_free_mb: 1024, mem_total_mb: 4096 });
    expect(parseProbe(out.replace('end=1\n', ''))).toBeNull();
    expect(parseProbe('fish: Unknown command\n')).toBeNull();
  });
});

describe("ssh's own failures, in words", () => {
  it.each([
    ['@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.', /different host key.*never accepts a changed key/],
    ['No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.', /not trusted yet.*Run `ssh me@box` once yourself/],
    ['me@box: Permission denied (publickey).', /refused the login.*never a password.*ssh-copy-id me@box/],
    ['ssh: connect to host box port 22: Connection refused', /cannot be reached: ssh: connect to host box port 22: Connection refused/],
    ['ssh: Could not resolve hostname box: Name or service not known', /cannot be reached: .*Could not resolve hostname/],
  ])('%j', (stderr, want) => expect(sshTrouble('box', HOST, { code: 255, stdout: '', stderr })).toMatch(want));
  it('a remote command that failed is not ssh trouble', () => expect(sshTrouble('box', HOST, { code: 1, stdout: '', stderr: 'no such file' })).toBeNull());
});

describe('can this host run this agent', () => {
  type Agent = { type: string; sandboxed: boolean; command?: string[] };
  const problems = (facts: Partial<HostFacts>, agent: Agent) => agentOnHost('box', { ...FACTS, ...facts }, { name: 'dev', ...agent }).join('\n');
  const cases: [string, Partial<HostFacts>, Agent, string][] = [
    ['its CLI and bubblewrap there', {}, { type: 'claude', sandboxed: true }, ''],
    ['its CLI missing', { paths: { bwrap: '/usr/bin/bwrap' } }, { type: 'claude', sandboxed: true }, 'box has no claude on its PATH: install it there'],
    ['a command of its own (a path): not looked up', { paths: { bwrap: '/usr/bin/bwrap' } }, { type: 'claude', sandboxed: true, command: ['/opt/claude'] }, ''],
    ['a command by name is the CLI looked up', { paths: { bwrap: '/usr/bin/bwrap' } }, { type: 'claude', sandboxed: false, command: ['claude'] }, 'no claude on its PATH'],
    ['sandboxed, no bubblewrap on Linux', { paths: { claude: '/usr/bin/claude' } }, { type: 'claude', sandboxed: true }, 'no bubblewrap: install it there (`sudo apt-get install bubblewrap`)'],
    ['sandboxed on a Mac', { os: 'Darwin', paths: { claude: '/usr/bin/claude' } }, { type: 'claude', sandboxed: true }, 'needs bubblewrap on Linux: run this task here, or give the agent "sandbox": "none"'],
    ['unconfined needs no bubblewrap', { paths: { claude: '/usr/bin/claude' } }, { type: 'claude', sandboxed: false }, ''],
    ['a custom agent is not looked up by type', { paths: {} }, { type: 'custom', sandboxed: false, command: ['./run.sh'] }, ''],
  ];
  it.each(cases)('%s', (_what, facts, agent, want) => {
    const said = problems(facts, agent);
    if (want === '') expect(said).toBe('');
    else expect(said).toContain(want);
  });
});

describe('where a task is pinned', () => {
  const config = SwarmConfig.parse({
    agents: { plain: { type: 'claude' }, boxed: { type: 'codex', runs_on: 'box' } },
    kinds: { far: { host: 'box2' }, via: { agent: 'boxed' }, both: { agent: 'boxed', host: 'box2' } },
    hosts: { box: { ssh: 'box' }, box2: { ssh: 'box2' } },
  });
  it.each([
    ['nothing said: placed by room', {}, undefined],
    ['--host', { host: 'box2' }, 'box2'],
    ['a kind with a host', { kind: 'far' }, 'box2'],
    ['--host over the kind', { kind: 'far', host: 'box' }, 'box'],
    ['an agent that runs on a host', { agent: 'boxed' }, 'box'],
    ['an agent without one', { agent: 'plain' }, undefined],
    ["a kind's agent that runs on a host", { kind: 'via' }, 'box'],
    ["a kind's host over its agent's", { kind: 'both' }, 'box2'],
    ['--host local over the agent: this machine', { agent: 'boxed', host: 'local' }, 'local'],
    ['an agent not in the config', { agent: 'ghost' }, undefined],
  ] as [string, { host?: string; kind?: string; agent?: string }, string | undefined][])('%s', (_what, input, want) => expect(pinnedHost(config, input)).toBe(want));
});
