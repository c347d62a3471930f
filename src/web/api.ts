/** The dashboard's side of the API: JSON calls (errors in the server's words) and the live board stream. */
import type { Card, LiveEvent, Status, TaskPage } from '../api/schemas.js';

export type { Card, Status, TaskPage };

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!response.ok) {
    const message = parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return parsed as T;
}

export const action = (id: number, verb: 'retry' | 'kill' | 'merge' | 'approve', body: unknown = {}) => call<unknown>('POST', `/api/v1/tasks/${id}/${verb}`, body);

export interface Board {
  cards: Map<number, Card>;
  status: Status | null;
  connected: boolean;
}

/** Subscribes to /api/v1/events; the browser's EventSource reconnects by itself (a snapshot comes first each time). */
export function subscribe(onChange: (board: Board) => void): () => void {
  const board: Board = { cards: new Map(), status: null, connected: false };
  const source = new EventSource('/api/v1/events');
  const emit = (): void => onChange({ cards: board.cards, status: board.status, connected: board.connected });
  source.onopen = () => {
    board.connected = true;
    emit();
  };
  source.onerror = () => {
    board.connected = false;
    emit();
  };
  source.onmessage = (message: MessageEvent<string>) => {
    const event = JSON.parse(message.data) as LiveEvent;
    if (event.type === 'snapshot') board.cards = new Map(event.cards.map((c) => [c.id, c]));
    else if (event.type === 'card') board.cards = new Map(board.cards).set(event.card.id, event.card);
    else if (event.type === 'line') {
      const card = board.cards.get(event.id);
      if (card) board.cards = new Map(board.cards).set(event.id, { ...card, last_line: event.line });
    } else board.status = event.status;
    board.connected = true;
    emit();
  };
  return () => source.close();
}

export function elapsed(card: Pick<Card, 'started_at' | 'created_at' | 'ended_at'>, now: number): string {
  const from = card.started_at ?? card.created_at;
  const ms = Math.max(0, (card.ended_at ?? now) - from);
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${String(m % 60).padStart(2, '0')}m` : `${Math.floor(h / 24)}d`;
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}
