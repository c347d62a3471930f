/**
 * What a host has, asked for real over SSH: one POSIX sh script on the host's stdin (no bash assumed), one
 * round trip. Reading its answer and judging it are pure functions (table-tested); only `probeHost` does I/O.
 */
import type { HostConfig } from '../../config/schema.js';
import { VERSION } from '../../version.js';
import { runOnHost, sshTrouble } from './ssh.js';

/** The coding CLIs swarm can drive, looked for on the host's PATH (as a non-interactive ssh session sees it). */
export const HOST_CLIS = ['claude', 'codex', 'gemini', 'opencode', 'aider'] as const;

/** Prints mem_kb (available) and mem_total_kb: Linux's /proc/meminfo, else macOS's sysctl and vm_stat. */
const MEMORY_LINES = `if [ -r /proc/meminfo ]; then
  echo "mem_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)"
  echo "mem_total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
elif command -v sysctl >/dev/null 2>&1; then
  echo "mem_total_kb=$(( $(sysctl -n hw.memsize 2>/dev/null || echo 0) / 1024 ))"
  pages=$(vm_stat 2>/dev/null | awk '/Pages free|Pages inactive|Pages speculative/ {gsub("\\\\.","",$NF); s+=$NF} END {print s+0}')
  echo "mem_kb=$(( pages * 4 ))"
fi
`;

/** Run as `sh -s`: what a host has room for now (its free memory, whether it has the sandbox); read by parseProbe. */
export const ROOM_SCRIPT = `${MEMORY_LINES}echo "path.bwrap=$(command -v bwrap 2>/dev/null)"
echo "end=1"
`;

/** Run as `sh -s -- DIR SWARM...`: prints key=value lines. */
export const PROBE_SCRIPT = `
dir=$1; shift
case "$dir" in "~") dir=$HOME ;; "~/"*) dir="$HOME/\${dir#"~/"}" ;; esac
echo "os=$(uname -s 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"
echo "git=$(git --version 2>/dev/null)"
echo "node=$(node --version 2>/dev/null)"
echo "swarm=$("$@" --version 2>/dev/null | head -n 1)"
for c in ${HOST_CLIS.join(' ')} bwrap; do echo "path.$c=$(command -v "$c" 2>/dev/null)"; done
if mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ]; then echo "dir=$dir"; else echo "dir_error=cannot create or write $dir"; fi
echo "disk_kb=$(df -Pk "$dir" 2>/dev/null | awk 'NR==2 {print $4}')"
${MEMORY_LINES}echo "end=1"
`;

export interface HostFacts {
  os: string;
  arch: string;
  git: string | null;
  node: string | null;
  swarm: string | null;
  /** Absolute paths of the coding CLIs (and bwrap) found, by name. */
  paths: Record<string, string>;
  dir: string | null;
  dir_error: string | null;
  disk_free_mb: number | null;
  mem_free_mb: number | null;
  mem_total_mb: number | null;
}

const num = (text: string | undefined): number | null => (text && /^\d+$/.test(text) ? Math.floor(Number(text) / 1024) : null);

/** Reads the probe's output. Null when it did not run to its end (a shell that is not sh, a cut connection). Pure. */
export function parseProbe(output: string): HostFacts | null {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (values.get('end') !== '1') return null;
  const text = (key: string): string | null => values.get(key) || null;
  const paths: Record<string, string> = {};
  for (const [key, value] of values) if (key.startsWith('path.') && value) paths[key.slice(5)] = value;
  return { os: text('os') ?? 'unknown', arch: text('arch') ?? 'unknown', git: text('git'), node: text('node'), swarm: text('swarm'), paths, dir: text('dir'), dir_error: text('dir_error'), disk_free_mb: num(values.get('disk_kb')), mem_free_mb: num(values.get('mem_kb')), mem_total_mb: num(values.get('mem_total_kb')) };
}

/** The version numbers in a tool's `--version` line (`git version 2.39.5`, `v20.19.2`, `0.1.0`). Pure. */
export function versionIn(text: string | null): [number, number, number] | null {
  const match = text ? /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text) : null;
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

function atLeast(v: [number, number, number] | null, want: [number, number]): boolean {
  return v !== null && (v[0] > want[0] || (v[0] === want[0] && v[1] >= want[1]));
}

/** Same major version (for 0.x, the same minor: semver's rule before 1.0). Pure. */
export function compatibleSwarm(local: string, remote: string | null): boolean {
  const [l, r] = [versionIn(local), versionIn(remote)];
  if (!l || !r) return false;
  return l[0] === 0 ? r[0] === 0 && r[1] === l[1] : r[0] === l[0];
}

export interface HostCheck {
  ok: boolean;
  what: string;
}

/** Below this much free disk in the host's folder, a checkout and its installs may not fit. */
export const MIN_DISK_MB = 2048;

/** Each thing a host needs, judged, with what to do when it is missing. Pure. */
export function judgeHost(name: string, host: HostConfig, facts: HostFacts, localVersion: string = VERSION): HostCheck[] {
  const checks: HostCheck[] = [];
  const git = versionIn(facts.git);
  checks.push(atLeast(git, [2, 38]) ? { ok: true, what: `git ${git!.join('.')}` } : { ok: false, what: facts.git ? `git ${git?.join('.') ?? facts.git} is too old: swarm needs git 2.38 or newer there (merge-tree --write-tree). Upgrade git on ${name}.` : `no git on ${name}'s PATH: install git 2.38 or newer there.` });
  const node = versionIn(facts.node);
  checks.push(atLeast(node, [20, 0]) ? { ok: true, what: `node ${node!.join('.')}` } : { ok: false, what: facts.node ? `node ${facts.node} is too old: swarm needs Node 20 or newer on ${name}.` : `no node on ${name}'s PATH (as a non-interactive ssh session sees it): install Node 20 or newer there.` });
  if (!facts.swarm) checks.push({ ok: false, what: `no swarm on ${name} (ran \`${host.swarm.join(' ')} --version\`): install it there with \`npm install -g worktree-swarm@${localVersion}\`, or set hosts.${name}.swarm to how it is run.` });
  else if (!compatibleSwarm(localVersion, facts.swarm)) checks.push({ ok: false, what: `swarm ${facts.swarm} on ${name} does not match this one (${localVersion}): install the same version there (\`npm install -g worktree-swarm@${localVersion}\`).` });
  else checks.push({ ok: true, what: `swarm ${facts.swarm}` });
  const clis = HOST_CLIS.filter((c) => facts.paths[c]);
  checks.push({ ok: true, what: clis.length ? `coding CLIs: ${clis.join(', ')}` : 'no coding CLI on its PATH (tasks there can use only agents whose command is installed there)' });
  checks.push({ ok: true, what: facts.paths.bwrap ? 'bubblewrap: yes (agents run sandboxed there)' : facts.os === 'Linux' ? 'bubblewrap: no (install it there for the sandbox: apt-get install bubblewrap)' : `sandbox: ${facts.os} (no bubblewrap)` });
  if (facts.dir_error) checks.push({ ok: false, what: `${facts.dir_error} on ${name}: set hosts.${name}.dir to a folder the ssh user may write.` });
  if (facts.disk_free_mb !== null && facts.disk_free_mb < MIN_DISK_MB) checks.push({ ok: false, what: `only ${facts.disk_free_mb} MB free in ${facts.dir ?? host.dir} on ${name}: a checkout and its installs need more (at least ${MIN_DISK_MB} MB). Free some space there.` });
  else if (facts.disk_free_mb !== null) checks.push({ ok: true, what: `disk: ${Math.round(facts.disk_free_mb / 1024)} GB free in ${facts.dir ?? host.dir}` });
  checks.push({ ok: true, what: facts.mem_free_mb !== null ? `memory: ${(facts.mem_free_mb / 1024).toFixed(1)} GB free of ${((facts.mem_total_mb ?? 0) / 1024).toFixed(1)} GB; ${host.slots} slots` : `memory: unknown; ${host.slots} slots` });
  return checks;
}

/**
 * What keeps a host from running this agent: its coding CLI missing there, or (sandboxed) no bubblewrap there.
 * Words with what to do; empty when it can. Pure.
 */
export function agentOnHost(name: string, facts: HostFacts, agent: { name: string; type: string; sandboxed: boolean; command?: readonly string[] | undefined }): string[] {
  const problems: string[] = [];
  // A CLI found by name on the PATH; an agent whose command names a path of its own is the user's to install.
  const byName = !agent.command?.[0]?.includes('/');
  if (byName && (HOST_CLIS as readonly string[]).includes(agent.type) && !facts.paths[agent.type]) problems.push(`agent ${agent.name} runs ${agent.type}, and ${name} has no ${agent.type} on its PATH: install it there (and log in there), or run this task here.`);
  if (agent.sandboxed && !facts.paths.bwrap) {
    problems.push(
      facts.os === 'Linux'
        ? `agent ${agent.name} runs sandboxed, and ${name} has no bubblewrap: install it there (\`sudo apt-get install bubblewrap\`), or run this task here.`
        : `agent ${agent.name} runs sandboxed, and swarm's sandbox on ${name} (${facts.os}) needs bubblewrap on Linux: run this task here, or give the agent "sandbox": "none" if you accept it unconfined on ${name}.`,
    );
  }
  return problems;
}

export interface HostReport {
  name: string;
  ssh: string;
  reachable: boolean;
  ok: boolean;
  checks: HostCheck[];
  facts: HostFacts | null;
}

/** Asks the host for real (one ssh round trip) and judges what it has. */
export async function probeHost(name: string, host: HostConfig, stateDir: string): Promise<HostReport> {
  const result = await runOnHost(host, stateDir, ['sh', '-s', '--', host.dir, ...host.swarm], { input: PROBE_SCRIPT, timeoutMs: 30_000 });
  const trouble = sshTrouble(name, host, result);
  if (trouble) return { name, ssh: host.ssh, reachable: false, ok: false, checks: [{ ok: false, what: trouble }], facts: null };
  const facts = parseProbe(result.stdout);
  if (!facts) {
    const said = `${result.stderr}${result.stdout}`.trim().split('\n').at(-1) ?? '';
    return { name, ssh: host.ssh, reachable: true, ok: false, checks: [{ ok: false, what: `host ${name} answered, but swarm's check did not run to its end${said ? ` (${said.slice(0, 200)})` : ''}: swarm needs a POSIX sh there.` }], facts: null };
  }
  const checks = judgeHost(name, host, facts);
  return { name, ssh: host.ssh, reachable: true, ok: checks.every((c) => c.ok), checks, facts };
}
