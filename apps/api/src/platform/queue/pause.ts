/** A pause that `wake()` can cut short: how an idle worker loop waits for its next poll. */
export class WakeablePause {
  private cut: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.cut = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.cut = done;
    });
  }

  wake(): void {
    this.cut?.();
  }
}

/** A timer that does not keep the process alive (used for shutdown grace periods). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
