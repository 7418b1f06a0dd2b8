import { backoffDelay } from '../queue/backoff';

export interface RetryOptions {
  maxDelayMs: number;
  baseDelayMs?: number;
  onRetry(error: unknown, attempt: number, delayMs: number): void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Calls `fn` until it succeeds, waiting a jittered, growing delay (capped) between attempts.
 * Used at start-up: a database that is not up yet is waited for, not crashed on.
 */
export async function retryUntilSuccess<T>(
  fn: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const delayMs = backoffDelay(attempt, options.baseDelayMs ?? 500, options.maxDelayMs);
      options.onRetry(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
