/**
 * Keeps a worker's claim on a run alive while one of its steps works (a provider call may take
 * longer than the lease): renews it every `everyMs` until `work` settles. A renewal that fails
 * or finds the run no longer ours is only reported — the step's end checks ownership again.
 */
export async function whileLeaseHeld<T>(
  renew: () => Promise<boolean>,
  everyMs: number,
  work: () => Promise<T>,
  onLost: (error?: unknown) => void,
): Promise<T> {
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // One renewal at a time: a slow database must not pile them up.
    renewing = renewing.then(async () => {
      try {
        if (!(await renew())) onLost();
      } catch (error) {
        onLost(error);
      }
    });
  }, everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
  }
}
