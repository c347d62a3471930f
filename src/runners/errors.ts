/** What a runner throws that the monitor treats as transient trouble (no retry spent): shared by every runner elsewhere. */
import { SwarmError } from '../errors.js';

/** The place a task runs (a host over ssh, a cluster's API) cannot be reached now: its tasks wait for it. */
export class HostUnreachableError extends SwarmError {
  constructor(readonly host: string, message: string) {
    super('SWARM_HOST_UNREACHABLE', message);
  }
}
