#!/usr/bin/env node
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`swarm: failed to start: ${err instanceof Error ? err.message : String(err)}\nRun \`npm run build\` in the worktree-swarm checkout if dist/ is missing.\n`);
  process.exit(70);
});
