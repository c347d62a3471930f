/**
 * Every repository whose daemon ran on this machine, by its `.swarm/` folder: a sandbox hides them all, not
 * only its own, so an agent cannot read another repository's daemon token and drive that daemon. The list
 * lives in swarm's data folder, itself hidden from agents.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { swarmDataDir } from './data-dir.js';

function listFile(): string {
  return join(swarmDataDir(), 'state-dirs.json');
}

export function knownStateDirs(): string[] {
  try {
    return z.array(z.string()).catch([]).parse(JSON.parse(readFileSync(listFile(), 'utf8')));
  } catch {
    return [];
  }
}

/** Adds a repository's `.swarm/` (daemon start); drops entries that no longer exist. */
export function rememberStateDir(stateDir: string): void {
  const dirs = [...new Set([...knownStateDirs().filter((dir) => existsSync(dir)), stateDir])];
  mkdirSync(swarmDataDir(), { recursive: true, mode: 0o700 });
  const tmp = `${listFile()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(dirs, null, 2), { mode: 0o600 });
  renameSync(tmp, listFile());
}
