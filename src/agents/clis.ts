/**
 * Adapters for the coding CLIs people already use. Each builds a headless run that exits when the work is
 * done and never waits for a key press. Flags follow each tool's own documentation; tests pin them.
 */
import { join } from 'node:path';
import { agentEnv, type AgentAdapter, type LaunchContext } from './adapter.js';
import { parseAider, parseClaude, parseCodex, parseGemini, parseOpencode } from './report.js';

function model(context: LaunchContext, flag: string): string[] {
  return context.model ? [flag, context.model] : [];
}

function program(fallback: string) {
  return (config: { command?: string[] }): string => config.command?.[0] ?? fallback;
}

/** Claude Code: print mode, streamed JSON (so an attached person can follow), permissions skipped. */
export const claudeAdapter: AgentAdapter = {
  type: 'claude',
  defaultTimeoutMinutes: 60,
  executable: program('claude'),
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'claude',
      '-p',
      context.prompt,
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      ...model(context, '--model'),
      ...(context.resumeSession ? ['--resume', context.resumeSession] : []),
      ...context.config.args,
    ];
    return { argv, env: agentEnv(context) };
  },
  parseReport: parseClaude,
};

/** Codex: `exec` runs to completion; JSONL events; full-auto sandbox, with the repository's git dir writable so it can commit. */
export const codexAdapter: AgentAdapter = {
  type: 'codex',
  defaultTimeoutMinutes: 60,
  executable: program('codex'),
  build(context) {
    const bin = context.config.command?.[0] ?? 'codex';
    const common = ['--json', '--full-auto', '--skip-git-repo-check', '--add-dir', join(context.repoRoot, '.git'), '-C', context.worktree, ...model(context, '-m'), ...context.config.args];
    const argv = context.resumeSession ? [bin, 'exec', 'resume', ...common, context.resumeSession, context.prompt] : [bin, 'exec', ...common, context.prompt];
    return { argv, env: agentEnv(context) };
  },
  parseReport: parseCodex,
};

/** aider: one message from a file, every confirmation answered yes, its own commits kept. */
export const aiderAdapter: AgentAdapter = {
  type: 'aider',
  defaultTimeoutMinutes: 45,
  executable: program('aider'),
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'aider',
      '--message-file',
      context.promptFile,
      '--yes-always',
      '--no-pretty',
      '--no-stream',
      '--auto-commits',
      '--no-check-update',
      '--no-show-model-warnings',
      '--no-gitignore',
      ...model(context, '--model'),
      ...context.config.args,
    ];
    return { argv, env: agentEnv(context, { AIDER_ANALYTICS: 'false' }) };
  },
  parseReport: parseAider,
};

/** gemini-cli: `-p` is headless; yolo approval mode; stream-json events. */
export const geminiAdapter: AgentAdapter = {
  type: 'gemini',
  defaultTimeoutMinutes: 60,
  executable: program('gemini'),
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'gemini',
      '-p',
      context.prompt,
      '--approval-mode=yolo',
      '--output-format',
      'stream-json',
      ...model(context, '-m'),
      ...(context.resumeSession ? ['--resume', context.resumeSession] : []),
      ...context.config.args,
    ];
    return { argv, env: agentEnv(context) };
  },
  parseReport: parseGemini,
};

/** opencode: `run` sends one message and exits; `--auto` approves what is not explicitly denied; JSON events. */
export const opencodeAdapter: AgentAdapter = {
  type: 'opencode',
  defaultTimeoutMinutes: 60,
  executable: program('opencode'),
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'opencode',
      'run',
      '--auto',
      '--format',
      'json',
      ...model(context, '--model'),
      ...(context.resumeSession ? ['--session', context.resumeSession] : []),
      ...context.config.args,
      context.prompt,
    ];
    return { argv, env: agentEnv(context) };
  },
  parseReport: parseOpencode,
};
