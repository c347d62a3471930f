/** The agent commands: `agents`, `doctor`, `agent run|demo`, `demo`. */
import type { Command } from 'commander';
import { SwarmError, ExitCode } from '../errors.js';
import type { AgentListing } from './agents.js';
import { json, type Out } from './output.js';
import { withProject } from './with-project.js';

const load = {
  agents: () => import('./agents.js'),
  demo: () => import('./demo.js'),
};

export function registerAgentCommands(program: Command, io: Out, cwd: () => string | undefined): void {
  program
    .command('agents')
    .description('configured agents and whether they can run here; coding CLIs found on PATH')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      let listing: AgentListing;
      try {
        listing = await withProject(cwd(), async (project) => (await load.agents()).listAgents(project));
      } catch (err) {
        if (!(err instanceof SwarmError)) throw err;
        listing = { configured: [], installed: await (await load.agents()).installedWithVersions(process.cwd()) };
      }
      if (options.json) return io.out(json(listing));
      io.out((await load.agents()).renderAgents(listing));
    });

  program
    .command('doctor')
    .description('check every configured agent for real: it runs, its version, every flag swarm passes, root and sandbox')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const checks = await withProject(cwd(), async (project) => (await load.agents()).doctor(project));
      if (options.json) io.out(json(checks));
      else io.out(checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.agent}: ${c.what}`).join('\n'));
      if (checks.some((c) => !c.ok)) process.exitCode = ExitCode.agent;
    });

  const agent = program.command('agent').description('the built-in agent');
  agent
    .command('run')
    .description('run the built-in agent in the current directory (the daemon starts it in a task worktree)')
    .requiredOption('--prompt-file <file>', 'the prompt')
    .requiredOption('--model <model>', 'model name')
    .option('--host <url>', 'Ollama host')
    .option('--openai-base-url <url>', 'an OpenAI-compatible endpoint instead of Ollama')
    .option('--api-key-env <name>', 'environment variable with the endpoint key')
    .option('--num-ctx <n>', 'context window', '32768')
    .option('--max-steps <n>', 'step limit', '40')
    .option('--token-budget <n>', 'token budget', '400000')
    .option('--bash-timeout <s>', 'seconds per bash command', '120')
    .action(async (o: { promptFile: string; model: string; host?: string; openaiBaseUrl?: string; apiKeyEnv?: string; numCtx: string; maxSteps: string; tokenBudget: string; bashTimeout: string }) => {
      process.exitCode = await (await load.agents()).runBuiltinAgent(
        { promptFile: o.promptFile, model: o.model, host: o.host, openaiBaseUrl: o.openaiBaseUrl, apiKeyEnv: o.apiKeyEnv, numCtx: Number(o.numCtx), maxSteps: Number(o.maxSteps), tokenBudget: Number(o.tokenBudget), bashTimeout: Number(o.bashTimeout) },
        (text) => process.stdout.write(text),
      );
    });

  agent
    .command('review')
    .description('run the built-in reviewer (the daemon starts it for a reviewer whose agent is of type builtin)')
    .requiredOption('--prompt-file <file>', 'the review prompt')
    .requiredOption('--model <model>', 'model name')
    .option('--host <url>', 'Ollama host')
    .option('--openai-base-url <url>', 'an OpenAI-compatible endpoint instead of Ollama')
    .option('--api-key-env <name>', 'environment variable with the endpoint key')
    .option('--num-ctx <n>', 'context window', '32768')
    .action(async (o: { promptFile: string; model: string; host?: string; openaiBaseUrl?: string; apiKeyEnv?: string; numCtx: string }) => {
      process.exitCode = await (await import('../review/builtin.js')).runBuiltinReview({ ...o, numCtx: Number(o.numCtx) }, (text) => process.stdout.write(text));
    });

  agent
    .command('demo')
    .description('the scripted demonstration agent of `swarm demo` (not an AI)')
    .requiredOption('--prompt-file <file>', 'the prompt')
    .action(async (o: { promptFile: string }) => {
      process.exitCode = (await import('./demo-agent.js')).runDemoAgent(o.promptFile, (text) => process.stdout.write(text));
    });

  program
    .command('demo')
    .description('create a sample repository with a bug and fix it end to end with the best agent on this machine')
    .option('--dir <dir>', 'where to create the sample (default: a new temp folder)')
    .option('--scripted', 'use the scripted demonstration agent even when a real one is here')
    .action(async (options: { dir?: string; scripted?: boolean }) => {
      process.exitCode = await (await load.demo()).runDemo({ dir: options.dir, scripted: options.scripted, write: (line) => io.out(line) });
    });

}
