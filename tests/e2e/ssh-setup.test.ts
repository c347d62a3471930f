import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostConfigInput } from '../../src/config/schema.js';
import { agentCommand, BIN, readRecords, openRegistry, ROOT, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { endHostTest, startSshd, type Sshd } from '../helpers/sshd.js';

/**
 * A new checkout on a host gets what one here gets before its agent starts: the shared dependency installs
 * (from the host's own store) and the setup commands, run there. Only the listed untracked files of this
 * machine (a .env) stay here: nothing but the prompt and the repository's objects goes to a host.
 */
describe('a checkout on a host: its setup there, and the report files its CI writes there', () => {
  let box: Sandbox;
  let sshd: Sshd;
  let daemon: DaemonProcess | null = null;
  let host: HostConfigInput & { ssh_config: string };
  const remote = (): string => join(box.dir, 'remote');
  const hostData = (): string => join(box.dir, 'host-data');
  const installs = (): string => join(box.dir, 'installs.log');
  const install = { command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'fake-install.mjs')], lockfiles: ['package.json'], paths: ['node_modules'] };

  beforeEach(async () => {
    box = sandbox('ssh-setup');
    // The host's swarm keeps its data (the dependency store) in its own folder, and records installs.
    sshd = await startSshd({ hide: [box.repo], env: { XDG_DATA_HOME: hostData(), INSTALL_RECORD: installs() } });
    host = { ssh: 'box', dir: remote(), slots: 2, swarm: [process.execPath, BIN], ssh_config: sshd.clientConfig };
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await endHostTest(box, sshd, host, [remote()]);
  });

  it('installs once on the host and restores the next checkout there from its store, runs the setup commands there, and copies no .env of this machine (a task here still gets it)', async () => {
    writeFileSync(join(box.repo, '.env'), 'SECRET=only-on-this-machine\n');
    writeConfig(box, {
      agents: { talk: { command: agentCommand('interactive.mjs') } },
      hosts: { box: host },
      worktree: { copy: ['.env'], deps: [install], setup: [[process.execPath, '-e', "require('fs').writeFileSync('setup-ran', process.cwd())"]] },
    });
    daemon = await runDaemon(box, { INSTALL_RECORD: join(box.dir, 'installs-here.log') });
    const registry = openRegistry(box);
    const spawn = async (args: string[]): Promise<number> => {
      const spawned = await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', ...args]);
      expect(spawned.code, spawned.stderr).toBe(0);
      const id = (JSON.parse(spawned.stdout) as { id: number }).id;
      await waitForState(box, id, 'running', 60_000);
      return id;
    };
    const first = await spawn(['--host', 'box', 'One']);
    const second = await spawn(['--host', 'box', 'Two']);
    const how = (id: number): string[] => (JSON.parse(registry.events(id).find((e) => e.kind === 'dependencies')?.data ?? '{"how":[]}') as { how: string[] }).how;
    expect(how(first)).toEqual(['installed']);
    expect(how(second)).toEqual(['restored']);
    // One real install, run on the host in the first task's checkout there.
    expect(readFileSync(installs(), 'utf8').trim().split('\n')).toEqual([registry.getTask(first)!.worktree]);
    expect(existsSync(join(hostData(), 'worktree-swarm', 'deps'))).toBe(true);
    for (const id of [first, second]) {
      const checkout = registry.getTask(id)!.worktree;
      expect(checkout.startsWith(remote())).toBe(true);
      expect(readFileSync(join(checkout, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('module.exports = "sample";\n');
      expect(readFileSync(join(checkout, 'setup-ran'), 'utf8')).toBe(checkout);
      expect(existsSync(join(checkout, '.env'))).toBe(false);
    }
    // The neighbour: a task on this machine gets the .env, its own install and the setup as before.
    const here = await spawn(['Three']);
    const local = registry.getTask(here)!;
    expect(local.host).toBeNull();
    expect(readFileSync(join(local.worktree, '.env'), 'utf8')).toContain('only-on-this-machine');
    expect(existsSync(join(local.worktree, 'setup-ran'))).toBe(true);
    expect(how(here)).toEqual(['installed']);
    registry.close();
  });

  it('a setup command that fails on the host: the task needs help, saying which host and what the command printed', async () => {
    writeConfig(box, {
      agents: { talk: { command: agentCommand('interactive.mjs') } },
      hosts: { box: host },
      worktree: { setup: [[process.execPath, '-e', "console.error('setup broke: no database here'); process.exit(3)"]] },
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', '--host', 'box', 'One']);
    const id = (JSON.parse(spawned.stdout) as { id: number }).id;
    const task = await waitForState(box, id, 'needs_help', 60_000);
    expect(task.reason).toMatch(/On host box: Worktree setup command `.*` failed \(exit 3\)/);
    expect(task.reason).toContain('setup broke: no database here');
    expect(task.reason).toContain('Fix worktree.setup in swarm.config.json');
    expect(task.retries).toBe(0);
    // No agent was started there.
    const registry = openRegistry(box);
    expect(registry.attempts(id).filter((a) => a.kind === 'agent')).toHaveLength(0);
    registry.close();
  });

  it('CI red on the host with the failure only in its JUnit report: the report comes back, and the agent is respawned with its assertion', async () => {
    writeConfig(box, {
      agents: { fixer: { command: agentCommand('fixer.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ci: { command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'report-ci.mjs')], reports: ['reports/*.xml'] },
      hosts: { box: host },
    });
    daemon = await runDaemon(box);
    const id = (JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'fixer', '--host', 'box', 'Fix addNumbers'])).stdout) as { id: number }).id;
    const ready = await waitForState(box, id, 'ready', 90_000);
    // The log said only "1 test failed": the assertion reached the second attempt from the report on the host.
    expect(readRecords(box, 'fixer.jsonl')).toEqual([{ attempt: '1', sawAssertion: false }, { attempt: '2', sawAssertion: true }]);
    expect(ready.retries).toBe(1);
    const registry = openRegistry(box);
    const red = registry.attempts(id).find((a) => a.kind === 'ci' && a.outcome === 'failed')!;
    expect(red.session_dir.startsWith(remote())).toBe(true);
    // The first attempt's evidence names the test the report named.
    expect(registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 1)!.evidence).toContain('adds two numbers');
    registry.close();
  });
});
