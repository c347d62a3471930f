import { z } from 'zod';
import type { StatePaths } from '../config/project.js';
import { DaemonStatus, readDaemonInfo, type DaemonInfo } from './info.js';

/** The CLI side of the local API. Every call is best effort: the registry is the source of truth. */
export class DaemonClient {
  constructor(private readonly info: DaemonInfo) {}

  static find(paths: StatePaths): DaemonClient | null {
    const info = readDaemonInfo(paths.daemonInfo);
    return info ? new DaemonClient(info) : null;
  }

  get pid(): number {
    return this.info.pid;
  }

  private async request(method: 'GET' | 'POST', path: string, timeoutMs = 3_000): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.info.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.info.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`daemon answered HTTP ${response.status}`);
    return response.json();
  }

  async status(): Promise<DaemonStatus | null> {
    try {
      return DaemonStatus.parse(await this.request('GET', '/api/v1/status'));
    } catch {
      return null;
    }
  }

  async nudge(): Promise<boolean> {
    try {
      await this.request('POST', '/api/v1/nudge');
      return true;
    } catch {
      return false;
    }
  }

  /** A one-time dashboard link; throws with the daemon's words when it cannot. */
  async ticket(): Promise<{ ticket: string; url: string }> {
    const body = await this.request('POST', '/api/v1/dashboard/ticket');
    return z.object({ ticket: z.string(), url: z.string() }).parse(body);
  }

  get port(): number {
    return this.info.port;
  }

  async stop(): Promise<boolean> {
    try {
      await this.request('POST', '/api/v1/stop');
      return true;
    } catch {
      return false;
    }
  }
}
