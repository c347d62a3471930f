import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { addNote, contextDir, listNotes } from '../orchestrator/context-store.js';
import { outcomeStats } from '../orchestrator/outcomes.js';
import { outcomeRows } from '../orchestrator/intake.js';
import { silentLogger } from '../log.js';
import { Command, CommanderError } from 'commander';
import * as z from 'zod';
import { SwarmConfig } from '../config/schema.js';
import type { Project } from '../config/project.js';
import { DaemonClient } from '../daemon/client.js';
import { ExitCode, SwarmError, UsageError, errorMessage } from '../errors.js';
import { VERSION } from '../version.js';
import { ago, json, oneLine, renderReviewStats, stdio, table, taskLine, type Out } from './output.js';
import { reviewStats } from '../review/stats.js';
import { attach, pickSession, sessionRunner, streamLogs } from './sessions.js';
import { renderTaskDetail, taskDetail } from './show.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerDashboardCommand } from './dashboard.js';
import { registerCleanupCommand } from './cleanup.js';
import { registerHostsCommand } from './hosts.js';
import { withProject } from './with-project.js';
import { getTask, killTask, mergeTask, parseTaskId, retryTask, spawnTask } from './tasks.js';
import { TaskState } from '../../registry/types.js';

/** Heavy commands load their modules on use, so `swarm spawn` and `swarm ls` start fast. */
const load = {
  daemon: () => import('./daemon.js'),
  orchestrate: () => import('./orchestrate.js'),
  discovery: () => import('../orchestrator/discovery.js'),
};

/** Tells the daemon there is work. A daemon whose process lives but did not answer in time is busy, not down. */
async function nudge(project: Project): Promise<boolean> {
  const client = DaemonClient.find(project.paths);
  if (!client) return false;
  if (await client.nudge()) return true;
  try {
    process.kill(client.pid, 0);
    return true; // alive and busy: the task is durable, and its next pass picks it up
  } catch {
    return false;
  }
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** Where to read more, printed under `swarm --help` (the pages are in the package, beside this README). */
export const DOCS_HELP = [
  'Documentation (docs/ in the worktree-swarm package):',
  '  docs/commands.md        every command and its exit codes',
  '  docs/configuration.md   every key of swarm.config.json',
  '  docs/agents.md          the coding CLIs; failures told apart',
  '  docs/sandbox.md         what an agent can read, write and reach',
  '  docs/review.md          AI reviewers and review rounds',
  '  docs/evidence.md        what a respawned agent is told',
  '  docs/notifications.md   desktop, phone, webhook',
  '  docs/dashboard.md       the web dashboard and the API',
  '  docs/hosts.md           your other machines over SSH',
].join('\n');

export function buildProgram(io: Out = stdio): Command {
  const program = new Command('swarm')
    .description('Run a team of coding agents on your repository, locally.')
    .version(VERSION)
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('(run `swarm --help` for usage)')
    .addHelpText('after', `\n${DOCS_HELP}`)
    .exitOverride();
  const cwd = (): string | undefined => program.opts<{ cwd?: string }>().cwd;

  program
    .command('init')
    .description('write swarm.config.json for this repository')
    .option('--force', 'overwrite an existing config')
    .option('--base <branch>', 'branch tasks start from and merge into')
    .action(async (options: { force?: boolean; base?: string }) => {
      const { file, notes } = await (await import('./init.js')).initProject(cwd() ?? process.cwd(), options);
      io.out([`Wrote ${file}.`, ...notes.map((n) => `  ${n}`), 'Check it with `swarm doctor`, then run `swarm daemon start`.'].join('\n'));
    });

  program
    .command('schema')
    .description('print the JSON Schema of swarm.config.json (for editors)')
    .action(() => io.out(json(z.toJSONSchema(SwarmConfig, { io: 'input' }))));

  const daemon = program.command('daemon').description('the background process that runs and watches agents');
  daemon
    .command('start')
    .description('start the daemon in the background')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const { status, already } = await (await load.daemon()).startDaemon(project);
        if (options.json) io.out(json({ ...status, already_running: already }));
        else io.out(`${already ? `Daemon already running (pid ${status.pid}).` : `Daemon started (pid ${status.pid}, up to ${status.concurrency} agents at once). Logs: ${project.paths.daemonLog}`}\n${(await import('../sandbox/probe.js')).sandboxLine(project.config.sandbox)}`);
      }),
    );
  daemon
    .command('run')
    .description('run the daemon in the foreground')
    .option('--log-file <path>', 'log to this file, rotated at 10 MB (3 kept), instead of standard output')
    .action((options: { logFile?: string }) => withProject(cwd(), async (project) => (await load.daemon()).runDaemon(project, options.logFile ? { logFile: options.logFile } : {})));
  daemon
    .command('install')
    .description('run the daemon as a user service: started at login, restarted if it dies (systemd --user, or a LaunchAgent)')
    .option('--print', 'show the service file and the environment it would get, install nothing')
    .action((options: { print?: boolean }) =>
      withProject(cwd(), async (project) => {
        const service = await import('./service.js');
        if (options.print) {
          const { paths, text, envNames } = service.renderService(project);
          return io.out(`# ${paths.file}\n${text}${paths.env ? `\n# ${paths.env} would hold: ${envNames.join(', ') || 'nothing'}` : ''}`);
        }
        for (const line of await service.installService(project)) io.out(line);
      }),
    );
  daemon
    .command('uninstall')
    .description('remove the user service (the daemon no longer starts by itself; agents keep running)')
    .action(() =>
      withProject(cwd(), async (project) => {
        for (const line of (await import('./service.js')).uninstallService(project)) io.out(line);
      }),
    );
  daemon
    .command('stop')
    .description('stop the daemon (agents keep running and are picked up on the next start)')
    .action(() =>
      withProject(cwd(), async (project) => {
        io.out((await (await load.daemon()).stopDaemon(project)) ? 'Daemon stopped. Running agents keep running.' : 'No daemon is running.');
      }),
    );
  daemon
    .command('status')
    .description('is the daemon running, and how is it doing')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const status = await (await load.daemon()).daemonStatus(project);
        if (options.json) io.out(json({ running: status !== null, ...(status ?? {}) }));
        else if (!status) {
          const { servicePaths } = await import('./service.js');
          const installed = existsSync(servicePaths(project.repo.root).file);
          io.out(installed ? `Daemon not running, though its service ${servicePaths(project.repo.root).name} is installed: see \`systemctl --user status ${servicePaths(project.repo.root).name}\` (or the LaunchAgent's log).` : 'Daemon not running. Start it with `swarm daemon start`, or keep it always on with `swarm daemon install`.');
        } else {
          io.out(`Daemon running: pid ${status.pid}, up ${ago(status.started_at)}, forge ${status.forge}, ${status.sessions_watched} live session(s), concurrency ${status.concurrency}, ${status.ticks} passes (last ${status.last_tick_ms?.toFixed(1) ?? '-'} ms), ${status.notifications_pending} notification(s) pending.`);
          io.out(status.service ? `Under the service ${status.service}: started at login, restarted if it dies.` : 'Started by hand (not under a service; `swarm daemon install` keeps it always on).');
          if (status.admission?.reason) io.out(`Queue: ${status.admission.reason}`);
          for (const h of status.hosts ?? []) io.out(`Host ${h.name} (${h.ssh}): ${h.active} of ${h.slots} slots in use, ${h.queued} queued${h.unreachable_since !== null ? `; UNREACHABLE for ${ago(h.unreachable_since).replace(/ ago$/, '')}` : ''}`);
          for (const c of status.clusters ?? []) {
            io.out(`Cluster ${c.name}: ${c.active} of ${c.slots} slots in use, ${c.queued} queued`);
            for (const w of c.waiting) io.out(`  #${w.task} waits: ${w.why}`);
          }
          const h = status.forge_health;
          if (h) {
            const rate = h.rate ? `REST ${h.rate.remaining}/${h.rate.limit} left (resets ${new Date(h.rate.reset_at).toISOString()})` : 'REST budget not known yet';
            io.out(`GitHub: ${h.ok ? 'ok' : `waiting: ${h.why ?? ''}`}; ${rate}; GraphQL ${h.graphql_remaining ?? '?'} left; ${h.requests} requests, ${h.points} points spent since start.`);
          }
        }
        if (!status) process.exitCode = ExitCode.daemon;
      }),
    );

  program
    .command('spawn')
    .description('queue a task for an agent (prompt as argument, or - to read stdin)')
    .argument('<prompt...>', 'what the agent should do')
    .option('-a, --agent <name>', 'agent from swarm.config.json')
    .option('-m, --model <model>', 'model for the agent')
    .option('-k, --kind <kind>', 'task kind (bugfix, docs, ...)')
    .option('-t, --title <title>', 'short title (default: first line of the prompt)')
    .option('-b, --branch <name>', 'branch name (default swarm/<id>-<slug>); must not exist')
    .option('--base <branch>', 'start from and merge into this branch instead of the configured base')
    .option('--host <name>', 'run it on this host from the config (see `swarm hosts`)')
    .option('--raw', 'send the text to one agent as it is, even when an orchestrator model is configured')
    .option('--fanout <n>', 'try it with N candidates (each its own branch and agent); the best is chosen for you', (v: string) => Number(v))
    .option('--agents <list>', 'the fan-out\'s candidates: agent or agent:model, comma-separated (e.g. claude,codex,claude:opus)')
    .option('--json', 'machine-readable output')
    .action((words: string[], options: { agent?: string; model?: string; kind?: string; title?: string; branch?: string; base?: string; host?: string; raw?: boolean; json?: boolean; fanout?: number; agents?: string }) =>
      withProject(cwd(), async (project) => {
        const prompt = words.length === 1 && words[0] === '-' ? readStdin() : words.join(' ');
        const { raw, json: asJson, fanout, agents, ...spawnOptions } = options;
        if (fanout !== undefined || agents !== undefined) {
          const { fanoutCandidates, parseCandidates, spawnFanout } = await import('../orchestrator/intake.js');
          const candidates = fanoutCandidates(project.config, { ...(agents ? { agents: parseCandidates(agents) } : {}), ...(fanout !== undefined ? { fanout } : {}), ...(spawnOptions.kind ? { kind: spawnOptions.kind } : {}), ...(spawnOptions.agent ? { agent: spawnOptions.agent } : {}) });
          const { task, candidates: rows } = await spawnFanout(project, { prompt, ...spawnOptions, candidates });
          const running = await nudge(project);
          if (asJson) return io.out(json({ ...task, candidates: rows, daemon_running: running }));
          io.out(`Task ${task.id} queued as a fan-out of ${rows.length}: ${oneLine(task.title)}`);
          for (const c of rows) io.out(`  ${c.id}  ${c.agent}${c.model ? `:${c.model}` : ''}  ${c.branch}`);
          io.out(`  One notification when they are done, with the chosen one; \`swarm show ${task.id}\` compares them.`);
          if (!running) io.out('  The daemon is not running; the tasks wait until `swarm daemon start`.');
          return;
        }
        const explicit = spawnOptions.agent || spawnOptions.model || spawnOptions.branch || spawnOptions.title || spawnOptions.host;
        if (project.config.orchestrator.model && !raw && !explicit) {
          if (!prompt.trim()) throw new UsageError('The request is empty.');
          const { plan, tasks } = await (await load.orchestrate()).planAndQueue(project, prompt);
          const running = await nudge(project);
          if (asJson) return io.out(json({ plan: plan.plan, attempts: plan.attempts, tasks, daemon_running: running }));
          io.out(`Planned ${tasks.length} task(s)${plan.attempts > 1 ? ` (after ${plan.attempts - 1} rejected plan(s))` : ''}:`);
          for (const t of tasks) io.out(`  ${t.id}  ${oneLine(t.title)}  [${t.agent}]${t.depends_on !== '[]' ? `  after ${(JSON.parse(t.depends_on) as number[]).map((d) => `#${d}`).join(', ')}` : ''}`);
          if (!running) io.out('  The daemon is not running; the tasks wait until `swarm daemon start`.');
          return;
        }
        const task = await spawnTask(project, { prompt, ...spawnOptions });
        const running = await nudge(project);
        if (asJson) io.out(json({ ...task, daemon_running: running }));
        else {
          io.out(`Task ${task.id} queued: ${oneLine(task.title)}\n  agent ${task.agent}, branch ${task.branch}${task.routing_note ? `\n  ${task.routing_note}` : ''}`);
          if (!running) io.out('  The daemon is not running; the task waits until `swarm daemon start`.');
        }
      }),
    );

  program
    .command('ls')
    .description('list tasks')
    .option('-s, --state <state>', 'only tasks in this state')
    .option('-a, --all', 'include done and cancelled tasks')
    .option('--json', 'machine-readable output')
    .action((options: { state?: string; all?: boolean; json?: boolean }) =>
      withProject(cwd(), async (project) => {
        let states: TaskState[] | undefined;
        if (options.state) {
          const parsed = TaskState.safeParse(options.state);
          if (!parsed.success) throw new UsageError(`Unknown state "${options.state}". States: ${TaskState.options.join(', ')}.`);
          states = [parsed.data];
        } else if (!options.all) states = TaskState.options.filter((s) => s !== 'done' && s !== 'cancelled');
        const tasks = project.registry.listTasks(states);
        if (options.json) io.out(json(tasks));
        else if (tasks.length === 0) io.out(options.all ? 'No tasks yet. Queue one with `swarm spawn "..."`.' : 'No open tasks (`swarm ls --all` shows finished ones).');
        else {
          io.out(table(['ID', 'STATE', 'AGENT', 'WHERE', 'RETRIES', 'UPDATED', 'TITLE'], tasks.map((t) => taskLine(t))));
          // A task waiting for its host or cluster (no room there, not reachable) says why.
          for (const t of tasks) if (t.state === 'queued' && t.host !== null && t.reason) io.out(`  #${t.id} waits: ${oneLine(t.reason)}`);
        }
      }),
    );

  program
    .command('show')
    .description('one task: state, attempts, PR, events, notifications')
    .argument('<id>')
    .option('--json', 'machine-readable output')
    .action((id: string, options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const task = getTask(project, parseTaskId(id));
        const detail = await taskDetail(project, task);
        io.out(options.json ? json(detail) : renderTaskDetail(detail));
      }),
    );

  program
    .command('logs')
    .description("print an agent's terminal output (or CI's with --ci)")
    .argument('<id>')
    .option('-f, --follow', 'keep printing until the session ends')
    .option('--ci', 'the CI run instead of the agent')
    .option('--review <reviewer>', "an AI reviewer's session instead of the agent")
    .option('--attempt <n>', 'a given attempt (default: the latest)')
    .option('--json', 'machine-readable output (whole transcript)')
    .action((id: string, options: { follow?: boolean; ci?: boolean; review?: string; attempt?: string; json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const session = pickSession(project, parseTaskId(id), { ci: options.ci, review: options.review, attempt: options.attempt ? Number(options.attempt) : undefined });
        if (options.json) {
          const chunks: Buffer[] = [];
          await streamLogs(sessionRunner(project, session), session, (c) => chunks.push(c), { follow: false });
          return io.out(json({ task: session.task_id, session: session.session_id, kind: session.kind, transcript: Buffer.concat(chunks).toString('utf8') }));
        }
        await streamLogs(sessionRunner(project, session), session, (chunk) => process.stdout.write(chunk), { follow: options.follow === true });
      }),
    );

  program
    .command('attach')
    .description("take over an agent's live terminal (Ctrl-] detaches, the agent keeps running)")
    .argument('<id>')
    .option('--ci', 'the CI run instead of the agent')
    .option('--review <reviewer>', "an AI reviewer's session instead of the agent")
    .action((id: string, options: { ci?: boolean; review?: string }) =>
      withProject(cwd(), async (project) => {
        const session = pickSession(project, parseTaskId(id), { ci: options.ci, review: options.review });
        await attach(sessionRunner(project, session), session, { stdin: process.stdin, stdout: process.stdout, err: io.err });
      }),
    );

  program
    .command('kill')
    .description('cancel a task and stop its agent (the worktree stays until `swarm cleanup`)')
    .argument('<id>')
    .option('--json', 'machine-readable output')
    .action((id: string, options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const result = await killTask(project, parseTaskId(id));
        await nudge(project);
        if (options.json) io.out(json(result));
        else io.out(`Task ${result.task.id} cancelled${result.sessionsKilled ? `; stopped ${result.sessionsKilled} session(s)` : ''}.`);
      }),
    );

  program
    .command('retry')
    .description('give a task that needs help another round (retries start from zero)')
    .argument('<id>')
    .option('-n, --note <text>', 'a note for the next agent (what to do differently)')
    .option('--json', 'machine-readable output')
    .action((id: string, options: { note?: string; json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const task = await retryTask(project, parseTaskId(id), options.note);
        await nudge(project);
        if (options.json) io.out(json(task));
        else io.out(`Task ${task.id} queued again.`);
      }),
    );

  program
    .command('merge')
    .description('merge a ready task into its base branch; the task is done and its worktree removed')
    .argument('<id>')
    .option('--json', 'machine-readable output')
    .action((id: string, options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const result = await mergeTask(project, parseTaskId(id));
        await nudge(project);
        if (options.json) io.out(json(result));
        else io.out(`Task ${result.task.id} merged into ${result.task.base} (${result.commit.slice(0, 10)}).${result.cleanup ? ` ${result.cleanup}` : ' Worktree removed.'}`);
      }),
    );

  program
    .command('plan')
    .description('show how the orchestrator would split a request into tasks (queues nothing)')
    .argument('<request...>')
    .option('--json', 'machine-readable output')
    .action((words: string[], options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const result = await (await load.orchestrate()).planFor(project, words.length === 1 && words[0] === '-' ? readStdin() : words.join(' '));
        if (options.json) return io.out(json(result));
        io.out((await load.orchestrate()).renderPlan(result.plan));
        if (result.context_notes.length) io.out(`\nContext used: ${result.context_notes.join(', ')}`);
      }),
    );

  const context = program.command('context').description('business context: notes the orchestrator reads');
  context
    .command('add')
    .description('add a markdown note (a file, or - for stdin)')
    .argument('<file>')
    .option('-n, --name <name>', 'a name for the note')
    .action((file: string, options: { name?: string }) =>
      withProject(cwd(), async (project) => {
        const text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
        const saved = addNote(contextDir(project.config, project.repo.root), text, options.name ?? (file === '-' ? undefined : basename(file)));
        io.out(`Added ${saved}.`);
      }),
    );
  context
    .command('ls')
    .description('list the notes')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const notes = listNotes(contextDir(project.config, project.repo.root)).map(({ text: _text, ...rest }) => rest);
        if (options.json) return io.out(json(notes));
        if (notes.length === 0) return io.out('No notes yet. Add one with `swarm context add notes.md`.');
        io.out(table(['NOTE', 'TOKENS', 'TITLE'], notes.map((n) => [n.name, String(n.tokens), n.title])));
      }),
    );

  program
    .command('stats')
    .description('outcomes by agent, model and task kind: success rate, retries, time to ready, cost')
    .option('--by <keys>', 'group by any of agent,model,kind', 'agent,model,kind')
    .option('--json', 'machine-readable output')
    .option('--reviews', 'the AI reviewers: cost per merged PR, and how often their blocking findings were fixed and merged')
    .action((options: { by: string; json?: boolean; reviews?: boolean }) =>
      withProject(cwd(), async (project) => {
        const reviews = reviewStats(project.registry.reviewRows(), project.config.review.block_on);
        if (options.reviews) return io.out(options.json ? json(reviews) : renderReviewStats(reviews));
        const by = options.by.split(',').map((k) => k.trim()).filter((k): k is 'agent' | 'model' | 'kind' => k === 'agent' || k === 'model' || k === 'kind');
        const lines = outcomeStats(outcomeRows(project.registry), by.length ? by : ['agent', 'model', 'kind']);
        if (options.json) return io.out(json(lines));
        if (lines.length === 0) return io.out('No tasks yet.');
        const f = (x: number | null, d = 1): string => (x === null ? '-' : x.toFixed(d));
        io.out(table(['AGENT', 'MODEL', 'KIND', 'TASKS', 'SUCCESS', 'RETRIES', 'MIN->PR', 'MIN->READY', 'TOKENS', 'COST/MERGED'], lines.map((l) => [l.agent, l.model, l.kind, String(l.tasks), l.success_rate === null ? '-' : `${Math.round(l.success_rate * 100)}%`, f(l.mean_retries), f(l.mean_minutes_to_pr), f(l.mean_minutes_to_ready), String(l.tokens), l.cost_per_merged_pr === null ? '-' : `$${l.cost_per_merged_pr.toFixed(2)}`])));
        if (reviews.reviewers.length) io.out(`\n${renderReviewStats(reviews)}`);
        const { fanoutOutcomes } = await import('../orchestrator/intake.js');
        const { fanoutStats } = await import('../orchestrator/fanout-stats.js');
        const fanouts = fanoutStats(fanoutOutcomes(project.registry));
        if (fanouts.length) io.out(`\nFan-outs:\n${table(['KIND', 'AGENT', 'MODEL', 'WON', 'COST'], fanouts.map((l) => [l.kind, l.agent, l.model, `${l.wins} of ${l.of}`, l.cost_usd ? `$${l.cost_usd.toFixed(2)}` : '-']))}`);
      }),
    );

  program
    .command('pick')
    .description('choose another candidate of a fan-out for merging')
    .argument('<fanout>')
    .argument('<candidate>')
    .action((fanoutId: string, candidateId: string) =>
      withProject(cwd(), async (project) => {
        const task = (await import('./fanout.js')).pickCandidate(project, parseTaskId(fanoutId), parseTaskId(candidateId), { via: 'cli' });
        io.out(`Fan-out ${task.id} will merge candidate #${task.chosen} (${(task.verified_sha ?? '').slice(0, 10)}): \`swarm merge ${task.id}\`.`);
      }),
    );

  program
    .command('approve')
    .description('queue tasks proposed by discovery')
    .argument('<ids...>')
    .action((ids: string[]) =>
      withProject(cwd(), async (project) => {
        for (const id of ids) io.out(`Task ${(await load.orchestrate()).approveTask(project, parseTaskId(id)).id} queued.`);
        await nudge(project);
      }),
    );

  program
    .command('discover')
    .description('run the discovery sources now (new notes, base-branch CI, commands) and list what they proposed')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withProject(cwd(), async (project) => {
        const { Discovery } = await load.discovery();
        const found = await new Discovery(project, silentLogger()).runOnce();
        if (options.json) return io.out(json(found));
        io.out(found.length ? found.map((t) => `${t.id}  ${t.state}  ${oneLine(t.title)}`).join('\n') : 'Nothing new.');
        if (found.some((t) => t.state === 'proposed')) io.out('Approve with `swarm approve <id>`.');
      }),
    );

  registerAgentCommands(program, io, cwd);
  registerDashboardCommand(program, io, cwd);
  registerCleanupCommand(program, io, cwd);
  registerHostsCommand(program, io, cwd);

  return program;
}

export async function main(argv: string[], io: Out = stdio): Promise<void> {
  // `swarm ls | head -1`: a reader that went away is not an error (no EPIPE stack trace).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : ExitCode.usage;
      return;
    }
    if (err instanceof SwarmError) {
      io.err(`swarm: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof z.ZodError) {
      io.err(`swarm: invalid input: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      process.exitCode = ExitCode.usage;
      return;
    }
    io.err(`swarm: unexpected error: ${errorMessage(err)}\nThis is a bug; please report it with the output of \`swarm daemon status\`.`);
    process.exitCode = ExitCode.internal;
  }
}

