import { PermanentJobError } from '@maxai/core';
import type { Logger } from 'pino';
import { requestContext } from '../http/request-context';
import type { MetricsService } from '../metrics/metrics.service';
import { backoffDelay } from './backoff';
import { type JobRegistry, payloadProblems, UnknownJobError } from './job-registry';

export interface ExecutableJob {
  id: string;
  name: string;
  tenantId: string;
  correlationId: string;
  payload: Record<string, unknown>;
  /** The attempt being made, 1-based. */
  attempt: number;
  maxAttempts: number;
}

/** The attempt `attempt` of a stored job, as the executor runs it. */
export function attemptOf(
  row: Pick<
    ExecutableJob,
    'id' | 'name' | 'tenantId' | 'correlationId' | 'payload' | 'maxAttempts'
  >,
  attempt: number,
): ExecutableJob {
  const { id, name, tenantId, correlationId, payload, maxAttempts } = row;
  return { id, name, tenantId, correlationId, payload, attempt, maxAttempts };
}

export type JobResult =
  | { status: 'succeeded' }
  | { status: 'retry'; delayMs: number; error: string }
  | { status: 'dead'; error: string };

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`attempt exceeded its ${ms} ms time limit`);
    this.name = 'JobTimeoutError';
  }
}

/**
 * Runs one attempt of a job and decides what follows: success, a retry after a jittered
 * exponential backoff, or the dead-letter state. Shared by the in-process runner and BullMQ.
 */
export class JobExecutor {
  constructor(
    private readonly registry: JobRegistry,
    private readonly backoff: BackoffSettings,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
  ) {}

  async execute(job: ExecutableJob, signal: AbortSignal): Promise<JobResult> {
    const started = performance.now();
    const log = this.logger.child({
      jobId: job.id,
      job: job.name,
      tenantId: job.tenantId,
      correlationId: job.correlationId,
      attempt: job.attempt,
    });
    const result = await requestContext.run({ correlationId: job.correlationId }, () =>
      this.attempt(job, signal),
    );
    const seconds = (performance.now() - started) / 1000;
    this.metrics.recordJob(job.name, result.status, seconds);
    if (result.status === 'succeeded') log.debug({ seconds }, 'job succeeded');
    else if (result.status === 'retry')
      log.warn({ err: result.error, delayMs: result.delayMs }, 'job failed, will retry');
    else log.error({ err: result.error }, 'job dead-lettered');
    return result;
  }

  private async attempt(job: ExecutableJob, signal: AbortSignal): Promise<JobResult> {
    let definition;
    try {
      definition = this.registry.get(job.name);
    } catch (error) {
      // During a rolling deploy an older worker may meet a job only newer code defines: it
      // is retried (another worker, or this one after an upgrade, takes it), and only
      // dead-lettered once its attempts are spent.
      if (error instanceof UnknownJobError) return this.failure(job, error.message);
      throw error;
    }
    const parsed = definition.schema.safeParse(job.payload);
    if (!parsed.success) {
      return {
        status: 'dead',
        error: `invalid payload: ${payloadProblems(parsed.error).join('; ')}`,
      };
    }
    // Aborted when the attempt times out (or the worker stops): a handler passes it on to its
    // provider calls, so a timed-out attempt does not keep acting beside its retry.
    const attemptAbort = new AbortController();
    const attemptSignal = AbortSignal.any([signal, attemptAbort.signal]);
    try {
      const run = definition.handler(parsed.data, {
        jobId: job.id,
        name: job.name,
        tenantId: job.tenantId,
        correlationId: job.correlationId,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        signal: attemptSignal,
      });
      await (definition.timeoutMs ? withTimeout(run, definition.timeoutMs, attemptAbort) : run);
      return { status: 'succeeded' };
    } catch (error) {
      if (error instanceof PermanentJobError)
        return { status: 'dead', error: describeError(error) };
      return this.failure(job, describeError(error));
    }
  }

  /** A failed attempt: retried after a backoff while attempts remain, dead-lettered after. */
  private failure(job: ExecutableJob, message: string): JobResult {
    if (job.attempt >= job.maxAttempts) return { status: 'dead', error: message };
    const delayMs = backoffDelay(job.attempt, this.backoff.baseMs, this.backoff.maxMs);
    return { status: 'retry', delayMs, error: message };
  }
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, abort: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(ms);
      abort.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
