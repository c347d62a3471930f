/**
 * The whole test run gets its own swarm data folder (XDG_DATA_HOME): a daemon a test starts through the CLI
 * (`swarm demo`, `swarm daemon start`) remembers its repository there, never in the real home. Removed after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-test-data-'));
  process.env.XDG_DATA_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
