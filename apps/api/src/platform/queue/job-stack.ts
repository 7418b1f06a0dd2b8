import type { Database } from '@maxai/db';
import type { Logger } from 'pino';
import type { MetricsService } from '../metrics/metrics.service';
import { BullMqTransport } from './bullmq-transport';
import { JobExecutor, type BackoffSettings } from './job-executor';
import type { JobRegistry } from './job-registry';
import type { JobTransport } from './job-transport';
import { JobsRepository } from './jobs.repository';
import { OutboxJobQueue } from './outbox-job-queue';
import { PgJobRunner } from './pg-job-runner';

export interface JobStackOptions {
  db: Database;
  registry: JobRegistry;
  metrics: MetricsService;
  logger: Logger;
  workerId: string;
  /** BullMQ when set, else the in-process PostgreSQL runner. */
  redisUrl?: string | undefined;
  redisPrefix: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  maxAttempts: number;
  backoff: BackoffSettings;
}

export interface JobStack {
  repository: JobsRepository;
  queue: OutboxJobQueue;
  transport: JobTransport;
}

/** Wires the outbox, the executor and the transport chosen by configuration. */
export function createJobStack(options: JobStackOptions): JobStack {
  const repository = new JobsRepository(options.db);
  const executor = new JobExecutor(
    options.registry,
    options.backoff,
    options.metrics,
    options.logger,
  );
  const queue = new OutboxJobQueue(
    options.registry,
    repository,
    options.maxAttempts,
    options.metrics,
  );
  const transport: JobTransport = options.redisUrl
    ? new BullMqTransport(
        repository,
        executor,
        {
          redisUrl: options.redisUrl,
          prefix: options.redisPrefix,
          workerId: options.workerId,
          concurrency: options.concurrency,
          pollIntervalMs: options.pollIntervalMs,
          leaseMs: options.leaseMs,
          maxAttempts: options.maxAttempts,
          backoff: options.backoff,
          reconcileAfterMs: Math.max(60_000, options.leaseMs * 4),
        },
        options.logger,
      )
    : new PgJobRunner(
        repository,
        executor,
        {
          workerId: options.workerId,
          concurrency: options.concurrency,
          pollIntervalMs: options.pollIntervalMs,
          leaseMs: options.leaseMs,
        },
        options.logger,
      );
  return { repository, queue, transport };
}
