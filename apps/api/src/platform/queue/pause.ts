/**
 * A pause that `wake()` can cut short: how an idle worker loop waits for its next poll. A wake
 * while nobody waits is kept (one, not counted): the loop was busy claiming when work arrived,
 * so its next wait returns at once instead of sleeping a whole poll interval past that work.
 */
export class WakeablePause {
  private cut: (() => void) | undefined;
  private pending = false;

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
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
    if (this.cut) this.cut();
    else this.pending = true;
  }
}

/** A timer that does not keep the process alive (used for shutdown grace periods). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
