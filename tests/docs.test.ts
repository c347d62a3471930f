/**
 * The docs cannot drift: every link between README.md and docs/ resolves (file and heading), and every
 * configuration key the docs name exists in the config schema, and every top-level key is documented.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { DOCS_HELP } from '../src/cli/main.js';
import { SwarmConfig } from '../src/config/schema.js';
import { ROOT } from './helpers/sample.js';

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (page: string): string => readFileSync(join(ROOT, page), 'utf8');

/** The text outside fenced code blocks. */
function prose(text: string): string {
  return text.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '');
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- ]/gu, '').replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  return new Set([...prose(read(page)).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

/** JSON Schema of the config: the dotted paths it allows ("<name>" for a record's entries). */
function schemaPaths(): Set<string> {
  const paths = new Set<string>();
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, child] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.add(path);
      walk(child, path);
      for (const variant of [...((child.anyOf ?? []) as Record<string, unknown>[]), ...((child.oneOf ?? []) as Record<string, unknown>[])]) walk(variant, path);
      const items = child.items as Record<string, unknown> | undefined;
      if (items) walk(items, path);
      const entries = child.additionalProperties;
      if (entries && typeof entries === 'object') {
        paths.add(`${path}.<name>`);
        walk(entries as Record<string, unknown>, `${path}.<name>`);
      }
    }
  };
  walk(z.toJSONSchema(SwarmConfig, { io: 'input' }) as Record<string, unknown>, '');
  return paths;
}

/** Keys in the first column of the configuration tables: `a.b`, `a.<name>.c`, and `.c` short for a sibling. */
function documentedKeys(): string[] {
  const keys: string[] = [];
  for (const row of read('docs/configuration.md').split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1]!;
    let parent = '';
    for (const [, key] of first.matchAll(/`([^`]+)`/g)) {
      const name = key!.replace(/\.\*$/, '');
      if (name.startsWith('.')) keys.push(`${parent}${name}`);
      else {
        keys.push(name);
        parent = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
      }
    }
  }
  return keys;
}

describe('the docs', () => {
  it.each(pages)('%s: every relative link resolves to a file, and its #anchor to a heading there', (page) => {
    const broken: string[] = [];
    for (const [, target] of prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      const path = file ? resolve(dirname(join(ROOT, page)), file) : join(ROOT, page);
      if (!existsSync(path)) broken.push(`${target} (no such file)`);
      else if (anchor && path.endsWith('.md') && !anchors(path.slice(ROOT.length + 1)).has(anchor)) broken.push(`${target} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });

  it('every configuration key the docs name is in the schema', () => {
    const allowed = schemaPaths();
    const keys = documentedKeys();
    expect(keys.length).toBeGreaterThan(40);
    expect(keys.filter((k) => !allowed.has(k))).toEqual([]);
  });

  it('every top-level configuration key is documented', () => {
    const top = Object.keys((z.toJSONSchema(SwarmConfig, { io: 'input' }) as { properties: Record<string, unknown> }).properties);
    const documented = new Set(documentedKeys().map((k) => k.split('.')[0]));
    expect(top.filter((k) => !documented.has(k))).toEqual([]);
  });

  it('swarm --help names pages that exist', () => {
    const named = [...DOCS_HELP.matchAll(/docs\/[\w-]+\.md/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(5);
    for (const page of named) expect(existsSync(join(ROOT, page)), page).toBe(true);
  });

  it('the README is a map: short, and links every page in docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(120);
    for (const page of pages.filter((p) => p.startsWith('docs/'))) expect(readme).toContain(`(${page})`);
  });
});
