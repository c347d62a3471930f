import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfigInput } from '../../src/config/schema.js';
import { closeHost } from '../../src/runners/ssh/ssh.js';
import type { Sshd } from '../../scripts/sshd.js';
import { killAllSessions, type Sandbox } from './sample.js';

export { startSshd, SSHD, type Sshd } from '../../scripts/sshd.js';

/**
 * After a test with tasks on a host: the shared connection closed, the holders left on the host (they run as
 * this user) killed, the server and the box removed. `remotes`: the hosts' `dir`s.
 */
export async function endHostTest(box: Sandbox, sshd: Sshd, host: HostConfigInput, remotes: readonly string[]): Promise<void> {
  await closeHost(host, join(box.repo, '.swarm'));
  for (const root of remotes) {
    for (const repoDir of existsSync(root) ? readdirSync(root) : []) killAllSessions(box.repo, join(root, repoDir, 'sessions'));
  }
  sshd.cleanup();
  box.cleanup();
}
