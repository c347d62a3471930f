/** The dashboard's files (built by `npm run build` into dist/web) and its two server-made pages. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from '../install.js';

export const WEB_DIR = `${join(DIST, 'web')}/`;

export const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/main.js': { file: `${WEB_DIR}main.js`, type: 'text/javascript; charset=utf-8' },
  '/assets/main.css': { file: `${WEB_DIR}main.css`, type: 'text/css; charset=utf-8' },
};

export function webBuilt(): boolean {
  return existsSync(ASSETS['/assets/main.js']!.file);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const HEAD = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="dark light">';

export function indexHtml(): string {
  if (!webBuilt()) return messagePage('The dashboard is not built.', 'Run `npm run build` in the worktree-swarm folder, then reload.');
  return `<!doctype html><html lang="en"><head>${HEAD}<title>swarm</title><link rel="stylesheet" href="/assets/main.css"></head><body><div id="app"></div><script type="module" src="/assets/main.js"></script></body></html>`;
}

export function messagePage(title: string, hint: string): string {
  return `<!doctype html><html lang="en"><head>${HEAD}<title>swarm: ${escape(title)}</title></head><body style="font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem"><h1 style="font-size:1.3rem">${escape(title)}</h1><p>${escape(hint)}</p></body></html>`;
}
