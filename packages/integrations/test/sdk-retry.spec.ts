import { ProviderError } from '@maxai/core';
import { redactSecrets, withSdkRetries } from '../src/sdk-retry';
import { describe, expect, it } from 'vitest';

const failure = (kind: ProviderError['kind'], retryAfterMs?: number) =>
  new ProviderError({ kind, provider: 'stripe', message: kind, retryAfterMs });

describe('withSdkRetries', () => {
  it('retries retryable failures with the real clock, then answers', async () => {
    let calls = 0;
    const result = await withSdkRetries(
      () => {
        calls += 1;
        if (calls === 1) return Promise.reject(failure('rate_limited', 1));
        if (calls === 2) return Promise.reject(failure('transient'));
        return Promise.resolve('done');
      },
      { retryBaseMs: 1 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('does not retry other failures, other errors, or a Retry-After over the cap', async () => {
    for (const error of [failure('auth'), new Error('boom'), failure('rate_limited', 60_000)]) {
      let calls = 0;
      await expect(
        withSdkRetries(() => {
          calls += 1;
          return Promise.reject(error);
        }),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });
});

describe('redactSecrets', () => {
  it('removes every occurrence of secrets long enough to matter', () => {
    expect(redactSecrets('key sk_abc and sk_abc, x', ['sk_abc', 'x'])).toBe(
      'key [redacted] and [redacted], x',
    );
  });
});
