import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff';
import { attemptOf, type BackoffSettings, type JobExecutor } from './job-executor';
import type { JobTransport } from './job-transport';
import { sleep, WakeablePause } from './pause';
import type { JobRow, JobsRepository } from './jobs.repository';

export interface BullMqTransportOptions {
  redisUrl: string;
  /** Key prefix in Redis; one per deployment (and per test run). */
  prefix: string;
  workerId: string;
  concurrency: number;
  /** How often the relay looks for outbox rows to hand over. */
  pollIntervalMs: number;
  /** BullMQ lock duration: a job whose worker stops renewing it for this long is stalled. */
  leaseMs: number;
  maxAttempts: number;
  backoff: BackoffSettings;
  /** Relayed/running rows untouched this long are checked against Redis (lost on a flush). */
  reconcileAfterMs: number;
}

interface QueuedJobData {
  id: string;
  generation: number;
}

export const QUEUE_NAME = 'maxai-jobs';
const RELAY_BATCH = 200;

/** Thrown to BullMQ so that its backoff strategy uses the delay our executor chose. */
class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/**
 * The Redis-backed transport: a relay moves committed outbox rows into a BullMQ queue (job id =
 * row id + generation, so a re-publish after a crash is a no-op) and BullMQ workers run them.
 * The outbox row stays the record of attempts, errors and dead letters.
 */
export class BullMqTransport implements JobTransport {
  readonly kind = 'bullmq' as const;
  private running: { queue: Queue; worker: Worker } | undefined;
  private readonly connections: Redis[] = [];
  private relaying = false;
  private relayLoop: Promise<void> | undefined;
  private readonly pause = new WakeablePause();
  private lastReconcile = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly repository: JobsRepository,
    private readonly executor: JobExecutor,
    private readonly options: BullMqTransportOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    const { prefix, concurrency, leaseMs, maxAttempts, backoff } = this.options;
    const queue = new Queue(QUEUE_NAME, { connection: this.connect(), prefix });
    queue.on('error', (error) => this.logger.error({ err: error }, 'BullMQ queue error'));
    const worker = new Worker<QueuedJobData>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.connect(),
      prefix,
      concurrency,
      lockDuration: leaseMs,
      stalledInterval: Math.max(500, Math.floor(leaseMs / 2)),
      // A job whose worker keeps dying is retried as often as a failing one, then dead-lettered.
      maxStalledCount: maxAttempts,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          error instanceof RetryLaterError
            ? error.delayMs
            : backoffDelay(attemptsMade, backoff.baseMs, backoff.maxMs),
      },
    });
    worker.on('error', (error) => this.logger.error({ err: error }, 'BullMQ worker error'));
    this.running = { queue, worker };
    this.relaying = true;
    this.relayLoop = this.relay(queue);
  }

  wake(): void {
    this.pause.wake();
  }

  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    const { queue, worker } = this.running;
    this.running = undefined;
    this.relaying = false;
    this.wake();
    await this.relayLoop;
    // Caught: if the grace period wins, this promise is abandoned and must not reject unhandled.
    const closed = worker.close().then(
      () => false,
      () => false,
    );
    const timedOut = await Promise.race([closed, sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.logger.warn('shutdown grace period over, aborting jobs');
      this.abort.abort(new Error('aborted at shutdown'));
      await worker.close(true);
    }
    await queue.close();
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private connect(): Redis {
    const connection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', (error) => this.logger.warn({ err: error }, 'Redis connection error'));
    this.connections.push(connection);
    return connection;
  }

  private async relay(queue: Queue): Promise<void> {
    while (this.relaying) {
      let moved = 0;
      try {
        moved = await this.repository.relay(RELAY_BATCH, (rows) => this.publish(queue, rows));
        if (Date.now() - this.lastReconcile > this.options.reconcileAfterMs / 2) {
          this.lastReconcile = Date.now();
          await this.reconcile(queue);
        }
      } catch (error) {
        this.logger.error({ err: error }, 'job relay failed; retrying');
      }
      if (moved < RELAY_BATCH) await this.idle(this.options.pollIntervalMs);
    }
  }

  private async publish(queue: Queue, rows: JobRow[]): Promise<void> {
    const now = Date.now();
    await queue.addBulk(
      rows.map((row) => ({
        name: row.name,
        data: { id: row.id, generation: row.generation },
        opts: {
          jobId: bullJobId(row),
          delay: Math.max(0, row.runAt.getTime() - now),
          attempts: row.maxAttempts,
          backoff: { type: 'maxai' },
          removeOnComplete: { age: 24 * 3600, count: 50_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
  }

  /** Finds rows the queue lost (Redis flushed) or gave up on (stalled too often) and fixes them. */
  private async reconcile(queue: Queue): Promise<void> {
    const stale = await this.repository.findStale(this.options.reconcileAfterMs, 500);
    for (const row of stale) {
      const job = await queue.getJob(bullJobId(row));
      if (!job) {
        this.logger.warn({ jobId: row.id }, 'queued job missing from Redis; re-relaying it');
        await this.repository.requeue(row.id);
      } else if ((await job.getState()) === 'failed') {
        await this.repository.finish(row.id, null, {
          status: 'dead',
          error: job.failedReason || 'failed in queue',
        });
      }
    }
  }

  private async process(job: Job<QueuedJobData>): Promise<string> {
    const row = await this.repository.findById(job.data.id);
    if (row?.generation !== job.data.generation) return 'skipped';
    if (row.status === 'succeeded' || row.status === 'dead') return 'skipped';
    const { workerId, leaseMs } = this.options;
    const attempt = Math.max(job.attemptsStarted, 1);
    if (attempt > row.maxAttempts) {
      await this.repository.finish(row.id, null, {
        status: 'dead',
        error: row.lastError ?? 'worker lost during every attempt',
      });
      throw new UnrecoverableError('worker lost during every attempt');
    }
    await this.repository.markRunning(row.id, workerId, attempt, leaseMs);
    const result = await this.executor.execute(attemptOf(row, attempt), this.abort.signal);
    if (result.status === 'succeeded') {
      await this.repository.finish(row.id, workerId, result);
      return 'succeeded';
    }
    if (result.status === 'retry') {
      await this.repository.finish(row.id, workerId, {
        status: 'relayed',
        delayMs: result.delayMs,
        error: result.error,
      });
      throw new RetryLaterError(result.delayMs, result.error);
    }
    await this.repository.finish(row.id, workerId, result);
    throw new UnrecoverableError(result.error);
  }

  private idle(ms: number): Promise<void> {
    return this.relaying ? this.pause.wait(ms) : Promise.resolve();
  }
}

function bullJobId(row: Pick<JobRow, 'id' | 'generation'>): string {
  return `${row.id}-g${row.generation}`;
}
