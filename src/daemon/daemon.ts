import { randomBytes } from 'node:crypto';
import { availableParallelism, freemem, totalmem } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { Monitor } from '../../monitor/monitor.js';
import { ACTIVE_STATES } from '../../registry/types.js';
import { rememberStateDir } from '../sandbox/known-repos.js';
import { sandboxLine } from '../sandbox/probe.js';
import { resolveAgent } from '../agents/registry.js';
import { cliFacts } from '../agents/versions.js';
import type { Project } from '../config/project.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Forge } from '../forge/forge.js';
import { createForge } from '../forge/create.js';
import { orchestratorModel } from '../orchestrator/model.js';
import { Discovery } from '../orchestrator/discovery.js';
import { channelsFromConfig, NotificationWorker } from '../notify/outbox.js';
import { remotesFromConfig, type Remote } from '../notify/remote/remotes.js';
import type { NotifyChannel } from '../notify/channel.js';
import { runnersOf, type Runners } from '../runners/runners.js';
import type { SessionConnection } from '../runners/runner.js';
import { serveApi, type ApiHost } from '../api/serve.js';
import type { Status } from '../api/schemas.js';
import { cleanupFinished } from '../workspace/cleanup.js';
import { WorktreePool } from '../workspace/pool.js';
import { SpareHolder } from '../sessions/spare.js';
import { HOLDER_SCRIPT } from '../sessions/sessions.js';
import { poolRoot } from '../workspace/worktrees.js';
import { removeDaemonInfo, writeDaemonInfo } from './info.js';
import { launch, recoverPreparing, type LauncherDeps } from './launcher.js';
import { DaemonLock } from './lock.js';
import { admit, hostStarts, overflow, hostRoom, type HostRoom, budgetFromConfig, defaultConcurrency, memoryRoom, waitReason, type Held } from './scheduler.js';
import { VERSION } from '../version.js';

export interface DaemonOptions {
  log: Logger;
  channels?: NotifyChannel[];
  forge?: Forge;
}

/** The long-running process: one per state directory. Agents live in their own holders, not here. */
export class Daemon {
  private lock: DaemonLock | null = null;
  private api: ApiHost | null = null;
  private crons: ScheduledTask[] = [];
  private readonly watchers = new Map<string, SessionConnection>();
  private readonly token = randomBytes(24).toString('hex');
  private monitor!: Monitor;
  private forge!: Forge;
  private readonly launcherDeps: LauncherDeps;
  private readonly pool: WorktreePool;
  private readonly spares: SpareHolder;
  private readonly runners: Runners;
  private poolTimer: NodeJS.Timeout | null = null;
  private readonly channels: NotifyChannel[];
  private readonly notifier: NotificationWorker;
  private readonly remotes: Remote[];
  private readonly concurrency: number;
  private loopRunning: Promise<void> | null = null;
  private loopAgain = false;
  private stopping = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  /** The soonest a task waiting on its cluster asked to be tried again (ms from this pass). */
  private clusterRetryMs: number | null = null;
  private lastStartAt: number | null = null;
  private admission: { waiting: number; held: Held | null; reason: string | null } = { waiting: 0, held: null, reason: null };
  private ticks = 0;
  private lastTickAt: number | null = null;
  private lastTickMs: number | null = null;
  private slowestTickMs = 0;
  private slowestMonitorMs = 0;
  private readonly startedAt = Date.now();
  private stopResolve: () => void = () => undefined;
  readonly stopped = new Promise<void>((resolve) => (this.stopResolve = resolve));

  constructor(private readonly project: Project, private readonly options: DaemonOptions) {
    const { config, registry, repo, paths } = project;
    // Telegram and a Slack app are channels and listeners (their buttons act on tasks through the shared actions).
    this.remotes = remotesFromConfig(project, options.log, () => this.kick());
    this.channels = options.channels ?? [...channelsFromConfig(config), ...this.remotes.map((r) => r.channel())];
    this.notifier = new NotificationWorker(registry, this.channels, config.notify.max_attempts, options.log);
    const channelNames = this.channels.map((c) => c.name);
    this.concurrency = config.concurrency ?? defaultConcurrency();
    let warmRoot: string | null = null;
    try {
      warmRoot = poolRoot(config, repo.root);
    } catch {
      // a bad worktree.dir: each launch says what to fix
    }
    this.pool = new WorktreePool(repo.root, warmRoot ?? '', config.base, warmRoot ? config.worktree.pool : 0, options.log);
    this.spares = new SpareHolder(HOLDER_SCRIPT, paths.dir, options.log);
    this.runners = runnersOf(project, { spares: this.spares, pool: this.pool });
    this.launcherDeps = { repoRoot: repo.root, config, registry, sessionsDir: paths.sessions, channels: channelNames, log: options.log, orchestrator: orchestratorModel(config), pool: this.pool, spares: this.spares, runners: this.runners, comeBackIn: (ms) => (this.clusterRetryMs = Math.min(ms, this.clusterRetryMs ?? ms)) };
    for (const expression of [config.monitor.schedule, config.cleanup.schedule, config.discovery.schedule]) {
      if (expression && !cron.validate(expression)) throw new ConfigError(`swarm.config.json is invalid:\n  schedule "${expression}" is not a valid cron expression.`);
    }
  }

  async start(): Promise<{ port: number }> {
    const { paths, config, registry, repo } = this.project;
    this.lock = DaemonLock.acquire(paths.lock);
    // Sandboxes of every repository hide this one's `.swarm/` (its token) from their agents.
    try {
      rememberStateDir(paths.dir);
    } catch (err) {
      this.options.log.warn({ error: errorMessage(err) }, 'could not record this repository in the list sandboxes hide');
    }
    try {
      this.forge = this.options.forge ?? (await createForge(this.project, this.options.log));
    } catch (err) {
      this.lock.release();
      this.lock = null;
      throw err;
    }
    this.monitor = new Monitor({
      repoRoot: repo.root,
      config,
      registry,
      forge: this.forge,
      channels: this.channels.map((c) => c.name),
      log: this.options.log,
      sessionsDir: paths.sessions,
      runners: this.runners,
      agentTimeoutMinutes: (agent) => {
        try {
          return resolveAgent(config, repo.root, agent).timeoutMinutes;
        } catch {
          return 60;
        }
      },
    });
    await recoverPreparing(this.launcherDeps);
    let port: number;
    try {
      port = await this.listen();
    } catch (err) {
      this.lock.release();
      this.lock = null;
      throw err;
    }
    writeDaemonInfo(paths.daemonInfo, { pid: process.pid, port, token: this.token, started_at: this.startedAt, version: VERSION });
    this.crons.push(cron.schedule(config.monitor.schedule, () => this.kick(), { noOverlap: true, name: 'monitor' }));
    if (config.cleanup.schedule) {
      this.crons.push(
        cron.schedule(
          config.cleanup.schedule,
          async () => {
            const report = await cleanupFinished(this.project.repo.root, registry, { remote: (task, o) => this.runners.for(task).removeCheckout(task, o) }).catch((err: unknown) => {
              this.options.log.warn({ error: errorMessage(err) }, 'scheduled cleanup failed');
              return null;
            });
            if (report?.removed.length) this.options.log.info({ removed: report.removed.length }, 'cleaned up finished worktrees');
          },
          { noOverlap: true, name: 'cleanup' },
        ),
      );
    }
    if (config.discovery.schedule) {
      const discovery = new Discovery(this.project, this.options.log);
      this.crons.push(
        cron.schedule(
          config.discovery.schedule,
          async () => {
            if ((await discovery.runOnce()).length) this.kick();
          },
          { noOverlap: true, name: 'discovery' },
        ),
      );
    }
    this.options.log.info({ port, concurrency: this.concurrency, forge: this.forge.name, sandbox: sandboxLine(this.launcherDeps.config.sandbox) }, 'daemon started');
    this.warmAgentChecks();
    for (const remote of this.remotes) remote.start();
    this.kick();
    // Warm worktrees and a spare session holder: made now, refilled after each launch (worktrees also brought to base's tip when it moves).
    this.pool.refill();
    this.spares.fill();
    this.poolTimer = setInterval(() => this.pool.refill(), 60_000);
    this.poolTimer.unref();
    return { port };
  }

  /** Asks each configured CLI its version and help now, in the background, so no spawn waits for it. */
  private warmAgentChecks(): void {
    for (const name of Object.keys(this.project.config.agents)) {
      try {
        const agent = resolveAgent(this.project.config, this.project.repo.root, name);
        if (agent.adapter.helpPages?.length) void cliFacts(agent.executable, agent.adapter).catch(() => undefined);
      } catch {
        // not installed: `swarm spawn` says so
      }
    }
  }

  /** Runs the loop now, or once more right after the current pass: nudges are never lost, never run twice at once. */
  kick(): void {
    if (this.stopping) return;
    if (this.loopRunning) {
      this.loopAgain = true;
      return;
    }
    this.loopRunning = this.runLoop().finally(() => {
      this.loopRunning = null;
    });
  }

  private async runLoop(): Promise<void> {
    do {
      this.loopAgain = false;
      const began = performance.now();
      try {
        const monitorBegan = performance.now();
        await this.monitor.tick();
        this.slowestMonitorMs = Math.max(this.slowestMonitorMs, performance.now() - monitorBegan);
        await this.admitQueued();
        // Deliveries never hold up the loop: a hung notification server only delays its own channel.
        this.notifier.kick();
        await this.watchSessions();
      } catch (err) {
        this.options.log.error({ error: errorMessage(err) }, 'daemon loop failed; will retry on the next tick');
      }
      this.ticks++;
      this.lastTickAt = Date.now();
      this.lastTickMs = performance.now() - began;
      this.slowestTickMs = Math.max(this.slowestTickMs, this.lastTickMs);
    } while (this.loopAgain && !this.stopping);
  }

  private async admitQueued(): Promise<void> {
    const { registry, config } = this.project;
    this.clusterRetryMs = null;
    await this.placeOverflow();
    await this.admitOnHosts();
    for (;;) {
      const here = new Set(registry.listTasks(['queued']).filter((t) => t.host === null).map((t) => t.id));
      const queued = this.monitor.runnable().filter((id) => here.has(id));
      const active = registry.listTasks(ACTIVE_STATES).filter((t) => t.host === null).length;
      const freeBytes = freemem();
      const budget = budgetFromConfig(config.memory);
      const decision = admit({ now: Date.now(), queued, active, cap: this.concurrency, staggerMs: config.stagger_ms, lastStartAt: this.lastStartAt, room: memoryRoom(freeBytes, active, budget) });
      const waiting = queued.length - decision.start.length;
      const reason = waitReason(decision.held, { queued: waiting, active: active + decision.start.length, cap: this.concurrency, freeBytes, budget });
      if (decision.held === 'memory' && this.admission.held !== 'memory') this.options.log.info({ reason }, 'holding starts for memory');
      this.admission = { waiting, held: decision.held, reason };
      // A backed-off task (crash respawn, transient wait) is started when its time comes, not at the next cron tick.
      const notBefore = this.monitor.nextNotBefore();
      const waits = [decision.wakeInMs, notBefore === null ? null : Math.max(0, notBefore - Date.now()) + 20, this.clusterRetryMs].filter((ms): ms is number => ms !== null);
      if (waits.length) this.wakeIn(Math.min(...waits));
      if (decision.start.length === 0 || this.stopping) return;
      // Several at once (stagger 0): launched side by side, one per core, rather than each waiting for the last.
      const next = [...decision.start];
      const launcher = async (): Promise<void> => {
        for (let id = next.shift(); id !== undefined && !this.stopping; id = next.shift()) {
          this.lastStartAt = Date.now();
          await launch(this.launcherDeps, id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(next.length, availableParallelism()) }, launcher));
      this.pool.refill();
      this.spares.fill();
      if (config.stagger_ms > 0) return;
    }
  }

  /**
   * Tasks this machine has no room for (its cap or its memory) go to a host with room (its free slots and its
   * live free memory; a sandboxed task only where bubblewrap is), and stay there across respawns.
   */
  private async placeOverflow(): Promise<void> {
    const { registry, config, repo } = this.project;
    if (Object.keys(config.hosts).length === 0) return;
    const runnable = new Set(this.monitor.runnable());
    const sandboxed = (agent: string): boolean | null => {
      try {
        return resolveAgent(config, repo.root, agent, { elsewhere: true }).sandbox === 'bwrap';
      } catch {
        return null;
      }
    };
    const waiting = registry.listTasks(['queued']).filter((t) => t.host === null && runnable.has(t.id));
    const active = registry.listTasks(ACTIVE_STATES);
    const here = active.filter((t) => t.host === null).length;
    const budget = budgetFromConfig(config.memory);
    const room = Math.max(0, Math.min(this.concurrency - here, memoryRoom(freemem(), here, budget)));
    const movable = waiting.slice(room).flatMap((t) => {
      const confined = sandboxed(t.agent);
      return confined === null ? [] : [{ id: t.id, sandboxed: confined }];
    });
    if (!movable.length) return;
    const taken = new Map<string, number>();
    for (const t of [...active, ...registry.listTasks(['queued'])]) if (t.host !== null) taken.set(t.host, (taken.get(t.host) ?? 0) + 1);
    // A host that did not answer at the last pass, or does not say what room it has, takes nothing new.
    const free: Record<string, HostRoom> = {};
    await Promise.all(
      Object.entries(config.hosts).map(async ([name, h]) => {
        const holding = taken.get(name) ?? 0;
        const seen = this.monitor.hostDownSince(name) == null && h.slots > holding ? await this.runners.for({ host: name }).room?.().catch(() => null) : null;
        free[name] = seen ? { slots: hostRoom(h.slots, holding, seen.freeBytes, budget), sandbox: seen.sandbox } : { slots: 0, sandbox: false };
      }),
    );
    // In the config's order, so ties go to the host named first.
    const ordered = Object.fromEntries(Object.keys(config.hosts).map((name) => [name, free[name]!]));
    for (const { id, host } of overflow(movable, ordered)) {
      registry.transition(id, 'queued', 'queued', { event: 'placed', data: { host, why: `no room on this machine (${here} of ${this.concurrency} running)` }, patch: { host } });
    }
  }

  /** Tasks pinned to a host start there while it has free slots; launched side by side (a start is mostly ssh waits). */
  private async admitOnHosts(): Promise<void> {
    const { registry, config } = this.project;
    if (this.stopping || Object.keys(config.hosts).length + Object.keys(config.kubernetes).length === 0) return;
    const runnable = new Set(this.monitor.runnable());
    const queued = registry.listTasks(['queued']).filter((t): t is typeof t & { host: string } => t.host !== null && runnable.has(t.id)).map((t) => ({ id: t.id, host: t.host }));
    if (!queued.length) return;
    const activeByHost = new Map<string, number>();
    for (const t of registry.listTasks(ACTIVE_STATES)) if (t.host !== null) activeByHost.set(t.host, (activeByHost.get(t.host) ?? 0) + 1);
    const slots = Object.fromEntries([...Object.entries(config.hosts), ...Object.entries(config.kubernetes)].map(([name, h]) => [name, h.slots]));
    const { start } = hostStarts(queued, activeByHost, slots);
    await Promise.all(start.map((id) => launch(this.launcherDeps, id)));
  }

  private wakeIn(ms: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.kick();
    }, ms);
  }

  /** Re-attaches to every live session so an exit is acted on at once, not at the next tick. */
  private async watchSessions(): Promise<void> {
    const open = this.project.registry.openSessions();
    const wanted = new Set(open.map((a) => a.session_id));
    for (const [id, connection] of this.watchers) {
      if (!wanted.has(id)) {
        connection.close();
        this.watchers.delete(id);
      }
    }
    for (const attempt of open) {
      if (this.watchers.has(attempt.session_id)) continue;
      const task = this.project.registry.getTask(attempt.task_id);
      if (!task) continue;
      try {
        const connection = await this.runners.for(task).connect(attempt.session_dir, {
          onMessage: (message) => {
            if (message.t === 'output') this.api?.live.output(attempt.task_id, message.data);
            else if (message.t === 'exit') this.kick();
          },
        });
        this.watchers.set(attempt.session_id, connection);
        void connection.closed.then(() => {
          this.watchers.delete(attempt.session_id);
          this.kick();
        });
      } catch {
        // The holder is gone (or not up yet, or its host is unreachable): the next tick looks again.
      }
    }
  }

  private async listen(): Promise<number> {
    this.api = await serveApi(this.project, this.token, {
      kick: () => this.kick(),
      stop: () => void this.stop(),
      status: () => this.status(),
    });
    return this.api.port;
  }

  status(): Status {
    const { registry, config } = this.project;
    const counts = registry.stateCounts();
    return {
      active: ACTIVE_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0),
      admission: this.admission,
      hosts: Object.entries(config.hosts).map(([name, host]) => {
        const mine = registry.listTasks([...ACTIVE_STATES, 'queued']).filter((t) => t.host === name);
        return { name, ssh: host.ssh, active: mine.filter((t) => t.state !== 'queued').length, queued: mine.filter((t) => t.state === 'queued').length, slots: host.slots, unreachable_since: this.monitor?.hostDownSince(name) ?? null };
      }),
      // A cluster's own capacity decides: its queued tasks say what they wait for, in the scheduler's words.
      clusters: Object.entries(config.kubernetes).map(([name, cluster]) => {
        const mine = registry.listTasks([...ACTIVE_STATES, 'queued']).filter((t) => t.host === name);
        const queued = mine.filter((t) => t.state === 'queued');
        return { name, active: mine.length - queued.length, queued: queued.length, slots: cluster.slots, waiting: queued.filter((t) => t.reason).map((t) => ({ task: t.id, why: t.reason! })) };
      }),
      queued: counts.queued ?? 0,
      memory: { daemon_rss: process.memoryUsage.rss(), free: freemem(), total: totalmem() },
      agents: Object.keys(config.agents),
      kinds: Object.keys(config.kinds),
      web: this.api?.web() ?? { streams: 0, terminals: 0, stream_bytes: 0, terminal_bytes: 0, terminal_screens: 0 },
      dashboard: { url: this.api ? `http://127.0.0.1:${this.api.port}/` : null, public_url: config.dashboard.public_url ?? null, signin: 'swarm dashboard (a one-time sign-in link; --public for the public address)' },
      pid: process.pid,
      service: process.env.SWARM_SERVICE ?? null,
      started_at: this.startedAt,
      version: VERSION,
      concurrency: this.concurrency,
      forge: this.forge.name,
      forge_health: this.forge.status?.() ?? null,
      ticks: this.ticks,
      last_tick_at: this.lastTickAt,
      last_tick_ms: this.lastTickMs,
      slowest_tick_ms: this.slowestTickMs,
      slowest_monitor_ms: this.slowestMonitorMs,
      sessions_watched: this.watchers.size,
      notifications_pending: this.project.registry.notifications().filter((n) => n.status === 'pending').length,
    };
  }

  /** Graceful: finishes the current pass, leaves agents running in their holders, releases the lock. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    await Promise.all(this.remotes.map((r) => r.stop()));
    for (const task of this.crons) await task.destroy();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.poolTimer) clearInterval(this.poolTimer);
    await this.loopRunning;
    await this.pool.stop();
    this.spares.stop();
    this.runners.close();
    // In-flight notifications get a moment; a hung channel never holds a stop (unsent rows go out next start).
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.notifier.idle(), new Promise<void>((resolve) => (grace = setTimeout(resolve, 2_000)))]);
    clearTimeout(grace);
    for (const connection of this.watchers.values()) connection.close();
    this.watchers.clear();
    await this.api?.close();
    removeDaemonInfo(this.project.paths.daemonInfo, process.pid);
    this.lock?.release();
    this.project.registry.close();
    this.options.log.info('daemon stopped');
    this.stopResolve();
  }
}
