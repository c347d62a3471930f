/** Where the conformance suite finds the real coding CLIs (installed by scripts/install-clis.sh). */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './sample.js';

export const PINNED: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'scripts', 'clis.json'), 'utf8')) as Record<string, string>;

export function cliDir(): string {
  return process.env.SWARM_CLI_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'worktree-swarm', 'clis');
}

/** The real binary, or an error that says how to install it: the suite never silently skips a CLI. */
export function realCli(name: 'claude' | 'codex' | 'gemini' | 'opencode'): string {
  const bin = join(cliDir(), 'node_modules', '.bin', name);
  if (!existsSync(bin)) throw new Error(`${name} is not installed in ${cliDir()}. Run \`bash scripts/install-clis.sh\` (CI does), or set SWARM_CLI_DIR.`);
  return bin;
}
