import { describe, expect, it } from 'vitest';
import { retryUntilSuccess } from './retry';

describe('retryUntilSuccess', () => {
  it('retries with growing, capped delays until the call succeeds', async () => {
    let calls = 0;
    const delays: number[] = [];
    const reported: number[] = [];
    const value = await retryUntilSuccess(
      async () => {
        calls += 1;
        if (calls < 5) throw new Error('ECONNREFUSED');
        return 'connected';
      },
      {
        maxDelayMs: 3000,
        baseDelayMs: 1000,
        onRetry: (_e, attempt) => reported.push(attempt),
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
    );
    expect(value).toBe('connected');
    expect(reported).toEqual([1, 2, 3, 4]);
    expect(delays).toHaveLength(4);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3000);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
  });

  it('starts from a half-second delay by default', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retryUntilSuccess(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
      },
      { maxDelayMs: 60_000, onRetry: () => undefined, sleep: async (ms) => void delays.push(ms) },
    );
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
  });

  it('uses a real timer by default', async () => {
    let calls = 0;
    const value = await retryUntilSuccess(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return calls;
      },
      { maxDelayMs: 5, baseDelayMs: 1, onRetry: () => undefined },
    );
    expect(value).toBe(2);
  });
});
