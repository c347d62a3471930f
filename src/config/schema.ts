import * as z from 'zod';
import { Severity } from '../review/findings.js';

/** An argument vector: never a shell string. */
export const Argv = z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least the program name');

export const AgentConfig = z.strictObject({
  /** Adapter that turns a prompt into a launch: `custom` here; the CLI adapters add their own. */
  type: z.string().min(1).default('custom'),
  /** For `custom`: the argument vector; `{prompt_file}`, `{prompt}`, `{worktree}`, `{task_id}`, `{model}` are substituted per element. */
  command: Argv.optional(),
  model: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).default({}),
  timeout_minutes: z.number().positive().optional(),
  /** Extra arguments appended to the adapter's own. */
  args: z.array(z.string()).default([]),
  /** Resume the CLI's own session on a respawn (claude, codex, gemini, opencode); default: a fresh agent. */
  resume: z.boolean().default(false),
  /** Confine this agent: "bwrap" (bubblewrap, Linux) or "none"; default: the top-level "sandbox". */
  sandbox: z.enum(['none', 'bwrap']).optional(),
  /** Names (or prefixes ending in *) of the daemon's environment variables this agent also gets, beyond its provider's. */
  pass_env: z.array(z.string().min(1)).default([]),
  /** Sandboxed network: "open", or "endpoints" (only its CLI's API, its model server and network_allow); default: the top-level "sandbox_network". */
  network: z.enum(['open', 'endpoints']).optional(),
  /** More endpoints a sandboxed agent limited to its endpoints may reach: "host:port", "*.domain:port", or a URL. */
  network_allow: z.array(z.string().min(1)).default([]),
  /** The host (a name under "hosts") this agent's tasks run on unless spawned with --host or a kind's host. */
  runs_on: z.string().min(1).optional(),
  // The built-in agent (type "builtin"):
  /** Ollama host; default OLLAMA_HOST or http://127.0.0.1:11434. */
  host: z.string().min(1).optional(),
  /** An OpenAI-compatible endpoint instead of Ollama (vLLM, llama.cpp server, LM Studio), e.g. http://127.0.0.1:8000/v1. */
  openai_base_url: z.url().optional(),
  /** Environment variable holding the OpenAI-compatible endpoint's key, if it wants one. */
  api_key_env: z.string().min(1).optional(),
  /** Context window asked of Ollama; below 32k Ollama truncates silently and edits fall apart. */
  num_ctx: z.number().int().min(2048).default(32_768),
  max_steps: z.number().int().positive().default(40),
  token_budget: z.number().int().positive().default(400_000),
  bash_timeout_seconds: z.number().int().positive().default(120),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** One shared dependency install (see workspace/deps.ts). */
export const DepsSpec = z.strictObject({
  /** The install, run in the checkout (confined for a sandboxed task), e.g. ["npm", "ci"]. */
  command: Argv,
  /** Files whose content decides what gets installed, e.g. ["package-lock.json"]; none present: installs every time. */
  lockfiles: z.array(z.string().min(1)).min(1),
  /** What the install fills, relative to the checkout, e.g. ["node_modules"]. */
  paths: z.array(z.string().min(1)).min(1),
});
export type DepsSpec = z.infer<typeof DepsSpec>;

export const NtfyConfig = z.strictObject({
  server: z.url().default('https://ntfy.sh'),
  topic: z.string().min(1),
  /** Name of the environment variable that holds the access token; never the token itself. */
  token_env: z.string().min(1).optional(),
  click_url: z.string().optional(),
  priority: z.number().int().min(1).max(5).optional(),
});

export const WebhookConfig = z.strictObject({
  url: z.url(),
  /** Name of the environment variable that holds a bearer token, if the receiver wants one. */
  token_env: z.string().min(1).optional(),
});

/** A Telegram bot (docs/notifications.md): sends every notification, and takes buttons and commands back by long polling. */
export const TelegramConfig = z.strictObject({
  /** Name of the environment variable that holds the bot token (from @BotFather); never the token itself. */
  token_env: z.string().min(1).default('TELEGRAM_BOT_TOKEN'),
  /** The chats swarm writes to and obeys (your chat id with the bot, or a group's); anything else is ignored and logged. */
  chats: z.array(z.number().int()).min(1, 'name at least one chat id (send /start to your bot, then see docs/notifications.md)'),
  /** The Bot API's address (a local Bot API server, or a test's stand-in). */
  api_url: z.url().default('https://api.telegram.org'),
  /** How long one getUpdates long poll waits for news (seconds). */
  poll_seconds: z.number().int().min(0).max(50).default(25),
});
export type TelegramConfig = z.infer<typeof TelegramConfig>;

/**
 * Slack (docs/notifications.md): one-way through an incoming webhook, or two-way as a Slack app over Socket
 * Mode (no public URL: the daemon dials out), with the same buttons and commands as Telegram.
 */
export const SlackConfig = z
  .strictObject({
    /** One-way: the environment variable that holds an incoming webhook's URL (the URL is the secret). */
    webhook_url_env: z.string().min(1).optional(),
    /** Two-way: the channels swarm posts to and obeys, by ID (C0123ABCD, not #name). */
    channels: z.array(z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'a channel ID like C0123ABCD (channel details > About, at the bottom), not its #name')).default([]),
    /** Two-way: when set, only these people (user IDs like U0123ABCD) are obeyed in those channels. */
    users: z.array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a user ID like U0123ABCD (profile > ⋮ > Copy member ID)')).min(1).optional(),
    /** The environment variable holding the bot token (xoxb-…), for posting. */
    bot_token_env: z.string().min(1).default('SLACK_BOT_TOKEN'),
    /** The environment variable holding the app-level token (xapp-…, connections:write), for Socket Mode. */
    app_token_env: z.string().min(1).default('SLACK_APP_TOKEN'),
    /** The Web API's address (a test's stand-in). */
    api_url: z.url().default('https://slack.com/api/'),
  })
  .refine((s) => (s.webhook_url_env === undefined) !== (s.channels.length === 0), {
    message: 'notify.slack is either one-way (webhook_url_env) or a two-way app (channels, with bot and app tokens), not both or neither: see docs/notifications.md',
  });
export type SlackConfig = z.infer<typeof SlackConfig>;

export const NotifyConfig = z.strictObject({
  desktop: z.boolean().default(true),
  ntfy: NtfyConfig.optional(),
  webhook: WebhookConfig.optional(),
  telegram: TelegramConfig.optional(),
  slack: SlackConfig.optional(),
  /** Attempts per notification before it is given up (logged, never fatal). */
  max_attempts: z.number().int().positive().default(8),
});

/** A Kubernetes cluster that runs tasks as pods (docs/kubernetes.md): the cluster places, isolates and limits them. */
export const KubernetesConfig = z.strictObject({
  /** A kubeconfig file; default: as kubectl finds it (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  /** Default: the context's namespace. */
  namespace: z.string().min(1).optional(),
  /** The agent image: node, git, swarm and the coding CLIs (docs/kubernetes.md has a reference Dockerfile). Not needed with a SandboxTemplate of your own. */
  image: z.string().min(1).optional(),
  /** How swarm is run in the image. */
  swarm: Argv.default(['swarm']),
  /** The Secret holding the forge token the pod clones and pushes with (never the token itself). */
  token_secret: z.strictObject({ name: z.string().min(1), key: z.string().min(1).default('token') }),
  /** gVisor, Kata...: the pod's RuntimeClass. */
  runtime_class: z.string().min(1).optional(),
  resources: z.strictObject({ requests: z.record(z.string(), z.string()).optional(), limits: z.record(z.string(), z.string()).optional() }).optional(),
  /** Tasks running on the cluster at once, at most (the cluster's own capacity decides the rest). */
  slots: z.number().int().positive().default(4),
  /** Where the agent-sandbox CRDs are installed, a task claims a Sandbox of a SandboxTemplate instead of getting a plain pod. */
  sandbox: z
    .strictObject({
      /** A SandboxTemplate of yours in the namespace (its pod, NetworkPolicy, warm pools are yours); default: swarm writes `swarm-<cluster>` from this config. */
      template: z.string().min(1).optional(),
      /** With swarm's template: sandboxes kept started for claims to adopt (a SandboxWarmPool); 0: none. */
      warm_pool: z.number().int().min(0).default(0),
      /** A task waiting on a human (ready, needs help) has its sandbox scaled to zero; a retry wakes it. */
      rest_while_waiting: z.boolean().default(true),
    })
    .default({ warm_pool: 0, rest_while_waiting: true }),
}).refine((c) => c.image !== undefined || c.sandbox.template !== undefined, { message: 'a cluster needs an "image" for its pods (or a "sandbox.template" of yours that names one)', path: ['image'] });
export type KubernetesConfig = z.infer<typeof KubernetesConfig>;

/** Another machine of the user's that runs tasks over SSH (the system's OpenSSH: ~/.ssh/config, the agent, ProxyJump work as they do). */
export const HostConfig = z.strictObject({
  /** What you would type after \`ssh\`: \`me@box\`, or a Host alias from your ssh config. */
  ssh: z.string().min(1).regex(/^[^\s-][^\s]*$/, 'an ssh destination (user@host or a Host alias), no spaces, not starting with -'),
  /** Where swarm keeps its mirror, checkouts and sessions on the host. \`~/\` is the host's home. */
  dir: z.string().min(1).default('~/swarm'),
  /** Tasks the host runs at once, at most (its free memory is checked too). */
  slots: z.number().int().positive().default(4),
  /** How swarm is run there (default: \`swarm\` on the host's PATH). */
  swarm: Argv.default(['swarm']),
  /** An ssh config file for this host (passed as \`ssh -F\`); default: your usual ~/.ssh/config. */
  ssh_config: z.string().min(1).optional(),
  /** A host silent this long is gone: its running tasks are placed again here, from what was fetched so far. */
  gone_minutes: z.number().positive().default(30),
});
export type HostConfig = z.infer<typeof HostConfig>;
export type HostConfigInput = z.input<typeof HostConfig>;

export const SwarmConfig = z.strictObject({
  $schema: z.string().optional(),
  /** Branch that tasks start from and merge into. */
  base: z.string().min(1).default('main'),
  forge: z.enum(['local', 'github']).default('local'),
  default_agent: z.string().min(1).optional(),
  /** Default confinement for agents: "bwrap" (bubblewrap) or "none" (the agent can reach what you can); absent: bubblewrap wherever it works. */
  sandbox: z.enum(['none', 'bwrap']).optional(),
  /** A sandboxed agent's network: "endpoints" (only its model API, its package registries, network_allow) or "open" (the machine's). */
  sandbox_network: z.enum(['open', 'endpoints']).default('endpoints'),
  /** Package registries a sandboxed agent and its CI may reach: "auto" (those the repository's files name) or names: npm, yarn, pypi, crates, go, rubygems, maven. */
  sandbox_registries: z.union([z.literal('auto'), z.array(z.enum(['npm', 'yarn', 'pypi', 'crates', 'go', 'rubygems', 'maven']))]).default('auto'),
  /** More of your home a sandboxed agent, its CI and its reviewers may read, relative to it (the home is hidden but toolchains). */
  sandbox_home_read: z.array(z.string().min(1)).default([]),
  /** Files of your home copied into every sandboxed agent's fresh home (besides its CLI's login and settings), relative to it. */
  sandbox_home_copy: z.array(z.string().min(1)).default([]),
  /** Task kinds (bugfix, docs, review, ...): which agent and model take them, and the role prompt they get. */
  kinds: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'kind names are letters, digits, - and _'),
      z.strictObject({
        agent: z.string().min(1).optional(),
        model: z.string().min(1).optional(),
        prompt: z.string().optional(),
        /** Tasks of this kind run on this host unless spawned with another --host. */
        host: z.string().min(1).optional(),
        /** `swarm spawn --fanout` for this kind tries these candidates ("agent" or "agent:model"). */
        fanout: z.array(z.string().min(1)).min(2).optional(),
      }),
    )
    .default({}),
  agents: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'agent names are letters, digits, - and _'), AgentConfig).default({}),
  ci: z
    .strictObject({
      command: Argv.optional(),
      timeout_minutes: z.number().positive().default(30),
      /** Report files the CI writes (JUnit XML, jest/vitest JSON), globs relative to the worktree: read before the log. */
      reports: z.array(z.string().min(1)).default([]),
      /** Variables the CI gets; it never inherits the daemon's tokens. */
      env: z.record(z.string(), z.string()).default({}),
      /** Names (or prefixes ending in *) of the daemon's environment variables the CI also gets (e.g. DATABASE_URL). */
      pass_env: z.array(z.string().min(1)).default([]),
      /** A sandboxed task's CI reaches its package registries and these ("host:port", "*.domain:port", URLs; loopback ports are forwarded). */
      network_allow: z.array(z.string().min(1)).default([]),
      /** Ask runners that can be told through the environment (pytest: PYTEST_ADDOPTS) for a JUnit report of swarm's own. */
      auto_reports: z.boolean().default(true),
    })
    .default({ timeout_minutes: 30, reports: [], env: {}, pass_env: [], network_allow: [], auto_reports: true }),
  /** The definition of done's AI review: reviewers run after CI is green and the branch merges cleanly. */
  review: z
    .strictObject({
      /** Each reviewer is a configured agent (a different model per reviewer is the point) with a focus. */
      reviewers: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'reviewer names are letters, digits, - and _'),
            agent: z.string().min(1),
            model: z.string().min(1).optional(),
            /** "logic", "security", "architecture", or a prompt of your own. */
            focus: z.string().min(1),
          }),
        )
        .default([]),
      /** "all", or at least this many approvals. */
      required: z.union([z.literal('all'), z.number().int().positive()]).default('all'),
      /** Findings of these severities send the task back to its agent. */
      block_on: z.array(Severity).default(['critical', 'major']),
      /** The diff given to a reviewer is cut past this many characters (saying so). */
      max_diff_chars: z.number().int().positive().default(60_000),
      /** A reviewer still running after this is stopped; its review has failed. */
      timeout_minutes: z.number().positive().default(20),
      /** How many times a reviewer that timed out is started again (each waits timeout_minutes more). */
      timeout_retries: z.number().int().nonnegative().default(0),
    })
    .default({ reviewers: [], required: 'all', block_on: ['critical', 'major'], max_diff_chars: 60_000, timeout_minutes: 20, timeout_retries: 0 }),
  /** The rest of the definition of done: screenshots for UI changes. */
  dod: z
    .strictObject({
      screenshots: z
        .strictObject({
          /** Globs of UI paths (relative to the repository): a diff touching one needs screenshots. */
          paths: z.array(z.string().min(1)).default([]),
          /** Where screenshots are, in the task's checkout (committed by the agent, or written by `command`). */
          dir: z.string().min(1).default('screenshots'),
          /** Takes them in the checkout (e.g. a Playwright script); SWARM_SCREENSHOT_DIR says where. Without it, the agent commits them. */
          command: Argv.optional(),
          timeout_seconds: z.number().int().positive().default(300),
        })
        .default({ paths: [], dir: 'screenshots', timeout_seconds: 300 }),
    })
    .default({ screenshots: { paths: [], dir: 'screenshots', timeout_seconds: 300 } }),
  /** How much evidence of a failed attempt goes into the next prompt. */
  evidence: z
    .strictObject({
      max_lines: z.number().int().min(5).default(40),
      max_chars: z.number().int().min(200).default(4000),
    })
    .default({ max_lines: 40, max_chars: 4000 }),
  /** Agents running at once; default from free memory at about 3 GB per agent, at least 1. */
  concurrency: z.number().int().positive().optional(),
  stagger_ms: z.number().int().nonnegative().default(1500),
  /** Admission watches the memory actually free: a new agent starts only if this much fits (one always may when none runs). */
  memory: z
    .strictObject({
      /** What one more agent is expected to need, in MB (3–4 GB on a JS/TS project). */
      agent_mb: z.number().int().positive().default(3072),
      /** Kept free for everything else, in MB. */
      reserve_mb: z.number().int().nonnegative().default(1024),
    })
    .default({ agent_mb: 3072, reserve_mb: 1024 }),
  max_retries: z.number().int().nonnegative().default(3),
  /** Fan-outs (docs/fanout.md): one task tried by several candidates, the best chosen by a deterministic ranking. */
  fanout: z
    .strictObject({
      /** The candidates `--fanout N` tries when neither --agents nor the kind names them ("agent" or "agent:model"). */
      agents: z.array(z.string().min(1)).default([]),
      /** Decide this long after the first candidate is ready, without waiting for the slowest (default: wait for all). */
      deadline_minutes: z.number().positive().optional(),
    })
    .default({ agents: [] }),
  /** A session's transcript is rotated past this size (one older part kept): at most twice this on disk per session. */
  transcript_max_mb: z.number().positive().default(64),
  /** No terminal output for this long means stuck: killed and respawned. */
  stuck_minutes: z.number().positive().default(15),
  /** How failed attempts are spaced (see "Failures told apart" in docs/agents.md). */
  backoff: z
    .strictObject({
      /** A crashed agent's respawn waits this, doubling with each retry. */
      crash_seconds: z.number().nonnegative().default(5),
      /** Transient trouble (rate limit, overload, 5xx, network): the first wait, doubling each time. */
      transient_seconds: z.number().nonnegative().default(30),
      /** No single wait is longer than this. */
      max_seconds: z.number().positive().default(600),
      /** After this much waiting on transient trouble, the task needs a human. */
      transient_give_up_minutes: z.number().positive().default(60),
      /** An agent that prints only reconnect/retry lines for this long is killed and waited out as transient trouble. */
      reconnect_minutes: z.number().positive().default(5),
    })
    .default({ crash_seconds: 5, transient_seconds: 30, max_seconds: 600, transient_give_up_minutes: 60, reconnect_minutes: 5 }),
  monitor: z
    .strictObject({
      /** node-cron expression (5 fields, or 6 with seconds). */
      schedule: z.string().min(1).default('* * * * *'),
    })
    .default({ schedule: '* * * * *' }),
  cleanup: z
    .strictObject({
      /** node-cron expression for removing worktrees of done and cancelled tasks; null turns it off. */
      schedule: z.string().min(1).nullable().default('17 * * * *'),
    })
    .default({ schedule: '17 * * * *' }),
  worktree: z
    .strictObject({
      /** Where task worktrees live; default outside the repository, under the user's data dir. */
      dir: z.string().min(1).optional(),
      /** Untracked files copied from the main checkout into each worktree (e.g. .env). */
      copy: z.array(z.string().min(1)).default([]),
      /** Commands run in each new worktree before the agent starts. */
      setup: z.array(Argv).default([]),
      setup_timeout_minutes: z.number().positive().default(10),
      /**
       * Dependency installs shared between checkouts, keyed by lockfile and runtime (see workspace/deps.ts):
       * e.g. [{ "command": ["npm", "ci"], "lockfiles": ["package-lock.json"], "paths": ["node_modules"] }]. Run before `setup`.
       */
      deps: z.array(DepsSpec).default([]),
      /** Warm worktrees kept at base's tip so a spawn starts without checking out every file; 0 turns it off. */
      pool: z.number().int().min(0).max(32).default(2),
    })
    .default({ copy: [], setup: [], setup_timeout_minutes: 10, pool: 2, deps: [] }),
  notify: NotifyConfig.default({ desktop: true, max_attempts: 8 }),
  orchestrator: z
    .strictObject({
      /** The planning model; without it, `swarm spawn` sends the text to one agent as it is. */
      model: z.string().min(1).optional(),
      host: z.string().min(1).optional(),
      openai_base_url: z.url().optional(),
      api_key_env: z.string().min(1).optional(),
      num_ctx: z.number().int().min(2048).default(32_768),
      /** Markdown notes: meetings, customer requests, decisions, rules, what failed before. */
      context_dir: z.string().min(1).default('.swarm/context'),
      /** Tokens of business context given to the planner, and to each task's prompt. */
      plan_context_tokens: z.number().int().positive().default(3_000),
      task_context_tokens: z.number().int().positive().default(1_200),
      max_plan_attempts: z.number().int().min(1).max(10).default(3),
      /** Let the orchestrator rewrite a respawn's prompt with the evidence and the business context. */
      rewrite_on_retry: z.boolean().default(true),
      /** A dependent task starts when its dependencies are ready (branching from their work) or merged. */
      dependency_gate: z.enum(['ready', 'merged']).default('ready'),
      /** Outcome samples per agent and kind before routing prefers the agent with the better success rate. */
      min_samples: z.number().int().positive().default(5),
    })
    .default({ num_ctx: 32_768, context_dir: '.swarm/context', plan_context_tokens: 3_000, task_context_tokens: 1_200, max_plan_attempts: 3, rewrite_on_retry: true, dependency_gate: 'ready', min_samples: 5 }),
  discovery: z
    .strictObject({
      /** node-cron expression for the discovery sources; null turns discovery off. */
      schedule: z.string().min(1).nullable().default(null),
      /** Queue discovered tasks at once instead of waiting for `swarm approve`. */
      auto_approve: z.boolean().default(false),
      /** Propose a task for each new note in the context folder. */
      notes: z.boolean().default(false),
      /** Run CI on the base branch's head; if red, propose one fixer task per failing commit. */
      base_ci: z.boolean().default(false),
      /** Scripts that print proposed tasks as JSON: [{"title": ..., "prompt": ..., "kind"?: ..., "key"?: ...}]. */
      commands: z.array(z.strictObject({ name: z.string().min(1), command: Argv })).default([]),
    })
    .default({ schedule: null, auto_approve: false, notes: false, base_ci: false, commands: [] }),
  dashboard: z
    .strictObject({
      /** The address the daemon's API and dashboard listen on: loopback unless you name another (a tailnet address). */
      host: z.string().min(1).default('127.0.0.1'),
      /** 0: the port the last start used (so an open dashboard reconnects after a restart), else any free one. */
      port: z.number().int().min(0).max(65535).default(0),
      /** The dashboard's address as your phone reaches it (e.g. https://box.tailnet.ts.net:7777): notification clicks open the task page there. */
      public_url: z.url().optional(),
    })
    .default({ host: '127.0.0.1', port: 0 }),
  /** Your other machines that run tasks over SSH, by a name of your choosing (\`swarm hosts\` checks each). */
  hosts: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'host names are letters, digits, - and _').refine((n) => n !== 'local', 'the name "local" means this machine'), HostConfig).default({}),
  /** Clusters that run tasks as pods (`--host <name>`); names shared with hosts. */
  kubernetes: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'cluster names are letters, digits, - and _').refine((n) => n !== 'local', 'the name "local" means this machine'), KubernetesConfig).default({}),
  github: z
    .strictObject({
      /** The git remote whose URL names owner/repo, and that branches are pushed to. */
      remote: z.string().min(1).default('origin'),
      /** "OWNER/REPO" when the remote URL does not say it (a mirror, an unusual URL). */
      repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be OWNER/REPO').optional(),
      /** REST base URL (GitHub Enterprise: https://host/api/v3). GraphQL is <api_url>/graphql. */
      api_url: z.url().default('https://api.github.com'),
      /** Environment variable holding the token; `gh auth token` is asked when it is unset. */
      token_env: z.string().min(1).default('GITHUB_TOKEN'),
      /** Retries of a failed request (5xx, network) before the pass gives up and waits for the next. */
      retries: z.number().int().nonnegative().default(2),
      draft: z.boolean().default(false),
    })
    .default({ remote: 'origin', api_url: 'https://api.github.com', token_env: 'GITHUB_TOKEN', retries: 2, draft: false }),
});
export type SwarmConfig = z.infer<typeof SwarmConfig>;
export type SwarmConfigInput = z.input<typeof SwarmConfig>;
