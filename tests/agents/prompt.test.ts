import { describe, expect, it } from 'vitest';
import { substitute } from '../../src/agents/custom.js';
import { composePrompt } from '../../src/agents/prompt.js';

describe('composePrompt', () => {
  const base = { taskId: 3, prompt: 'Fix addNumbers', base: 'main', branch: 'swarm/3-fix', hasCi: true };

  it('a first attempt has no evidence section', () => {
    const text = composePrompt({ ...base, attempt: 1, history: [] });
    expect(text).toContain('Fix addNumbers');
    expect(text).toContain('branch `swarm/3-fix`');
    expect(text).not.toContain('What went wrong');
  });

  it('a role prompt from the task kind comes first', () => {
    const text = composePrompt({ ...base, role: 'You are the Tester.', attempt: 1, history: [] });
    expect(text.indexOf('You are the Tester.')).toBe(0);
    expect(text).toContain('Fix addNumbers');
  });

  it('a respawn carries the latest evidence in full and earlier ones in one line each', () => {
    const text = composePrompt({
      ...base,
      attempt: 3,
      history: [
        { reason: 'crash', summary: 'The agent exited with code 1 before finishing.' },
        { reason: 'ci_failed', summary: 'CI failed.', failing_tests: ['adds'], assertions: ['AssertionError: 6 !== 5'], log_tail: 'tail here' },
      ],
    });
    expect(text).toContain('## What went wrong last time (attempt 2)');
    expect(text).toContain('- adds');
    expect(text).toContain('AssertionError: 6 !== 5');
    expect(text).toContain('tail here');
    expect(text).toContain('- attempt 1: The agent exited with code 1 before finishing.');
  });
});

describe('substitute', () => {
  it('keeps the prompt as one argument, whatever it contains', () => {
    const prompt = 'a; rm -rf / && $(echo x) "q" \'s\'';
    expect(substitute(['agent', '--prompt', '{prompt}', '--file={prompt_file}', '{model}'], { prompt, prompt_file: '/p.md', model: 'm' })).toEqual([
      'agent',
      '--prompt',
      prompt,
      '--file=/p.md',
      'm',
    ]);
  });
  it('does not substitute inside the substituted text', () => {
    expect(substitute(['{prompt}'], { prompt: '{prompt_file}', prompt_file: 'x' })).toEqual(['{prompt_file}']);
  });
});
