import type { Logger } from 'pino';
import { attemptOf, type JobExecutor } from './job-executor';
import type { JobTransport } from './job-transport';
import { sleep, WakeablePause } from './pause';
import type { JobRow, JobsRepository } from './jobs.repository';

/** After aborting, how long stop() waits for aborted attempts to record their outcome. */
const ABORT_SETTLE_MS = 2000;

export interface PgJobRunnerOptions {
  workerId: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
}

/**
 * Runs jobs straight from the outbox table (no Redis). Workers claim with FOR UPDATE SKIP LOCKED
 * under a lease they keep extending while a job runs; a worker that dies stops extending, and
 * once its lease lapses another worker claims the job again.
 */
export class PgJobRunner implements JobTransport {
  readonly kind = 'postgres' as const;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly pause = new WakeablePause();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: JobsRepository,
    private readonly executor: JobExecutor,
    private readonly options: PgJobRunnerOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.heartbeat = setInterval(
      () => {
        this.repository
          .extendLease(this.options.workerId, [...this.inflight.keys()], this.options.leaseMs)
          .catch((error: unknown) =>
            this.logger.warn({ err: error }, 'job lease extension failed'),
          );
      },
      Math.max(250, Math.floor(this.options.leaseMs / 3)),
    );
    this.heartbeat.unref();
    this.loop = this.run();
  }

  wake(): void {
    this.pause.wake();
  }

  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const drained = Promise.allSettled([...this.inflight.values()]);
    const timedOut = await Promise.race([
      drained.then(() => false),
      sleep(graceMs).then(() => true),
    ]);
    if (timedOut) {
      // A handler that honours its signal fails the attempt, recorded as a retry (briefly
      // awaited here); one that ignores it keeps its lease until it lapses, and then another
      // worker takes the job.
      this.logger.warn(
        { jobs: [...this.inflight.keys()] },
        'shutdown grace period over, aborting jobs',
      );
      this.abort.abort(new Error('aborted at shutdown'));
      await Promise.race([drained, sleep(ABORT_SETTLE_MS)]);
    }
    clearInterval(this.heartbeat);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.options.concurrency - this.inflight.size;
      let claimed: JobRow[] = [];
      if (free > 0) {
        try {
          claimed = await this.repository.claim(this.options.workerId, free, this.options.leaseMs);
          failures = 0;
        } catch (error) {
          failures += 1;
          this.logger.error({ err: error }, 'claiming jobs failed; retrying');
          await this.idle(Math.min(30_000, this.options.pollIntervalMs * 2 ** failures));
          continue;
        }
        for (const row of claimed) this.launch(row);
      }
      // A full batch suggests more is waiting: look again at once unless every slot is busy.
      if (
        claimed.length === 0 ||
        claimed.length < free ||
        this.inflight.size >= this.options.concurrency
      ) {
        await this.idle(this.options.pollIntervalMs);
      }
    }
  }

  private launch(row: JobRow): void {
    const work = this.process(row).finally(() => {
      this.inflight.delete(row.id);
      this.wake();
    });
    this.inflight.set(row.id, work);
  }

  private async process(row: JobRow): Promise<void> {
    const { workerId } = this.options;
    try {
      if (row.attempts > row.maxAttempts) {
        // Its previous attempts never finished: the worker died every time (a poison job).
        await this.repository.finish(row.id, workerId, {
          status: 'dead',
          error: row.lastError ?? 'worker lost during every attempt',
        });
        return;
      }
      const result = await this.executor.execute(attemptOf(row, row.attempts), this.abort.signal);
      const finished = await this.repository.finish(
        row.id,
        workerId,
        result.status === 'retry'
          ? { status: 'pending', delayMs: result.delayMs, error: result.error }
          : result,
      );
      if (!finished) this.logger.warn({ jobId: row.id }, 'job lease lost before it finished');
    } catch (error) {
      // The database failed while recording the outcome: the lease lapses and the job reruns.
      this.logger.error({ err: error, jobId: row.id }, 'recording a job outcome failed');
    }
  }

  private idle(ms: number): Promise<void> {
    return this.running ? this.pause.wait(ms) : Promise.resolve();
  }
}
