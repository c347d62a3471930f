import { request as httpRequest } from 'node:http';
import * as z from 'zod';
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

  /**
   * node:http with one connection closed after the answer, not fetch: loading fetch's client (undici) cost a
   * short CLI run ~35 ms, and its pooled keep-alive socket held the process open ~150 ms after the last byte.
   */
  private request(method: 'GET' | 'POST', path: string, timeoutMs = 3_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.info.port, path, method, agent: false, headers: { authorization: `Bearer ${this.info.token}`, connection: 'close', 'content-length': 0 }, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          if (status >= 200 && status < 300 && body !== undefined) return resolve(body);
          const said = z.object({ error: z.string() }).safeParse(body).data?.error;
          reject(new Error(said ? `the daemon said: ${said}` : `daemon answered HTTP ${status}`));
        });
      });
      req.on('error', reject);
      req.end();
    });
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
