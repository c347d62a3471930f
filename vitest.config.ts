import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/data-home.ts'],
    pool: 'forks',
    // Two cores: end-to-end files each drive several real processes; a few at a time keeps them honest.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
