import { describe, expect, it } from 'vitest';
import { SwarmConfig } from '../../src/config/schema.js';
import { fanoutCandidates, parseCandidates } from '../../src/orchestrator/intake.js';
import { fanoutStats, preferFanoutWinner, type FanoutOutcome } from '../../src/orchestrator/fanout-stats.js';

const config = SwarmConfig.parse({
  agents: { claude: { type: 'claude' }, codex: { type: 'codex' }, gemini: { type: 'gemini' } },
  default_agent: 'claude',
  kinds: { bugfix: { fanout: ['codex', 'claude:opus'] }, docs: { agent: 'gemini' } },
  fanout: { agents: ['claude', 'codex', 'gemini'] },
});

describe('the candidates of a fan-out', () => {
  it.each([
    ['--agents as given, models too', { agents: parseCandidates('claude, codex:gpt-5,claude:opus') }, ['claude', 'codex:gpt-5', 'claude:opus']],
    ['--fanout N of the config list', { fanout: 2 }, ['claude', 'codex']],
    ['--fanout N beyond the list cycles through it', { fanout: 4 }, ['claude', 'codex', 'gemini', 'claude']],
    ['a kind with its own list', { fanout: 3, kind: 'bugfix' }, ['codex', 'claude:opus', 'codex']],
    ['no N: the whole list', {}, ['claude', 'codex', 'gemini']],
  ] as [string, Parameters<typeof fanoutCandidates>[1], string[]][])('%s', (_what, input, want) => {
    expect(fanoutCandidates(config, input).map((c) => (c.model ? `${c.agent}:${c.model}` : c.agent))).toEqual(want);
  });

  it('without any list, N copies of the kind\'s or the default agent', () => {
    const bare = SwarmConfig.parse({ agents: { claude: { type: 'claude' }, gemini: { type: 'gemini' } }, default_agent: 'claude', kinds: { docs: { agent: 'gemini' } } });
    expect(fanoutCandidates(bare, { fanout: 3 }).map((c) => c.agent)).toEqual(['claude', 'claude', 'claude']);
    expect(fanoutCandidates(bare, { fanout: 2, kind: 'docs' }).map((c) => c.agent)).toEqual(['gemini', 'gemini']);
  });

  it.each([
    [{ fanout: 1 }, 'A fan-out has 2 to 8 candidates (asked: 1)'],
    [{ fanout: 9 }, 'A fan-out has 2 to 8 candidates (asked: 9)'],
    [{ agents: parseCandidates('claude') }, 'A fan-out has 2 to 8 candidates (asked: 1)'],
    [{ agents: parseCandidates('claude,codex'), fanout: 3 }, '--fanout 3 and --agents name 2 candidates'],
  ] as [Parameters<typeof fanoutCandidates>[1], string][])('refuses %j', (input, message) => {
    expect(() => fanoutCandidates(config, input)).toThrow(message);
  });
});

describe('what fan-outs taught', () => {
  const row = (agent: string, won: boolean, kind: string | null = 'bugfix', cost: number | null = 0.5): FanoutOutcome => ({ kind, agent, model: null, won, cost_usd: cost });
  it('wins, by kind, agent and model, best first', () => {
    expect(fanoutStats([row('codex', true), row('claude', false), row('codex', true), row('claude', true), row('codex', false, 'docs', null)])).toEqual([
      { kind: 'bugfix', agent: 'codex', model: '-', wins: 2, of: 2, cost_usd: 1 },
      { kind: 'bugfix', agent: 'claude', model: '-', wins: 1, of: 2, cost_usd: 1 },
      { kind: 'docs', agent: 'codex', model: '-', wins: 0, of: 1, cost_usd: 0 },
    ]);
  });
  it.each([
    ['enough samples and most of them won: preferred, and said why', [row('codex', true), row('codex', true), row('codex', false)], 3, 'routed to codex for kind "bugfix": it won 2 of its 3 fan-outs of that kind'],
    ['too few samples: the default stands', [row('codex', true), row('codex', true)], 3, null],
    ['half is not most', [row('codex', true), row('codex', false), row('codex', true), row('codex', false)], 3, null],
    ['the default agent is the best: nothing to say', [row('claude', true), row('claude', true), row('claude', true)], 3, null],
    ['another kind does not count', [row('codex', true, 'docs'), row('codex', true, 'docs'), row('codex', true, 'docs')], 3, null],
  ] as [string, FanoutOutcome[], number, string | null][])('%s', (_what, rows, min, note) => {
    expect(preferFanoutWinner(rows, 'bugfix', ['claude', 'codex'], 'claude', min)?.note ?? null).toBe(note);
  });
});
