/**
 * A real browser for the dashboard tests: Debian's Chromium driven by playwright-core (Playwright cannot
 * download its own browser here). Chromium's own sandbox needs unprivileged user namespaces for a non-root
 * user; these tests run as root, where Chromium refuses to start without --no-sandbox.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './sample.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? 'chromium';

export function launchBrowser(): Promise<Browser> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({ executablePath: CHROMIUM, args: root ? ['--no-sandbox'] : [] });
}

/** Screenshots a test run keeps for a person to look at (test-results/ is ignored by git). */
export function screenshotPath(name: string): string {
  const dir = join(ROOT, 'test-results', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };
