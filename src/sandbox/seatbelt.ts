/**
 * swarm's sandbox on macOS: a Seatbelt profile for `sandbox-exec`, with the rules bubblewrap's plan has on
 * Linux: the checkout and the agent's fresh home writable, the machine readable but every home hidden except
 * the allowlist, `.swarm/` and other checkouts hidden, root-only files masked, and with the endpoints-only
 * network, nothing reachable but the session's proxy socket. Pure: the plan in, the profile text out. In
 * Seatbelt's language a later rule overrides an earlier one, so the order below is the contract (as in
 * bwrapArgv). Verified on macOS only by the CI workflow's macos-latest job.
 */
import type { SandboxPlan } from './bwrap.js';

/** A string literal in the profile language. */
function quote(path: string): string {
  return `"${path.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

const subpaths = (paths: readonly string[]): string => paths.map((p) => `(subpath ${quote(p)})`).join(' ');

/** `tmp`: the folder the agent gets as its private temporary folder (TMPDIR), writable. */
export function seatbeltProfile(plan: SandboxPlan, tmp: string): string {
  const lines = [
    '(version 1)',
    '(deny default)',
    // Running programs at all: processes, the terminal, the system services every program asks.
    '(allow process-exec process-fork)',
    '(allow signal (target same-sandbox))',
    '(allow sysctl-read mach-lookup ipc-posix-shm iokit-open pseudo-tty file-ioctl)',
    // The machine readable, the human's checkout included (never writable).
    '(allow file-read*)',
  ];
  const homes = plan.hiddenHomes ?? [];
  if (homes.length) lines.push(`(deny file-read* ${subpaths(homes)})`);
  const readable = [plan.repoRoot, ...plan.views];
  lines.push(`(allow file-read* ${subpaths(readable)})`);
  if (plan.hiddenDirs.length) lines.push(`(deny file-read* file-write* ${subpaths(plan.hiddenDirs)})`);
  for (const path of plan.shown) lines.push(`(allow file-read* (literal ${quote(path)}))`);
  const writable = [...(plan.worktreeReadOnly ? [] : [plan.worktree]), ...(plan.home ? [plan.home] : []), tmp];
  lines.push(`(allow file-read* ${subpaths([plan.worktree, ...(plan.home ? [plan.home] : []), tmp])})`);
  lines.push(`(allow file-write* ${subpaths(writable)} (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))`);
  for (const { path, file } of plan.secrets) lines.push(`(deny file-read* file-write* (${file ? 'literal' : 'subpath'} ${quote(path)}))`);
  if (plan.network === 'host') lines.push('(allow network*)');
  else if (plan.netDir) {
    // Only the session's bridge: its unix sockets (the proxy, forwarded loopback ports).
    lines.push(`(allow network-outbound (remote unix-socket (subpath ${quote(plan.netDir)})))`);
    lines.push(`(allow file-read* file-write* (subpath ${quote(plan.netDir)}))`);
  }
  return `${lines.join('\n')}\n`;
}

/** The argument vector running `argv` under `sandbox-exec` with that profile. */
export function seatbeltArgv(plan: SandboxPlan, tmp: string, argv: readonly string[]): string[] {
  return ['/usr/bin/sandbox-exec', '-p', seatbeltProfile(plan, tmp), ...argv];
}
