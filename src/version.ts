import { readFileSync } from 'node:fs';
import { z } from 'zod';

function readVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return z.object({ version: z.string() }).parse(JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'))).version;
    } catch {
      // try the next layout (dist/src vs src)
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
