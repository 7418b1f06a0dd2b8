import {
  type BeforeApplicationShutdown,
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import type { DatabaseHandle, Tx } from '@maxai/db';
import type { JobQueue } from '@maxai/core';
import type { Logger } from 'pino';
import { CONFIG, ROLE, type Role } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import type { SecretBox } from '../../platform/crypto/secret-box';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { JobRegistry } from '../../platform/queue/job-registry';
import type { JobStack } from '../../platform/queue/job-stack';
import { JOB_QUEUE, JOB_STACK } from '../../platform/queue/queue.tokens';
import { SECRET_BOX } from '../iam/iam.module';
import { AuditCheckpointScheduler, checkpointJob } from './audit-checkpoint.scheduler';
import { AuditEvidenceService } from './audit-evidence.service';
import { AuditKeysController } from './audit-keys.controller';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/**
 * The tamper-evident audit trail; other modules record through AuditService in their tx. Also
 * its evidence: signed checkpoints (on demand and every AUDIT_CHECKPOINT_INTERVAL_S in the
 * processes that run jobs) and verifiable exports.
 */
@Global()
@Module({
  controllers: [AuditController, AuditKeysController],
  providers: [
    {
      provide: AuditRepository,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new AuditRepository(database.db),
    },
    {
      provide: AuditService,
      inject: [AuditRepository],
      useFactory: (repository: AuditRepository) => new AuditService(repository),
    },
    {
      provide: AuditEvidenceService,
      inject: [AuditRepository, SECRET_BOX],
      useFactory: (repository: AuditRepository, box: SecretBox) =>
        new AuditEvidenceService(repository, box),
    },
    {
      provide: AuditCheckpointScheduler,
      inject: [DATABASE, AuditEvidenceService, JOB_QUEUE, JOB_STACK, ROOT_LOGGER, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        evidence: AuditEvidenceService,
        queue: JobQueue<Tx>,
        stack: JobStack,
        logger: Logger,
        config: AppConfig,
      ) =>
        new AuditCheckpointScheduler(
          database.db,
          evidence,
          queue,
          stack.transport,
          logger.child({ component: 'audit-checkpoints' }),
          config.AUDIT_CHECKPOINT_INTERVAL_S,
        ),
    },
  ],
  exports: [AuditService],
})
export class AuditModule
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(
    @Inject(AuditEvidenceService) private readonly evidence: AuditEvidenceService,
    @Inject(AuditCheckpointScheduler) private readonly scheduler: AuditCheckpointScheduler,
    @Inject(JobRegistry) private readonly registry: JobRegistry,
    @Inject(ROLE) private readonly role: Role,
  ) {}

  /** Registers the checkpoint job (every role enqueues) and loads or creates the audit key. */
  async onModuleInit(): Promise<void> {
    this.registry.register(checkpointJob(this.evidence));
    await this.evidence.init();
  }

  /** The processes that run jobs also schedule the checkpoint sweep. */
  onApplicationBootstrap(): void {
    if (this.role !== 'api') this.scheduler.start();
  }

  beforeApplicationShutdown(): void {
    this.scheduler.stop();
  }
}
