import type { JobQueue } from '@maxai/core';
import { withTenant, type Database, type Tx } from '@maxai/db';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import {
  defineJob,
  jobEnvelopeSchema,
  type JobDefinition,
} from '../../platform/queue/job-registry';
import type { JobTransport } from '../../platform/queue/job-transport';
import { PeriodicTask } from '../../platform/queue/periodic-task';
import type { AuditEvidenceService } from './audit-evidence.service';

export const CHECKPOINT_JOB = 'audit.create-checkpoints.v1';

/** Signs the tenant's chain head (idempotent: a head already signed is left as it is). */
export function checkpointJob(
  evidence: AuditEvidenceService,
): JobDefinition<{ tenantId: string; correlationId: string }> {
  return defineJob({
    name: CHECKPOINT_JOB,
    schema: jobEnvelopeSchema,
    maxAttempts: 5,
    timeoutMs: 30_000,
    handler: async (payload) => {
      await evidence.createCheckpoint(payload.tenantId);
    },
  });
}

/**
 * Every `intervalS` seconds, enqueues one checkpoint job per tenant with events since its last
 * checkpoint. Jobs carry a tenant, so the sweep fans out; the dedupe key (the head's `seq`)
 * keeps replicas sweeping at the same time from enqueueing twice, and the checkpoint's primary
 * key from signing twice. The timer is unref'd and stopped on shutdown.
 */
export class AuditCheckpointScheduler {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly evidence: AuditEvidenceService,
    private readonly queue: JobQueue<Tx>,
    private readonly transport: JobTransport,
    private readonly logger: Logger,
    intervalS: number,
  ) {
    this.periodic = new PeriodicTask(
      intervalS,
      () => this.sweep(),
      (error) => {
        this.logger.warn({ err: error }, 'audit checkpoint sweep failed; retrying next interval');
      },
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Enqueues the due checkpoint jobs; returns how many tenants were due. */
  async sweep(): Promise<number> {
    const due = await this.evidence.headsWithoutCheckpoint();
    const correlationId = `audit-checkpoints-${uuidv7()}`;
    for (const { tenantId, seq } of due) {
      await withTenant(this.db, tenantId, (tx) =>
        this.queue.enqueue(
          tx,
          CHECKPOINT_JOB,
          { tenantId, correlationId },
          { dedupeKey: `audit-checkpoint:${seq}` },
        ),
      );
    }
    if (due.length > 0) this.transport.wake();
    return due.length;
  }
}
