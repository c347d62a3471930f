/**
 * Does bubblewrap work on this machine? Probed once (a confined `true`), remembered per bwrap binary, and
 * said in words with the fix when it does not: not installed, unprivileged user namespaces off (a sysctl), or
 * Ubuntu 24.04's AppArmor restriction on them. Absent a "sandbox" key, swarm sandboxes whenever it works.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { findBwrap } from './bwrap.js';

export type SandboxProbe = { ok: true; bwrap: string } | { ok: false; why: string; fix: string };

export interface ProbeFacts {
  bwrap: string | null;
  /** The confined `true`'s exit code and what it printed. */
  code: number;
  stderr: string;
  /** /proc/sys values, null where absent. */
  apparmorRestrict: string | null;
  unprivilegedClone: string | null;
  maxUserNamespaces: string | null;
}

/** Pure: what the probe's outcome means, with the fix. */
export function probeVerdict(f: ProbeFacts): SandboxProbe {
  if (!f.bwrap) return { ok: false, why: 'bubblewrap (bwrap) is not installed', fix: 'install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install bubblewrap`)' };
  if (f.code === 0) return { ok: true, bwrap: f.bwrap };
  const said = f.stderr.trim().split('\n').at(-1) ?? '';
  if (f.apparmorRestrict === '1') {
    return { ok: false, why: `bubblewrap cannot create a user namespace: Ubuntu's AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1; bwrap said "${said}")`, fix: 'allow bwrap an AppArmor profile with "userns," (see /etc/apparmor.d/bwrap-userns-restrict on Ubuntu 24.04: `sudo ln -s /usr/share/apparmor/extra-profiles/bwrap-userns-restrict /etc/apparmor.d/ && sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict`), or `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`' };
  }
  if (f.unprivilegedClone === '0') return { ok: false, why: `unprivileged user namespaces are switched off (kernel.unprivileged_userns_clone=0; bwrap said "${said}")`, fix: '`sudo sysctl kernel.unprivileged_userns_clone=1` (and in /etc/sysctl.d/ to keep it)' };
  if (f.maxUserNamespaces === '0') return { ok: false, why: `user namespaces are switched off (user.max_user_namespaces=0; bwrap said "${said}")`, fix: '`sudo sysctl user.max_user_namespaces=15000` (and in /etc/sysctl.d/ to keep it)' };
  return { ok: false, why: `bubblewrap could not start a sandbox here: ${said || `exit code ${f.code}`}`, fix: 'run `bwrap --ro-bind / / true` to see why (inside a container, the container must allow user namespaces)' };
}

const sysctl = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

const cache = new Map<string, SandboxProbe>();

/** Runs the probe (once per bwrap binary and process). */
export function probeSandbox(path = process.env.PATH ?? ''): SandboxProbe {
  if (process.platform === 'darwin') return { ok: false, why: 'on macOS swarm does not run agents under a sandbox yet (its Seatbelt profile is generated and verified in CI, not yet used to run agents)', fix: 'run swarm on Linux with bubblewrap for a sandbox' };
  const bwrap = findBwrap(path);
  const key = bwrap ? `${bwrap}@${statSync(bwrap, { throwIfNoEntry: false })?.mtimeMs ?? 0}` : 'none';
  const known = cache.get(key);
  if (known) return known;
  let code = 0;
  let stderr = '';
  if (bwrap) {
    try {
      execFileSync(bwrap, ['--die-with-parent', '--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    } catch (err) {
      const e = err as { status?: number | null; stderr?: Buffer };
      code = e.status ?? 1;
      stderr = e.stderr?.toString() ?? String(err);
    }
  }
  const verdict = probeVerdict({ bwrap, code, stderr, apparmorRestrict: sysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'), unprivilegedClone: sysctl('/proc/sys/kernel/unprivileged_userns_clone'), maxUserNamespaces: sysctl('/proc/sys/user/max_user_namespaces') });
  cache.set(key, verdict);
  return verdict;
}

/** The sandbox an agent gets when neither it nor the config names one: bubblewrap wherever it works. */
export function defaultSandbox(): 'bwrap' | 'none' {
  return probeSandbox().ok ? 'bwrap' : 'none';
}

/** One line for `daemon start` and `swarm doctor` about the default. */
export function sandboxLine(configured: 'bwrap' | 'none' | undefined): string {
  if (configured === 'none') return 'sandbox: none (set in swarm.config.json): agents run as you, with your home and network.';
  const probe = probeSandbox();
  if (configured === 'bwrap') return probe.ok ? 'sandbox: bubblewrap (set in swarm.config.json).' : `sandbox: bubblewrap is set in swarm.config.json but cannot run: ${probe.why}. Fix: ${probe.fix}.`;
  return probe.ok ? 'sandbox: bubblewrap (the default where it works; "sandbox": "none" turns it off).' : `sandbox: NONE, because ${probe.why}. Agents run as you, with your home and network. Fix: ${probe.fix}; or set "sandbox": "none" to say it is deliberate.`;
}
