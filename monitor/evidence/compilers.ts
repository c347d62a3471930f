/** Pure: compiler, type-checker and linter errors (tsc, eslint, go build/vet, rustc) as `file:line: message`. */
import { relPath, relText } from './types.js';

/** Every error these tools printed, in order, each once. */
export function compilerProblems(lines: readonly string[], root?: string): string[] {
  const out: string[] = [];
  const add = (file: string, line: string, message: string): void => {
    const text = `${relPath(file, root)}:${line}: ${relText(message.trim(), root)}`;
    if (!out.includes(text)) out.push(text);
  };
  let eslintFile: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // tsc: "src/a.ts:4:3 - error TS2322: …" (pretty) or "src/a.ts(4,3): error TS2322: …".
    const tsc = /^(\S+?\.[cm]?[jt]sx?)(?::(\d+):\d+ - |\((\d+),\d+\): )(error TS\d+: .+)$/.exec(line);
    if (tsc) {
      add(tsc[1]!, tsc[2] ?? tsc[3]!, tsc[4]!);
      continue;
    }
    // eslint (stylish): a file path on its own line, then "  2:9  error  message  rule".
    if (/^(\/|\.\/|[\w@-]+\/)\S+\.\w+$/.test(line)) {
      eslintFile = line.trim();
      continue;
    }
    const lint = eslintFile ? /^\s+(\d+):\d+\s+error\s+(.+?)(?:\s{2,}(\S+))?$/.exec(line) : null;
    if (lint) {
      add(eslintFile!, lint[1]!, `${lint[2]}${lint[3] ? ` (${lint[3]})` : ''}`);
      continue;
    }
    if (line.trim() === '') eslintFile = null;
    // go build / vet: "./total.go:8:9: cannot use …".
    const go = /^(\.?\/?[\w./-]+\.go):(\d+):\d+: (.+)$/.exec(line);
    if (go) {
      add(go[1]!, go[2]!, go[3]!);
      continue;
    }
    // rustc: "error[E0308]: mismatched types" then " --> src/a.rs:2:5" and the label under the caret.
    const rust = /^error(\[E\d+\])?: (.+)$/.exec(line);
    const arrow = rust ? /^\s*--> (\S+?):(\d+):\d+$/.exec(lines[i + 1] ?? '') : null;
    if (rust && arrow) {
      const label = lines.slice(i + 2, i + 12).map((l) => /^\s*\d*\s*\|\s*\^+\s+(.+)$/.exec(l)?.[1]).find((l) => l !== undefined);
      add(arrow[1]!, arrow[2]!, `error${rust[1] ?? ''}: ${rust[2]}${label ? ` (${label})` : ''}`);
    }
  }
  return out;
}
