/**
 * The job queue port. A job is accepted inside the caller's unit of work (transactional outbox):
 * it exists exactly when the business change that caused it commits.
 */

/** Every job payload carries its tenant and the correlation id of the request that caused it. */
export interface JobEnvelope {
  tenantId: string;
  correlationId: string;
}

/** A job's payload: the envelope plus the job's own fields (checked by its schema). */
export type JobPayload = JobEnvelope & Record<string, unknown>;

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** Attempts before the job is dead-lettered; the job definition's default otherwise. */
  maxAttempts?: number;
  /** Enqueueing the same key twice for a tenant yields the first job (idempotent enqueue). */
  dedupeKey?: string;
}

export interface EnqueuedJob {
  id: string;
  name: string;
  /** True when `dedupeKey` matched a job that already existed. */
  deduplicated: boolean;
}

/** `Tx` is the data layer's transaction: the job commits or rolls back with the caller's writes. */
export interface JobQueue<Tx> {
  enqueue(
    tx: Tx,
    name: string,
    payload: JobPayload,
    options?: EnqueueOptions,
  ): Promise<EnqueuedJob>;
}

export interface JobContext extends JobEnvelope {
  jobId: string;
  name: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the worker shuts down past its grace period. */
  signal: AbortSignal;
}

/** Thrown by a handler for a failure that no retry can fix: the job is dead-lettered at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}
