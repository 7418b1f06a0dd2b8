import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { CONFIG, ROLE, type Role } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { DATABASE } from '../database/database.module';
import { ROOT_LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { JobRegistry } from './job-registry';
import { createJobStack, type JobStack } from './job-stack';
import { JobsController } from './jobs.controller';
import { InternalTokenGuard } from './internal-token.guard';
import { JOB_QUEUE, JOB_STACK } from './queue.tokens';

/**
 * Durable jobs. Every role can enqueue; the worker and standalone roles also run jobs (BullMQ
 * when REDIS_URL is set, the in-process PostgreSQL runner otherwise). Modules register their job
 * definitions on the JobRegistry in their constructor or onModuleInit.
 */
@Global()
@Module({
  controllers: [JobsController],
  providers: [
    JobRegistry,
    InternalTokenGuard,
    {
      provide: JOB_STACK,
      inject: [CONFIG, DATABASE, JobRegistry, MetricsService, ROOT_LOGGER],
      useFactory: (
        config: AppConfig,
        database: DatabaseHandle,
        registry: JobRegistry,
        metrics: MetricsService,
        logger: Logger,
      ): JobStack =>
        createJobStack({
          db: database.db,
          registry,
          metrics,
          logger: logger.child({ component: 'jobs' }),
          workerId: `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`,
          redisUrl: config.REDIS_URL,
          redisPrefix: config.REDIS_KEY_PREFIX,
          concurrency: config.JOBS_CONCURRENCY,
          pollIntervalMs: config.JOBS_POLL_INTERVAL_MS,
          leaseMs: config.JOBS_LEASE_MS,
          maxAttempts: config.JOBS_MAX_ATTEMPTS,
          backoff: { baseMs: config.JOBS_BACKOFF_BASE_MS, maxMs: config.JOBS_BACKOFF_MAX_MS },
        }),
    },
    { provide: JOB_QUEUE, inject: [JOB_STACK], useFactory: (stack: JobStack) => stack.queue },
  ],
  exports: [JobRegistry, JOB_STACK, JOB_QUEUE],
})
export class QueueModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(JOB_STACK) private readonly stack: JobStack,
    @Inject(ROLE) private readonly role: Role,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.role !== 'api') this.stack.transport.start();
  }

  /** Finishes running jobs within the shutdown grace period (a no-op if already stopped). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stack.transport.stop(this.config.SHUTDOWN_TIMEOUT_MS);
  }
}
