/** What processes jobs in a worker: the in-process PostgreSQL runner, or BullMQ. */
export interface JobTransport {
  readonly kind: 'postgres' | 'bullmq';
  start(): void;
  /** Work may be due now (a job was enqueued or retried): look without waiting for the poll. */
  wake(): void;
  /** Stops taking work and waits up to `graceMs` for running jobs, then aborts them. */
  stop(graceMs: number): Promise<void>;
}
