import { ProviderError } from '@maxai/core';

export interface SdkRetryOptions {
  /** Retries after the first attempt, for `transient` and `rate_limited` failures only. */
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  /** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
  maxRetryAfterMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * The retry policy of `ProviderHttp`, for adapters built on an official SDK (Stripe, OpenAI):
 * the SDK's own retries are off, and `call` is retried here — only for `transient` and
 * `rate_limited`, with exponential backoff and full jitter, honouring `retryAfterMs` up to a cap.
 * `call` must be safe to repeat (an idempotency key on every POST) and throw `ProviderError`.
 */
export async function withSdkRetries<T>(
  call: () => Promise<T>,
  options: SdkRetryOptions = {},
): Promise<T> {
  const maxRetries = options.maxRetries ?? 2;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable || attempt >= maxRetries) {
        throw error;
      }
      const cap = options.maxRetryAfterMs ?? 30_000;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > cap) throw error;
      const base = options.retryBaseMs ?? 200;
      await sleep(error.retryAfterMs ?? Math.random() * Math.min(cap, base * 2 ** attempt));
    }
  }
}

/** Removes every occurrence of the secrets from a provider's message (defence in depth). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
