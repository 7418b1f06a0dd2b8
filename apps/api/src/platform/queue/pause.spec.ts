import { describe, expect, it } from 'vitest';
import { WakeablePause } from './pause';

/** Whether `promise` has settled by the time already-queued callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

const HOUR = 3_600_000;

describe('WakeablePause', () => {
  it('waits until woken', async () => {
    const pause = new WakeablePause();
    const waiting = pause.wait(HOUR);
    expect(await settled(waiting)).toBe(false);
    pause.wake();
    expect(await settled(waiting)).toBe(true);
  });

  it('ends by itself after its time', async () => {
    const pause = new WakeablePause();
    await pause.wait(1);
    // The spent timer left no waiter behind: a wake now is kept for the next wait.
    pause.wake();
    expect(await settled(pause.wait(HOUR))).toBe(true);
  });

  it('keeps a wake that came while nobody waited, for the next wait only', async () => {
    const pause = new WakeablePause();
    pause.wake();
    pause.wake(); // not counted: one pending wake
    expect(await settled(pause.wait(HOUR))).toBe(true);
    const next = pause.wait(HOUR);
    expect(await settled(next)).toBe(false);
    pause.wake();
    expect(await settled(next)).toBe(true);
  });

  it('does not keep a wake that ended a wait', async () => {
    const pause = new WakeablePause();
    const first = pause.wait(HOUR);
    pause.wake();
    await first;
    const second = pause.wait(HOUR);
    expect(await settled(second)).toBe(false);
    pause.wake();
    await second;
  });
});
