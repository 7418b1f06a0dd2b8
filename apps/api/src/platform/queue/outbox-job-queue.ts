import type { EnqueueOptions, EnqueuedJob, JobPayload, JobQueue } from '@maxai/core';
import type { Tx } from '@maxai/db';
import type { MetricsService } from '../metrics/metrics.service';
import { payloadProblems, type JobRegistry } from './job-registry';
import type { JobsRepository } from './jobs.repository';

export class InvalidJobPayloadError extends Error {
  constructor(
    name: string,
    readonly fields: string[],
  ) {
    super(`payload of job "${name}" is invalid: ${fields.join('; ')}`);
    this.name = 'InvalidJobPayloadError';
  }
}

/**
 * The JobQueue port over the transactional outbox: the job row commits with the caller's
 * transaction, and a runner or the BullMQ relay picks it up afterwards.
 */
export class OutboxJobQueue implements JobQueue<Tx> {
  constructor(
    private readonly registry: JobRegistry,
    private readonly repository: JobsRepository,
    private readonly defaultMaxAttempts: number,
    private readonly metrics: MetricsService,
  ) {}

  async enqueue(
    tx: Tx,
    name: string,
    payload: JobPayload,
    options: EnqueueOptions = {},
  ): Promise<EnqueuedJob> {
    const definition = this.registry.get(name);
    // Validated on the way in, so a bad payload fails its caller rather than a worker later.
    const parsed = definition.schema.safeParse(payload);
    if (!parsed.success) {
      throw new InvalidJobPayloadError(name, payloadProblems(parsed.error));
    }
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const { id, deduplicated } = await this.repository.insert(tx, {
      tenantId: payload.tenantId,
      name,
      payload: parsed.data as unknown as Record<string, unknown>,
      correlationId: payload.correlationId,
      maxAttempts: options.maxAttempts ?? definition.maxAttempts ?? this.defaultMaxAttempts,
      runAt: new Date(Date.now() + delayMs),
      dedupeKey: options.dedupeKey ?? null,
    });
    if (!deduplicated) this.metrics.jobsEnqueued.inc({ job: name });
    return { id, name, deduplicated };
  }
}
