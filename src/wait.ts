/** Polls `check` until it returns a value (not undefined) or the timeout passes. One helper, used everywhere. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** One retry helper: exponential backoff with a cap, and a predicate for what is worth retrying. */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  options: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number; shouldRetry?: (err: unknown) => boolean },
): Promise<T> {
  let delay = options.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.maxAttempts || (options.shouldRetry && !options.shouldRetry(err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.maxDelayMs);
    }
  }
}

/** Delay before the next try of something that failed `attempts` times: 5s, 10s, 20s, ... capped. */
export function backoffMs(attempts: number, initialMs = 5_000, maxMs = 10 * 60_000): number {
  return Math.min(initialMs * 2 ** Math.max(0, attempts - 1), maxMs);
}
