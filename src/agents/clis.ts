/**
 * Adapters for the coding CLIs people already use. Each builds a headless run that exits when the work is
 * done and never waits for a key press. Flags follow each tool's own documentation; tests pin them.
 */
import { agentEnv, promptArg, type AgentAdapter, type LaunchContext } from './adapter.js';
import { parseAider, parseClaude, parseCodex, parseGemini, parseOpencode } from './report.js';

/** Provider variables each CLI reads (keys, base URLs, its own settings); nothing else of the daemon's environment. */
export const PROVIDER_ENV = {
  claude: ['ANTHROPIC_*', 'CLAUDE_*', 'DISABLE_*', 'MCP_*'],
  codex: ['OPENAI_*', 'CODEX_*', 'AZURE_OPENAI_*'],
  gemini: ['GEMINI_*', 'GOOGLE_API_KEY', 'GOOGLE_GEMINI_*', 'GOOGLE_GENAI_*', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION', 'GOOGLE_APPLICATION_CREDENTIALS'],
  /** opencode and aider talk to many providers. */
  multi: ['OPENAI_*', 'ANTHROPIC_*', 'GEMINI_*', 'GOOGLE_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'OPENROUTER_*', 'GROQ_*', 'MISTRAL_*', 'DEEPSEEK_*', 'XAI_*', 'TOGETHER_*', 'FIREWORKS_*', 'OLLAMA_*', 'AZURE_OPENAI_*'],
} as const;

function model(context: LaunchContext, flag: string): string[] {
  return context.model ? [flag, context.model] : [];
}

function program(fallback: string) {
  return (config: { command?: string[] }): string => config.command?.[0] ?? fallback;
}

/** Claude Code's own words when it is run as root with permissions skipped (2.1.x). */
export const CLAUDE_ROOT_REFUSAL = '--dangerously-skip-permissions cannot be used with root/sudo privileges';

/** Claude Code: print mode, streamed JSON (so an attached person can follow), permissions skipped. */
export const claudeAdapter: AgentAdapter = {
  type: 'claude',
  defaultTimeoutMinutes: 60,
  executable: program('claude'),
  verified: ['2.1.330'],
  homeSeed: ['.claude.json', '.claude/.credentials.json', '.claude/settings.json'],
  loginFiles: ['.claude/.credentials.json'],
  cliHomeEnv: [{ name: 'CLAUDE_CONFIG_DIR', files: ['.credentials.json', 'settings.json', '.claude.json'], logins: ['.credentials.json'] }],
  helpPages: [['--help']],
  refuse({ uid, sandboxed }) {
    if (uid !== 0 || sandboxed) return null;
    return `Claude Code refuses to skip its permission prompts as root ("${CLAUDE_ROOT_REFUSAL}"). Run the swarm daemon as a normal user, or set "sandbox": "bwrap" for this agent: inside swarm's sandbox, telling Claude Code it is sandboxed (IS_SANDBOX=1) is true.`;
  },
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'claude',
      '-p',
      promptArg(context),
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      ...model(context, '--model'),
      ...(context.resumeSession ? ['--resume', context.resumeSession] : []),
      ...context.config.args,
    ];
    // Only where it is true: the agent runs confined by swarm's bubblewrap sandbox.
    return { argv, env: agentEnv(context, context.sandboxed ? { IS_SANDBOX: '1' } : {}, PROVIDER_ENV.claude) };
  },
  review(context) {
    // Plan mode and only reading tools: no permission is skipped, so this runs as root too.
    const argv = [context.config.command?.[0] ?? 'claude', '-p', promptArg(context), '--output-format', 'stream-json', '--verbose', '--permission-mode', 'plan', '--allowedTools', 'Read', 'Grep', 'Glob', ...model(context, '--model'), ...context.config.args];
    return { argv, env: agentEnv(context, {}, PROVIDER_ENV.claude) };
  },
  parseReport: parseClaude,
};

/**
 * Codex: `exec` runs to completion unattended (approvals never asked in exec); JSONL events; its own
 * workspace-write sandbox, with both of the worktree's git directories writable so it can commit (codex
 * protects a worktree's resolved git dir unless it is named itself). Options go before `resume`: codex
 * rejects them after it.
 */
export const codexAdapter: AgentAdapter = {
  type: 'codex',
  defaultTimeoutMinutes: 60,
  executable: program('codex'),
  verified: ['0.169.0'],
  homeSeed: ['.codex/auth.json', '.codex/config.toml'],
  loginFiles: ['.codex/auth.json'],
  cliHomeEnv: [{ name: 'CODEX_HOME', files: ['auth.json', 'config.toml'], logins: ['auth.json'] }],
  helpPages: [['exec', '--help']],
  build(context) {
    const bin = context.config.command?.[0] ?? 'codex';
    // Inside swarm's bubblewrap, swarm's sandbox is the boundary: codex's own (nested) would leave it no shell.
    const options = ['--json', '--sandbox', context.sandboxed ? 'danger-full-access' : 'workspace-write', '--skip-git-repo-check', ...context.gitDirs.flatMap((dir) => ['--add-dir', dir]), '-C', context.worktree, ...model(context, '-m'), ...context.config.args];
    const argv = context.resumeSession ? [bin, 'exec', ...options, 'resume', context.resumeSession, promptArg(context)] : [bin, 'exec', ...options, promptArg(context)];
    return { argv, env: agentEnv(context, {}, PROVIDER_ENV.codex) };
  },
  review(context) {
    const argv = [context.config.command?.[0] ?? 'codex', 'exec', '--json', '--sandbox', 'read-only', '--skip-git-repo-check', '-C', context.worktree, ...model(context, '-m'), ...context.config.args, promptArg(context)];
    return { argv, env: agentEnv(context, {}, PROVIDER_ENV.codex) };
  },
  parseReport: parseCodex,
};

/** aider: one message from a file, every confirmation answered yes, its own commits kept. */
export const aiderAdapter: AgentAdapter = {
  type: 'aider',
  defaultTimeoutMinutes: 45,
  executable: program('aider'),
  homeSeed: ['.aider.conf.yml'],
  helpPages: [['--help']],
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
    return { argv, env: agentEnv(context, { AIDER_ANALYTICS: 'false' }, [...PROVIDER_ENV.multi, 'AIDER_*']) };
  },
  parseReport: parseAider,
};

/** gemini-cli: `-p` is headless; yolo approval mode; stream-json events; the task's worktree trusted for this run. */
export const geminiAdapter: AgentAdapter = {
  type: 'gemini',
  defaultTimeoutMinutes: 60,
  executable: program('gemini'),
  verified: ['0.61.0'],
  homeSeed: ['.gemini/settings.json', '.gemini/oauth_creds.json', '.gemini/google_accounts.json'],
  loginFiles: ['.gemini/oauth_creds.json'],
  helpPages: [['--help']],
  build(context) {
    const argv = [
      context.config.command?.[0] ?? 'gemini',
      '-p',
      promptArg(context),
      '--approval-mode=yolo',
      '--skip-trust',
      '--output-format',
      'stream-json',
      ...model(context, '-m'),
      ...(context.resumeSession ? ['--resume', context.resumeSession] : []),
      ...context.config.args,
    ];
    return { argv, env: agentEnv(context, {}, PROVIDER_ENV.gemini) };
  },
  review(context) {
    const argv = [context.config.command?.[0] ?? 'gemini', '-p', promptArg(context), '--approval-mode=plan', '--skip-trust', '--output-format', 'stream-json', ...model(context, '-m'), ...context.config.args];
    return { argv, env: agentEnv(context, {}, PROVIDER_ENV.gemini) };
  },
  parseReport: parseGemini,
};

/** opencode: `run` sends one message and exits; `--auto` approves what is not explicitly denied; JSON events. */
export const opencodeAdapter: AgentAdapter = {
  type: 'opencode',
  defaultTimeoutMinutes: 60,
  executable: program('opencode'),
  verified: ['1.18.33'],
  homeSeed: ['.local/share/opencode/auth.json', '.config/opencode/opencode.json'],
  loginFiles: ['.local/share/opencode/auth.json'],
  helpPages: [['run', '--help']],
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
      promptArg(context),
    ];
    return { argv, env: agentEnv(context, {}, [...PROVIDER_ENV.multi, 'OPENCODE_*']) };
  },
  review(context) {
    const argv = [context.config.command?.[0] ?? 'opencode', 'run', '--agent', 'plan', '--format', 'json', ...model(context, '--model'), ...context.config.args, promptArg(context)];
    return { argv, env: agentEnv(context, {}, [...PROVIDER_ENV.multi, 'OPENCODE_*']) };
  },
  parseReport: parseOpencode,
};
