/**
 * Network limited to the configured endpoints (`"network": "endpoints"`). Pure decisions: which endpoints an
 * agent needs, and whether a connection may go through. The sandbox has no network of its own (bwrap
 * --unshare-net); `netbridge.ts` carries the allowed connections out through unix sockets.
 */
import type { AgentConfig } from '../config/schema.js';

export interface Endpoints {
  /** host:port reachable through the sandbox's HTTPS proxy (CONNECT). */
  hosts: string[];
  /** Loopback ports forwarded as they are (a local model server: Ollama, vLLM, a loopback provider). */
  loopback: number[];
}

/** Each CLI's API when no base URL is set, and the variables that move it. */
const DEFAULTS: Record<string, { urls: string[]; vars: string[] }> = {
  claude: { urls: ['https://api.anthropic.com'], vars: ['ANTHROPIC_BASE_URL'] },
  codex: { urls: ['https://api.openai.com', 'https://chatgpt.com'], vars: ['OPENAI_BASE_URL'] },
  gemini: { urls: ['https://generativelanguage.googleapis.com', 'https://oauth2.googleapis.com'], vars: ['GOOGLE_GEMINI_BASE_URL'] },
  opencode: { urls: ['https://api.anthropic.com', 'https://api.openai.com', 'https://openrouter.ai', 'https://models.dev'], vars: ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL'] },
  aider: { urls: ['https://api.anthropic.com', 'https://api.openai.com', 'https://openrouter.ai'], vars: ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL', 'OPENAI_API_BASE'] },
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** "https://h:8443/v1" → { host: "h", port: 8443 }; a bare "host[:port]" is read as https. */
export function parseEndpoint(text: string): { host: string; port: number } | null {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    return { host: url.hostname.toLowerCase(), port };
  } catch {
    return null;
  }
}

/** Pure: the endpoints an agent needs: its CLI's API (or the base URL its env names), its model server, its project's package registries, `network_allow`. */
export function agentEndpoints(config: Pick<AgentConfig, 'type' | 'env' | 'host' | 'openai_base_url' | 'network_allow'>, daemonEnv: NodeJS.ProcessEnv, ollamaHost: string, registries: readonly string[] = []): Endpoints {
  const env = { ...daemonEnv, ...config.env };
  const defaults = DEFAULTS[config.type];
  const urls: string[] = [];
  if (defaults) {
    const moved = defaults.vars.map((name) => env[name]).filter((v): v is string => Boolean(v));
    urls.push(...(moved.length ? moved : defaults.urls));
  }
  if (config.type === 'builtin') urls.push(config.openai_base_url ?? ollamaHost);
  urls.push(...registries, ...config.network_allow);
  const out: Endpoints = { hosts: [], loopback: [] };
  for (const url of urls) {
    const endpoint = parseEndpoint(url);
    if (!endpoint) continue;
    if (LOOPBACK.has(endpoint.host)) out.loopback.push(endpoint.port);
    else out.hosts.push(`${endpoint.host}:${endpoint.port}`);
  }
  return { hosts: [...new Set(out.hosts)], loopback: [...new Set(out.loopback)] };
}

/** Pure: may a CONNECT to `target` ("host:port") go through? Entries are "host:port" or "*.domain:port". */
export function allowedTarget(target: string, hosts: readonly string[]): boolean {
  const endpoint = parseEndpoint(target);
  if (!endpoint) return false;
  return hosts.some((entry) => {
    const allowed = parseEndpoint(entry);
    if (!allowed || allowed.port !== endpoint.port) return false;
    if (allowed.host.startsWith('*.')) return endpoint.host.endsWith(allowed.host.slice(1));
    return allowed.host === endpoint.host;
  });
}

/** Package registries by name: what `sandbox_registries` lists (or "auto" finds) opens to a sandboxed agent and its CI. */
export const REGISTRIES: Record<string, readonly string[]> = {
  npm: ['registry.npmjs.org:443'],
  yarn: ['registry.yarnpkg.com:443', 'registry.npmjs.org:443'],
  pypi: ['pypi.org:443', 'files.pythonhosted.org:443'],
  crates: ['crates.io:443', 'index.crates.io:443', 'static.crates.io:443'],
  go: ['proxy.golang.org:443', 'sum.golang.org:443'],
  rubygems: ['rubygems.org:443', 'index.rubygems.org:443'],
  maven: ['repo.maven.apache.org:443', 'repo1.maven.org:443'],
};

/** Files in a repository's root that say which registries its project uses. */
const REGISTRY_MARKERS: readonly [string, string][] = [
  ['package.json', 'npm'],
  ['yarn.lock', 'yarn'],
  ['pyproject.toml', 'pypi'],
  ['requirements.txt', 'pypi'],
  ['uv.lock', 'pypi'],
  ['Pipfile', 'pypi'],
  ['Cargo.toml', 'crates'],
  ['go.mod', 'go'],
  ['Gemfile', 'rubygems'],
  ['pom.xml', 'maven'],
  ['build.gradle', 'maven'],
  ['build.gradle.kts', 'maven'],
];

/** Pure: the registry names for `sandbox_registries` ("auto": those the repository's files name). */
export function registryNames(setting: 'auto' | readonly string[], hasFile: (name: string) => boolean): string[] {
  if (setting !== 'auto') return [...setting];
  return [...new Set(REGISTRY_MARKERS.filter(([file]) => hasFile(file)).map(([, name]) => name))];
}

/** Pure: "host:port" entries of those registries. */
export function registryHosts(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((name) => REGISTRIES[name] ?? []))];
}

/** Pure: endpoints from a plain list (CI: the registries and `ci.network_allow`). */
export function listEndpoints(entries: readonly string[]): Endpoints {
  const out: Endpoints = { hosts: [], loopback: [] };
  for (const entry of entries) {
    const endpoint = parseEndpoint(entry);
    if (!endpoint) continue;
    if (LOOPBACK.has(endpoint.host)) out.loopback.push(endpoint.port);
    else out.hosts.push(entry.startsWith('*.') ? entry : `${endpoint.host}:${endpoint.port}`);
  }
  return { hosts: [...new Set(out.hosts)], loopback: [...new Set(out.loopback)] };
}
