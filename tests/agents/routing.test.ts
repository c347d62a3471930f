import { describe, expect, it } from 'vitest';
import { resolveAgent } from '../../src/agents/registry.js';
import { parseConfig } from '../../src/config/load.js';

const config = parseConfig('c', {
  default_agent: 'main',
  agents: { main: { command: ['node'], model: 'main-model' }, docs: { command: ['node'] }, local: { type: 'builtin', model: 'qwen' } },
  kinds: { docs: { agent: 'docs', model: 'small', prompt: 'You are the Documenter.' }, review: { model: 'big' }, bugfix: {} },
});

describe('routing by kind', () => {
  it.each([
    ['no kind: the default agent and its model', {}, undefined, ['main', 'main-model']],
    ['a kind picks its agent and model', { kind: 'docs' }, undefined, ['docs', 'small']],
    ['a kind with only a model keeps the default agent', { kind: 'review' }, undefined, ['main', 'big']],
    ['an empty kind falls back to defaults', { kind: 'bugfix' }, undefined, ['main', 'main-model']],
    ['--agent wins over the kind, and then the kind model does not apply', { kind: 'docs' }, 'local', ['local', 'qwen']],
    ['--model wins over everything', { kind: 'docs', model: 'override' }, undefined, ['docs', 'override']],
  ] as const)('%s', (_name, options, requested, [agent, model]) => {
    const resolved = resolveAgent(config, '/', requested, options);
    expect([resolved.name, resolved.model]).toEqual([agent, model]);
  });

  it('an unknown kind is refused with the configured ones', () => {
    expect(() => resolveAgent(config, '/', undefined, { kind: 'frontend' })).toThrow('Unknown task kind "frontend". Configured kinds: docs, review, bugfix.');
  });
});
