import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SWARM_ROOT } from './install.js';

function readVersion(): string {
  try {
    const { version } = JSON.parse(readFileSync(join(SWARM_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();
