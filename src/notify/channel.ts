export interface Notification {
  key: string;
  task_id: number;
  event: string;
  title: string;
  body: string;
  click_url: string | null;
  /** Files to send with it (paths). */
  attachments?: string[];
}

/** One way to reach the human. A channel throws on failure; the outbox retries and logs, never crashes. */
export interface NotifyChannel {
  readonly name: string;
  send(notification: Notification): Promise<void>;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs = 10_000): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new Error(`HTTP ${response.status} from ${new URL(url).origin}: ${text.slice(0, 200)}`);
  }
  await response.arrayBuffer();
}
