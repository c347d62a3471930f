import { AgentError } from '../errors.js';
import { agentEnv, PROMPT_ARG_LIMIT, type AgentAdapter, type LaunchContext } from './adapter.js';

const PLACEHOLDER = /\{(prompt_file|prompt|worktree|task_id|attempt|model)\}/g;

/** Substitutes placeholders inside each argument; the prompt stays one argument, never parsed by a shell. */
export function substitute(template: readonly string[], values: Record<string, string>): string[] {
  return template.map((arg) => arg.replace(PLACEHOLDER, (_, name: string) => values[name] ?? ''));
}

export const customAdapter: AgentAdapter = {
  type: 'custom',
  defaultTimeoutMinutes: 60,
  executable(config) {
    const program = config.command?.[0];
    if (!program) throw new AgentError('SWARM_AGENT_NO_COMMAND', 'A custom agent needs "command": an argument vector such as ["my-agent", "--prompt-file", "{prompt_file}"].');
    return program;
  },
  build(context: LaunchContext) {
    const command = context.config.command;
    if (!command) throw new AgentError('SWARM_AGENT_NO_COMMAND', `Agent ${context.agentName} has no "command" in swarm.config.json.`);
    if (Buffer.byteLength(context.prompt) > PROMPT_ARG_LIMIT && [...command, ...context.config.args].some((arg) => arg.includes('{prompt}'))) {
      throw new AgentError('SWARM_PROMPT_TOO_LONG', `The prompt (${Math.round(Buffer.byteLength(context.prompt) / 1024)} KB) is too long to pass as one argument through {prompt} (Linux allows 128 KB). Use {prompt_file} in agents.${context.agentName}.command instead.`);
    }
    const argv = substitute([...command, ...context.config.args], {
      prompt_file: context.promptFile,
      prompt: context.prompt,
      worktree: context.worktree,
      task_id: String(context.taskId),
      attempt: String(context.attempt),
      model: context.model ?? '',
    });
    return { argv, env: agentEnv(context) };
  },
};
