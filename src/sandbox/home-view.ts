/**
 * What a sandbox shows of the user's home, which it hides whole: an allowlist, never a list of secrets to hide
 * (no list keeps up with every tool's credential file). Toolchains and version managers that live in the home
 * are shown back read-only, each only if present, plus what the user lists in `sandbox_home_read`. The same
 * for the machine: other users' homes and root-only secrets are hidden. Pure: `exists` is passed in.
 */
import { join } from 'node:path';

/** Toolchains and their caches that live in a home: programs an agent or its CI may need to run. */
export const TOOLCHAIN_HOME_PATHS = [
  '.nvm',
  '.volta',
  '.fnm',
  '.local/share/fnm',
  '.asdf',
  '.local/share/mise',
  '.pyenv',
  '.rustup',
  '.cargo/bin',
  '.cargo/registry',
  'go/pkg/mod',
  'go/bin',
  '.bun/bin',
  '.deno/bin',
  '.local/bin',
  '.sdkman/candidates',
] as const;

/** Folders that hold other people's homes, hidden whole (the user's own is hidden too, then shown back in part). */
export const HOMES_ROOTS = ['/home', '/root', '/Users'] as const;

/** Files only root should read: an agent running as root without capabilities can still read what root owns. */
export const MACHINE_SECRET_FILES = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-', '/etc/sudoers', '/etc/master.passwd'] as const;
export const MACHINE_SECRET_DIRS = ['/etc/ssl/private', '/etc/sudoers.d', '/var/lib/sss'] as const;

export interface HomeView {
  /** Hidden whole (an empty tmpfs): the user's home, other homes. */
  hide: string[];
  /** Shown back read-only inside them, in order. */
  show: string[];
  /** Root-only files masked with /dev/null, folders with an empty tmpfs. */
  secrets: { path: string; file: boolean }[];
}

/** A path relative to the home that stays inside it (`..` and absolute paths are refused, not followed). */
export function insideHome(home: string, entry: string): string | null {
  const clean = entry.replace(/^~\//, '').replace(/\/+$/, '');
  if (!clean || clean.startsWith('/') || clean.split('/').includes('..')) return null;
  return join(home, clean);
}

export function homeView(input: { home: string; extraRead: readonly string[]; exists: (path: string) => boolean; isDir: (path: string) => boolean; listDir: (path: string) => string[] }): HomeView {
  const hide = [...new Set([...HOMES_ROOTS.filter((root) => input.exists(root)), input.home])].filter((p) => p !== '/');
  // A home inside a hidden root is covered by it; hiding it again is harmless and keeps the rule plain.
  const show = [...TOOLCHAIN_HOME_PATHS, ...input.extraRead].flatMap((entry) => {
    const path = insideHome(input.home, entry);
    return path && input.exists(path) ? [path] : [];
  });
  const sshKeys = input.exists('/etc/ssh') ? input.listDir('/etc/ssh').filter((name) => /^ssh_host_.*_key$/.test(name)).map((name) => join('/etc/ssh', name)) : [];
  const secrets = [
    ...[...MACHINE_SECRET_FILES, ...sshKeys].filter((path) => input.exists(path) && !input.isDir(path)).map((path) => ({ path, file: true })),
    ...MACHINE_SECRET_DIRS.filter((path) => input.exists(path) && input.isDir(path)).map((path) => ({ path, file: false })),
  ];
  return { hide, show: [...new Set(show)], secrets };
}

/**
 * The folder to show for a program that lives somewhere hidden (`hidden` roots): an npm package's whole
 * `node_modules` (its platform binaries live in sibling packages), else the program's own folder.
 */
export function programView(realPath: string, hidden: readonly string[]): string | null {
  if (!hidden.some((root) => realPath === root || realPath.startsWith(`${root}/`))) return null;
  const modules = realPath.indexOf('/node_modules/');
  if (modules !== -1) return realPath.slice(0, modules + '/node_modules'.length);
  return realPath.slice(0, realPath.lastIndexOf('/')) || null;
}
