/**
 * The live board: server-sent events to every open dashboard. A change to the registry (any process: daemon,
 * CLI) touches the SQLite write-ahead log, which fs.watch reports; the board is then recomputed and only the
 * cards that changed are sent. Output lines come from the daemon's session watchers, at most twice a second.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Project } from '../config/project.js';
import { boardCards } from './pages.js';
import type { LiveEvent, Status } from './schemas.js';
import { lastLine } from './views.js';

const LINE_FLUSH_MS = 500;
const REFRESH_DEBOUNCE_MS = 40;
const HEARTBEAT_MS = 15_000;

export class Live {
  private readonly clients = new Set<ServerResponse>();
  private readonly sent = new Map<number, string>();
  private readonly pendingLines = new Map<number, string>();
  readonly lines = new Map<number, string>();
  private watcher: FSWatcher | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private lineTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Bytes written to event streams since start (the benchmark's figure). */
  bytesSent = 0;

  constructor(private readonly project: Project, private readonly status: () => Status) {}

  start(): void {
    this.watcher = watch(this.project.paths.dir, (_event, file) => {
      if (file && file.startsWith('swarm.db')) this.scheduleRefresh();
    });
    this.watcher.on('error', () => undefined);
    // Memory, ticks and the forge budget change without a registry write: sent every heartbeat.
    this.heartbeat = setInterval(() => {
      if (this.clients.size) this.broadcast({ type: 'status', status: this.status() });
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  stop(): void {
    this.watcher?.close();
    for (const timer of [this.refreshTimer, this.lineTimer]) if (timer) clearTimeout(timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** A new stream: the whole board and the status first, then changes. */
  add(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    const cards = boardCards(this.project, this.lines);
    if (this.clients.size === 0) {
      this.sent.clear();
      for (const card of cards) this.sent.set(card.id, JSON.stringify(card));
    }
    this.clients.add(res);
    this.write(res, { type: 'snapshot', cards });
    this.write(res, { type: 'status', status: this.status() });
    res.on('close', () => this.clients.delete(res));
  }

  /** Output from a task's live session (the daemon watches every one). */
  output(taskId: number, data: string): void {
    const line = lastLine(data);
    if (line === null || this.lines.get(taskId) === line) return;
    this.lines.set(taskId, line);
    if (!this.clients.size) return;
    this.pendingLines.set(taskId, line);
    this.lineTimer ??= setTimeout(() => {
      this.lineTimer = null;
      for (const [id, text] of this.pendingLines) this.broadcast({ type: 'line', id, line: text });
      this.pendingLines.clear();
    }, LINE_FLUSH_MS);
  }

  scheduleRefresh(): void {
    if (!this.clients.size || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, REFRESH_DEBOUNCE_MS);
  }

  private refresh(): void {
    if (!this.clients.size) return;
    let cards;
    try {
      cards = boardCards(this.project, this.lines);
    } catch {
      return; // the database is being closed (daemon stopping)
    }
    let changed = false;
    for (const card of cards) {
      const text = JSON.stringify(card);
      if (this.sent.get(card.id) === text) continue;
      this.sent.set(card.id, text);
      this.broadcast({ type: 'card', card });
      changed = true;
    }
    // Running and queued counts follow the cards.
    if (changed) this.broadcast({ type: 'status', status: this.status() });
  }

  private broadcast(event: LiveEvent): void {
    for (const client of this.clients) this.write(client, event);
  }

  private write(res: ServerResponse, event: LiveEvent): void {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    this.bytesSent += Buffer.byteLength(frame);
    res.write(frame);
  }
}
