import { describe, expect, it } from 'vitest';
import { AgentConfig } from '../../src/config/schema.js';
import { agentEndpoints, allowedTarget, listEndpoints, registryHosts, registryNames } from '../../src/sandbox/endpoints.js';

const agent = (input: Record<string, unknown>): AgentConfig => AgentConfig.parse(input);

describe('agentEndpoints', () => {
  it.each([
    ['claude, default API', agent({ type: 'claude' }), {}, { hosts: ['api.anthropic.com:443'], loopback: [] }],
    ['claude, base URL in its env', agent({ type: 'claude', env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8123' } }), {}, { hosts: [], loopback: [8123] }],
    ['codex, base URL in the daemon env', agent({ type: 'codex' }), { OPENAI_BASE_URL: 'https://llm.corp.example:8443/v1' }, { hosts: ['llm.corp.example:8443'], loopback: [] }],
    ['gemini, default API and login', agent({ type: 'gemini' }), {}, { hosts: ['generativelanguage.googleapis.com:443', 'oauth2.googleapis.com:443'], loopback: [] }],
    ['builtin on Ollama', agent({ type: 'builtin', host: 'http://127.0.0.1:11434' }), {}, { hosts: [], loopback: [11434] }],
    ['builtin on an OpenAI-compatible server', agent({ type: 'builtin', openai_base_url: 'http://localhost:8000/v1' }), {}, { hosts: [], loopback: [8000] }],
    ['custom: only network_allow', agent({ command: ['x'], network_allow: ['registry.npmjs.org', '*.pypi.org:443', 'http://127.0.0.1:9'] }), {}, { hosts: ['registry.npmjs.org:443', '*.pypi.org:443'], loopback: [9] }],
  ])('%s', (_name, config, env, expected) => {
    expect(agentEndpoints(config, env, 'http://127.0.0.1:11434')).toEqual(expected);
  });
});

describe('allowedTarget', () => {
  const hosts = ['api.anthropic.com:443', '*.pypi.org:443'];
  it.each([
    ['api.anthropic.com:443', true],
    ['API.Anthropic.com:443', true],
    ['api.anthropic.com:80', false],
    ['evil.example:443', false],
    ['files.pypi.org:443', true],
    ['pypi.org.evil.example:443', false],
    ['api.anthropic.com.evil.example:443', false],
    ['not a target', false],
  ])('%s → %s', (target, allowed) => {
    expect(allowedTarget(target, hosts)).toBe(allowed);
  });
});

describe('package registries: a named preset, found from the repository', () => {
  it.each([
    ['a node project', ['package.json', 'package-lock.json'], ['npm']],
    ['yarn', ['package.json', 'yarn.lock'], ['npm', 'yarn']],
    ['python and rust', ['pyproject.toml', 'Cargo.toml'], ['pypi', 'crates']],
    ['nothing known', ['README.md'], []],
  ])('auto: %s', (_name, files, names) => {
    expect(registryNames('auto', (f) => files.includes(f))).toEqual(names);
  });

  it('named presets open their hosts through the proxy and nothing else', () => {
    const hosts = agentEndpoints(agent({ type: 'claude' }), {}, 'http://127.0.0.1:11434', registryHosts(registryNames(['npm', 'pypi'], () => false))).hosts;
    expect(hosts).toEqual(['api.anthropic.com:443', 'registry.npmjs.org:443', 'pypi.org:443', 'files.pythonhosted.org:443']);
    expect(allowedTarget('registry.npmjs.org:443', hosts)).toBe(true);
    expect(allowedTarget('evil.example:443', hosts)).toBe(false);
  });

  it('CI gets its registries and ci.network_allow, loopback ports forwarded', () => {
    expect(listEndpoints(['registry.npmjs.org:443', 'http://127.0.0.1:5432', '*.internal.example:443'])).toEqual({ hosts: ['registry.npmjs.org:443', '*.internal.example:443'], loopback: [5432] });
  });
});
