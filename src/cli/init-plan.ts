/** Pure: what `swarm init` writes for a repository and a machine, and the words that say why. */
import type { SwarmConfigInput } from '../config/schema.js';

export interface InitFacts {
  branch: string | null;
  base?: string;
  /** package.json's `test` script, if any. */
  npmTest: string | null;
  files: { pyproject: boolean; pytestIni: boolean; makefileTest: boolean; goMod: boolean; cargo: boolean };
  /** Coding CLIs found on PATH, by adapter type. */
  clis: string[];
  /** A reachable Ollama's tool-capable model, if any. */
  ollama: { host: string; model: string } | null;
  uid: number;
  /** Whether bubblewrap works here, and if not why (the probe). */
  sandbox: { ok: true } | { ok: false; why: string; fix: string };
  /** Lockfiles at the repository's root. */
  lockfiles?: string[];
}

/** Installs swarm can share between checkouts, by the lockfile that decides them (first found wins). */
const DEPS_BY_LOCKFILE: [string, { command: string[]; paths: string[] }][] = [
  ['package-lock.json', { command: ['npm', 'ci'], paths: ['node_modules'] }],
  ['pnpm-lock.yaml', { command: ['pnpm', 'install', '--frozen-lockfile'], paths: ['node_modules'] }],
  ['yarn.lock', { command: ['yarn', 'install', '--frozen-lockfile'], paths: ['node_modules'] }],
  ['uv.lock', { command: ['uv', 'sync', '--frozen'], paths: ['.venv'] }],
];

export const LOCKFILES = DEPS_BY_LOCKFILE.map(([file]) => file);

export function inferDeps(facts: Pick<InitFacts, 'lockfiles'>): { command: string[]; lockfiles: string[]; paths: string[] } | null {
  const found = DEPS_BY_LOCKFILE.find(([file]) => facts.lockfiles?.includes(file));
  return found ? { command: found[1].command, lockfiles: [found[0]], paths: found[1].paths } : null;
}

/** Whose models an adapter runs by default: reviewers from another family catch what the author's misses. */
const FAMILY: Record<string, string> = { claude: 'anthropic', codex: 'openai', gemini: 'google', opencode: 'any', builtin: 'local', aider: 'any' };
const FOCUSES = ['logic', 'security', 'architecture'] as const;

/**
 * Pure: the definition of done out of the box. With two or more agents, the default one codes and the others
 * review it, other model families first, each with its own focus (logic, security, architecture), at most three.
 */
export function proposeReviewers(defaultAgent: string, agents: readonly [string, { type?: string }][]): { name: string; agent: string; focus: string }[] {
  const family = (name: string): string => FAMILY[agents.find(([n]) => n === name)?.[1].type ?? ''] ?? 'any';
  const mine = family(defaultAgent);
  const others = agents.filter(([name]) => name !== defaultAgent && name !== 'local');
  const ranked = [...others.filter(([n]) => family(n) !== mine && family(n) !== 'any'), ...others.filter(([n]) => family(n) === 'any'), ...others.filter(([n]) => family(n) === mine)];
  return ranked.slice(0, FOCUSES.length).map(([name], i) => ({ name: `${name}-${FOCUSES[i]}`, agent: name, focus: FOCUSES[i]! }));
}

/** Which adapter is the default when several are here: the strongest coding CLIs first, then the local model. */
const PREFERENCE = ['claude', 'codex', 'gemini', 'opencode', 'builtin', 'aider'];

const NPM_PLACEHOLDER = /no test specified/;

export function inferCi(facts: InitFacts): { command: string[]; why: string } | null {
  if (facts.npmTest && !NPM_PLACEHOLDER.test(facts.npmTest)) return { command: ['npm', 'test'], why: `package.json has a test script (${facts.npmTest})` };
  if (facts.files.pytestIni || facts.files.pyproject) return { command: ['python3', '-m', 'pytest', '-q'], why: facts.files.pytestIni ? 'pytest.ini is present' : 'pyproject.toml is present (pytest)' };
  if (facts.files.makefileTest) return { command: ['make', 'test'], why: 'the Makefile has a test target' };
  if (facts.files.goMod) return { command: ['go', 'test', './...'], why: 'go.mod is present' };
  if (facts.files.cargo) return { command: ['cargo', 'test'], why: 'Cargo.toml is present' };
  return null;
}

/**
 * Pure: for runners swarm cannot ask for a report through the environment (pytest it asks itself), the report
 * to add, as a proposal in words: it changes the CI command, so the user decides.
 */
export function reportProposal(npmTest: string): string | null {
  if (/\bvitest\b/.test(npmTest)) return 'Evidence: vitest can also write a JSON report swarm reads first: add "--reporter=default --reporter=json --outputFile=reports/vitest.json" to its command and "ci": { "reports": ["reports/*.json"] }.';
  if (/\bjest\b/.test(npmTest)) return 'Evidence: jest can also write a JSON report swarm reads first: add "--json --outputFile=reports/jest.json" to its command and "ci": { "reports": ["reports/*.json"] }.';
  if (/node\b.*--test\b/.test(npmTest)) return 'Evidence: node --test can also write JUnit swarm reads first: add "--test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit --test-reporter-destination=reports/junit.xml" and "ci": { "reports": ["reports/*.xml"] }.';
  return null;
}

export function planInit(facts: InitFacts): { config: SwarmConfigInput; notes: string[] } {
  const notes: string[] = [];
  const agents: NonNullable<SwarmConfigInput['agents']> = {};
  for (const type of facts.clis) agents[type] = { type };
  if (facts.ollama) agents.local = { type: 'builtin', model: facts.ollama.model, host: facts.ollama.host };
  const available = Object.entries(agents).sort(([, a], [, b]) => PREFERENCE.indexOf(a.type ?? 'custom') - PREFERENCE.indexOf(b.type ?? 'custom'));
  let defaultAgent = available[0]?.[0];
  if (!defaultAgent) {
    agents.claude = { type: 'claude' };
    defaultAgent = 'claude';
    notes.push('No coding CLI on PATH and no Ollama with a tool-capable model: wrote a Claude Code entry to start from. Install one (claude, codex, gemini, opencode), or `ollama pull qwen2.5-coder:7b`; `swarm doctor` checks.');
  } else {
    notes.push(`Agents: ${available.map(([name, a]) => (a.type === 'builtin' ? `${name} (built-in agent on ${facts.ollama?.model ?? '?'} via Ollama)` : name)).join(', ')}; default: ${defaultAgent}${available.length > 1 ? ' (the strongest coding CLI found)' : ''}.`);
  }
  // Sandboxed wherever bubblewrap works; written down either way, so the choice is visible and deliberate.
  const sandbox: 'none' | 'bwrap' = facts.sandbox.ok ? 'bwrap' : 'none';
  if (facts.sandbox.ok) notes.push('Sandbox: bubblewrap. Agents, their CI and reviewers see their own checkout and a fresh home, not your home, other checkouts or .swarm/; network limited to their model API and package registries. "sandbox": "none" turns it off.');
  else notes.push(`Sandbox: NONE, because ${facts.sandbox.why}: agents run as you, with your home and network. Fix: ${facts.sandbox.fix}; then set "sandbox": "bwrap".${facts.uid === 0 ? ' Running as root without it, Claude Code will refuse to run.' : ''}`);
  const reviewers = defaultAgent ? proposeReviewers(defaultAgent, available) : [];
  if (reviewers.length) notes.push(`Reviewers: ${reviewers.map((r) => `${r.agent} (${r.focus})`).join(', ')} review what ${defaultAgent} writes before a task is ready: another model catches what the author's misses. Remove "review" from swarm.config.json to turn it off.`);
  const ci = inferCi(facts);
  notes.push(ci ? `CI: \`${ci.command.join(' ')}\`, because ${ci.why}.` : 'CI: none found (no test script, pytest, Makefile test target, go.mod or Cargo.toml); set "ci.command" so failures come back to the agent with evidence.');
  const report = ci ? reportProposal(facts.npmTest ?? '') : null;
  if (report) notes.push(report);
  const deps = inferDeps(facts);
  if (deps) notes.push(`Dependencies: \`${deps.command.join(' ')}\` once per ${deps.lockfiles[0]}, shared by every task's checkout (worktree.deps).`);
  const config: SwarmConfigInput = {
    base: facts.base ?? (facts.branch || 'main'),
    default_agent: defaultAgent,
    agents,
    sandbox,
    ...(reviewers.length ? { review: { reviewers } } : {}),
    ...(ci ? { ci: { command: ci.command, timeout_minutes: 30 } } : {}),
    ...(deps ? { worktree: { deps: [deps] } } : {}),
    max_retries: 3,
    stuck_minutes: 15,
    notify: { desktop: true },
  };
  return { config, notes };
}
