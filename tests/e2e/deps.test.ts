import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, openRegistry, ROOT, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

describe('worktree.deps through the daemon', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('deps-e2e');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('the first task installs, the next ones get the same dependencies without installing; the events say which', async () => {
    const record = join(box.dir, 'installs.log');
    writeConfig(box, {
      agents: { talk: { command: agentCommand('interactive.mjs') } },
      worktree: { deps: [{ command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'fake-install.mjs')], lockfiles: ['package.json'], paths: ['node_modules'] }] },
    });
    // The install command's record file is passed through the daemon's environment (setup commands inherit it).
    daemon = await runDaemon(box, { INSTALL_RECORD: record });
    const ids: number[] = [];
    for (const title of ['One', 'Two', 'Three']) ids.push((JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', title])).stdout) as { id: number }).id);
    for (const id of ids) await waitForState(box, id, 'running');
    expect(readFileSync(record, 'utf8').trim().split('\n')).toHaveLength(1);
    const registry = openRegistry(box);
    const how = ids.map((id) => (JSON.parse(registry.events(id).find((e) => e.kind === 'dependencies')!.data!) as { how: string[] }).how[0]);
    expect(how.filter((h) => h === 'installed')).toHaveLength(1);
    expect(how.filter((h) => h === 'restored')).toHaveLength(2);
    for (const id of ids) {
      const file = join(registry.getTask(id)!.worktree, 'node_modules', 'dep', 'index.js');
      expect(readFileSync(file, 'utf8')).toBe('module.exports = "sample";\n');
      expect(statSync(file).mode & 0o222).toBe(0);
    }
    // The cache lives in swarm's data folder (here the test's own), never in the repository.
    expect(existsSync(join(box.dir, 'data', 'worktree-swarm', 'deps'))).toBe(true);
    registry.close();
  });
});
