import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { whileLeaseHeld } from './lease-heartbeat';

describe('whileLeaseHeld', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('renews while the work runs, and stops when it settles', async () => {
    const renew = vi.fn(() => Promise.resolve(true));
    const lost = vi.fn();
    const work = deferred<string>();
    const held = whileLeaseHeld(renew, 100, () => work.promise, lost);
    await vi.advanceTimersByTimeAsync(350);
    expect(renew).toHaveBeenCalledTimes(3);
    work.resolve('done');
    await expect(held).resolves.toBe('done');
    await vi.advanceTimersByTimeAsync(500);
    expect(renew).toHaveBeenCalledTimes(3);
    expect(lost).not.toHaveBeenCalled();
  });

  it('reports a lease found lost or a renewal that failed, and lets the work finish', async () => {
    const failure = new Error('database gone');
    const renew = vi
      .fn<() => Promise<boolean>>()
      .mockResolvedValueOnce(false)
      .mockRejectedValueOnce(failure);
    const lost = vi.fn();
    const work = deferred<number>();
    const held = whileLeaseHeld(renew, 100, () => work.promise, lost);
    await vi.advanceTimersByTimeAsync(200);
    work.resolve(7);
    await expect(held).resolves.toBe(7);
    expect(lost.mock.calls).toEqual([[], [failure]]);
  });

  it('passes the work’s failure through after the last renewal settled', async () => {
    let settle!: (held: boolean) => void;
    const renew = vi.fn(() => new Promise<boolean>((r) => (settle = r)));
    const work = deferred<never>();
    const held = whileLeaseHeld(
      renew,
      100,
      () => work.promise.then(() => Promise.reject(new Error('provider down'))),
      vi.fn(),
    );
    await vi.advanceTimersByTimeAsync(100);
    work.resolve(undefined as never);
    let finished = false;
    const outcome = held.catch((error: unknown) => {
      finished = true;
      return error;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(finished).toBe(false);
    settle(true);
    expect(await outcome).toEqual(new Error('provider down'));
  });
});
