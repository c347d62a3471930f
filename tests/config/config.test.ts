import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

describe('parseConfig', () => {
  it('fills defaults', () => {
    const config = parseConfig('swarm.config.json', { agents: { a: { command: ['a'] } } });
    expect(config).toMatchObject({ base: 'main', forge: 'local', max_retries: 3, stuck_minutes: 15, monitor: { schedule: '* * * * *' }, notify: { desktop: true } });
    expect(config.agents.a).toMatchObject({ type: 'custom', env: {}, args: [] });
  });

  const bad: [string, unknown, string][] = [
    ['a shell string instead of an argument vector', { ci: { command: 'npm test' } }, 'ci.command:'],
    ['an unknown key (typo)', { max_retry: 3 }, 'Unrecognized key: "max_retry"'],
    ['negative retries', { max_retries: -1 }, 'max_retries:'],
    ['a bad ntfy server', { notify: { ntfy: { server: 'not a url', topic: 't' } } }, 'notify.ntfy.server:'],
    ['a default agent that is not defined', { default_agent: 'x', agents: { a: { command: ['a'] } } }, 'default_agent: "x" is not one of agents (a)'],
    ['an agent name with spaces', { agents: { 'my agent': { command: ['a'] } } }, 'agents.my agent: agent names are letters, digits, - and _'],
  ];
  it.each(bad)('%s names the field', (_name, raw, message) => {
    expect(() => parseConfig('swarm.config.json', raw)).toThrow(ConfigError);
    expect(() => parseConfig('swarm.config.json', raw)).toThrow(message);
  });
});
