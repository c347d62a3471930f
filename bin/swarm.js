#!/usr/bin/env node
// The command line as one bundle (npm run build:cli): resolving and compiling some 300 separate modules cost
// every short command (swarm spawn, swarm ls) about 0.1 s.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`swarm: failed to start: ${err instanceof Error ? err.message : String(err)}\nRun \`npm run build\` in the worktree-swarm checkout if dist/ is missing.\n`);
  process.exit(70);
});
