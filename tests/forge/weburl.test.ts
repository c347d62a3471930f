import { describe, expect, it } from 'vitest';
import { webUrl } from '../../src/forge/github-client.js';

describe('webUrl', () => {
  it.each([
    ['https://api.github.com', 'https://github.com'],
    ['https://ghe.corp.example/api/v3', 'https://ghe.corp.example'],
    ['https://ghe.corp.example/api/v3/', 'https://ghe.corp.example'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s → %s', (api, web) => {
    expect(webUrl(api)).toBe(web);
  });
});
