import pty from 'node-pty';
import { BIN, type Sandbox } from './sample.js';

/** Runs `swarm attach` in a real pseudo-terminal, as a person at a keyboard would. */
export function attachInPty(box: Sandbox, id: number): { output: () => string; write: (s: string) => void; exited: Promise<number> } {
  let output = '';
  const term = pty.spawn(process.execPath, [BIN, 'attach', String(id)], { cwd: box.repo, cols: 100, rows: 30, env: process.env as Record<string, string> });
  term.onData((d) => (output += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return { output: () => output, write: (s) => term.write(s), exited };
}
