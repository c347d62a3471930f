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
      return DaemonStatus.parse(await this.request('GET', '/v1/status'));
    } catch {
      return null;
    }
  }

  async nudge(): Promise<boolean> {
    try {
      await this.request('POST', '/v1/nudge');
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<boolean> {
    try {
      await this.request('POST', '/v1/stop');
      return true;
    } catch {
      return false;
    }
  }
}
