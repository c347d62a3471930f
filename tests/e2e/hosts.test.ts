import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfigInput } from '../../src/config/schema.js';
import { closeHost } from '../../src/runners/ssh/ssh.js';
import { BIN, sandbox, swarm, writeConfig, type Sandbox } from '../helpers/sample.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

/** `swarm hosts` and `swarm doctor` against a real sshd whose logins cannot see the daemon's repository. */
describe('hosts over real OpenSSH', () => {
  let sshd: Sshd;
  let box: Sandbox;
  const host = (over: Partial<HostConfigInput> & { ssh: string }): HostConfigInput => ({ dir: join(box.dir, 'remote'), slots: 3, swarm: [process.execPath, BIN], ssh_config: sshd.clientConfig, ...over });
  beforeAll(async () => {
    box = sandbox('hosts');
    // A host whose disk is full: its folder there is a 1 MB tmpfs. A host with another major version of swarm.
    mkdirSync(join(box.dir, 'tiny'));
    sshd = await startSshd({ hide: [box.repo, join(box.dir, 'tiny')] });
    const elder = join(box.dir, 'elder-swarm');
    writeFileSync(elder, '#!/bin/sh\necho 9.0.1\n');
    chmodSync(elder, 0o755);
    writeConfig(box, {
      agents: { a: { command: ['true'], sandbox: 'none' }, helper: { type: 'aider', sandbox: 'none' } },
      hosts: {
        box: host({ ssh: 'box' }),
        stranger: host({ ssh: 'stranger' }),
        impostor: host({ ssh: 'impostor' }),
        bare: host({ ssh: 'box', swarm: ['swarm-not-installed-here'] }),
        elder: host({ ssh: 'box', swarm: [elder] }),
        full: host({ ssh: 'box', dir: join(box.dir, 'tiny') }),
      },
    });
  });
  afterAll(async () => {
    for (const ssh of ['box', 'stranger', 'impostor']) await closeHost(host({ ssh }), join(box.repo, '.swarm'));
    sshd.cleanup();
    box.cleanup();
  });

  it('checks each host for real: what a ready one has, and why the others are not, in words with what to do', async () => {
    const result = await swarm(box.repo, ['hosts', '--json']);
    expect(result.code).toBe(10);
    const reports = JSON.parse(result.stdout) as { name: string; ok: boolean; reachable: boolean; checks: { ok: boolean; what: string }[]; facts: { git: string; node: string; swarm: string; mem_free_mb: number; paths: Record<string, string> } | null }[];
    const by = new Map(reports.map((r) => [r.name, r]));
    const ready = by.get('box')!;
    expect(ready.ok).toBe(true);
    expect(ready.facts!.git).toBe(execFileSync('git', ['--version'], { encoding: 'utf8' }).trim());
    expect(ready.facts!.node).toBe(process.version);
    expect(ready.facts!.swarm).toBe('0.1.0');
    expect(ready.facts!.mem_free_mb).toBeGreaterThan(0);
    expect(ready.checks.map((c) => c.what).join('\n')).toMatch(/bubblewrap: yes/);
    // The host's folder was made there, as the ssh user.
    expect(readdirSync(box.dir)).toContain('remote');

    expect(by.get('stranger')).toMatchObject({ ok: false, reachable: false });
    expect(by.get('stranger')!.checks[0]!.what).toMatch(/not trusted yet.*Run `ssh stranger` once yourself, check the fingerprint/);
    expect(by.get('impostor')!.checks[0]!.what).toMatch(/different host key.*never accepts a changed key/);
    const bare = by.get('bare')!;
    expect(bare).toMatchObject({ ok: false, reachable: true });
    expect(bare.checks.find((c) => !c.ok)!.what).toMatch(/no swarm on bare.*npm install -g worktree-swarm@0\.1\.0/);

    const text = await swarm(box.repo, ['hosts']);
    expect(text.stdout).toMatch(/^box \(box\): ready$/m);
    expect(text.stdout).toMatch(/^stranger \(stranger\): UNREACHABLE$/m);
    expect(text.stdout).toMatch(/^bare \(box\): NOT ready$/m);
  });

  it('spawn on a host that cannot take the task is refused in words, and nothing is queued', async () => {
    const cases = [
      ['a', 'bare', /no swarm on bare/],
      ['a', 'stranger', /not trusted yet/],
      ['a', 'nowhere', /Unknown host "nowhere"\. The hosts in swarm\.config\.json are: box, stranger, impostor, bare, elder, full/],
      ['a', 'elder', /swarm 9\.0\.1 on elder does not match this one \(0\.1\.0\): install the same version there \(`npm install -g worktree-swarm@0\.1\.0`\)/],
      ['a', 'full', /only \d+ MB free in .*tiny on full: a checkout and its installs need more \(at least 2048 MB\)\. Free some space there\./],
      // Its CLI is the host's: not needed here (aider is not installed here either), and missing there.
      ['helper', 'box', /agent helper runs aider, and box has no aider on its PATH: install it there \(and log in there\), or run this task here\./],
    ] as const;
    for (const [agent, name, why] of cases) {
      const refused = await swarm(box.repo, ['spawn', '--host', name, '--agent', agent, 'Fix addNumbers']);
      expect(refused.code, `${name}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toMatch(why);
    }
    expect(JSON.parse((await swarm(box.repo, ['ls', '--all', '--json'])).stdout)).toEqual([]);
  });

  it('a host that stopped answering is said to be unreachable; doctor says the same for each host', async () => {
    sshd.stop();
    try {
      await closeHost(host({ ssh: 'box' }), join(box.repo, '.swarm'));
      const result = await swarm(box.repo, ['hosts', '--json']);
      const reports = JSON.parse(result.stdout) as { name: string; reachable: boolean; checks: { what: string }[] }[];
      const down = reports.find((r) => r.name === 'box')!;
      expect(down.reachable).toBe(false);
      expect(down.checks[0]!.what).toMatch(/host box \(box\) cannot be reached: .*Connection refused.*Is it on, and is its ssh server running\?/);
      const doctor = await swarm(box.repo, ['doctor']);
      expect(doctor.stdout).toMatch(/FAIL host box: host box \(box\) cannot be reached/);
    } finally {
      await sshd.restart();
    }
    const doctor = await swarm(box.repo, ['doctor']);
    expect(doctor.stdout).toMatch(/ok   host box: git \d+\.\d+/);
    expect(doctor.stdout).toMatch(/FAIL host stranger: .*not trusted yet/);
  });

  it('an unknown host key is never written to known_hosts, and a bad hosts entry is refused before anything runs', async () => {
    const knownEmpty = join(sshd.dir, 'known_hosts_empty');
    await swarm(box.repo, ['hosts']);
    expect(execFileSync('cat', [knownEmpty], { encoding: 'utf8' })).toBe('');
    writeConfig(box, { agents: { a: { command: ['true'] } }, hosts: { local: { ssh: 'box' } } });
    const refused = await swarm(box.repo, ['hosts']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/the name "local" means this machine/);
    writeConfig(box, { agents: { a: { command: ['true'] } }, hosts: { box: { ssh: '-oProxyCommand=touch pwned' } } });
    const option = await swarm(box.repo, ['hosts']);
    expect(option.code).toBe(3);
    expect(option.stderr).toMatch(/an ssh destination/);
  });
});
