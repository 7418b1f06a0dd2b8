/**
 * Runs `task` every `intervalS` seconds (0: never) on a timer that does not keep the process
 * alive; a failed run is reported and the next interval tries again. Starting twice is a no-op.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalS: number,
    private readonly task: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.intervalS === 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.task().catch(this.onError);
    }, this.intervalS * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
