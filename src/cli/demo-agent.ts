/**
 * The scripted demonstration agent of `swarm demo` on a machine with no real agent. Not an AI: it makes the
 * wrong fix first, and the right one only when its prompt carries the failing assertion that swarm's CI
 * evidence put there. It shows the loop (worktree, terminal, red CI, respawn with evidence, green), nothing more.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { SAMPLE_WRONG_FIX_ASSERTION, sampleAddFile } from './sample-repo.js';

export function runDemoAgent(promptFile: string, write: (text: string) => void): number {
  const prompt = readFileSync(promptFile, 'utf8');
  const sawEvidence = prompt.includes(SAMPLE_WRONG_FIX_ASSERTION);
  write('[scripted demonstration agent, not an AI]\n');
  write(sawEvidence ? `The prompt carries the failing assertion (${SAMPLE_WRONG_FIX_ASSERTION}): writing a + b.\n` : 'No evidence yet: guessing a * b (wrong on purpose, to show the respawn).\n');
  writeFileSync('src/add.ts', sampleAddFile(sawEvidence ? 'a + b' : 'a * b'));
  const git = (args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=Demo agent', '-c', 'user.email=demo-agent@localhost', ...args], { stdio: 'inherit' });
  };
  git(['add', 'src/add.ts']);
  git(['commit', '-q', '-m', sawEvidence ? 'Fix addNumbers: add' : 'Fix addNumbers (a guess)']);
  write('Committed. Exiting.\n');
  return 0;
}
