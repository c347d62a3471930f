import { describe, expect, it } from 'vitest';
import { AgentConfig } from '../../src/config/schema.js';
import { agentEndpoints, allowedTarget } from '../../src/sandbox/endpoints.js';

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
