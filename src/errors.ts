/** Every error a user can see: a stable code, a message that says what to do, and one exit code. */
export class SwarmError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.name = 'SwarmError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Exit codes, documented in docs/commands.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  notFound: 4,
  conflict: 5,
  daemon: 6,
  agent: 7,
  git: 8,
  /** .swarm/ state that cannot be trusted (a vanished, emptied or corrupt database). */
  state: 9,
  /** A host in the config cannot be reached or lacks what swarm needs there. */
  host: 10,
  internal: 70,
} as const;

export class NotAGitRepoError extends SwarmError {
  constructor(dir: string) {
    super('SWARM_NOT_A_GIT_REPO', `${dir} is not inside a git repository. Run swarm from your repository (or \`git init\` one first).`, ExitCode.git);
  }
}

export class ConfigError extends SwarmError {
  constructor(message: string) {
    super('SWARM_CONFIG_INVALID', message, ExitCode.config);
  }
}

export class UsageError extends SwarmError {
  constructor(message: string) {
    super('SWARM_USAGE', message, ExitCode.usage);
  }
}

export class TaskNotFoundError extends SwarmError {
  constructor(id: number) {
    super('SWARM_TASK_NOT_FOUND', `No task ${id}. Run \`swarm ls\` to see the tasks.`, ExitCode.notFound);
  }
}

export class InvalidStateError extends SwarmError {
  constructor(message: string) {
    super('SWARM_INVALID_STATE', message, ExitCode.conflict);
  }
}

/** "Not ready to merge", however it was found (the task's state, or a branch that moved after it was verified): one exit code. */
export class NotReadyError extends SwarmError {
  constructor(message: string) {
    super('SWARM_NOT_READY', message, ExitCode.conflict);
  }
}

export class GitError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.git);
  }
}

export class AgentError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.agent);
  }
}

export class DaemonError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.daemon);
  }
}

export class StateError extends SwarmError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.state);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The sandbox cannot be set up (bubblewrap missing, a confined command that cannot start). */
export class SandboxError extends SwarmError {
  constructor(message: string) {
    super('SWARM_SANDBOX', message, ExitCode.agent);
  }
}
