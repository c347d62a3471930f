import { describe, expect, it } from 'vitest';
import { parseRemote } from '../../src/forge/github-client.js';

describe('parseRemote', () => {
  it.each([
    ['https://github.com/octo/sample.git', { owner: 'octo', repo: 'sample' }],
    ['https://github.com/octo/sample', { owner: 'octo', repo: 'sample' }],
    ['git@github.com:octo/sample.git', { owner: 'octo', repo: 'sample' }],
    ['ssh://git@github.com/octo/sample.git', { owner: 'octo', repo: 'sample' }],
    ['https://ghe.example.com/team/app.git', { owner: 'team', repo: 'app' }],
    ['/srv/git/sample.git', null],
    ['https://github.com/octo', null],
  ])('%s', (url, expected) => expect(parseRemote(url)).toEqual(expected));
});
