import { PermanentJobError, type JobQueue } from '@maxai/core';
import { connections, withSystem, withTenant, type Database, type Tx } from '@maxai/db';
import { and, eq, isNotNull, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { ProblemError } from '../../platform/errors/problem';
import {
  defineJob,
  jobEnvelopeSchema,
  type JobDefinition,
} from '../../platform/queue/job-registry';
import type { JobTransport } from '../../platform/queue/job-transport';
import { PeriodicTask } from '../../platform/queue/periodic-task';
import type { ConnectionsService } from './connections.service';

export const REFRESH_JOB = 'integrations.refresh-token.v1';
/** Tokens are refreshed when they expire within this long. */
export const REFRESH_AHEAD_MS = 10 * 60_000;

const refreshPayload = jobEnvelopeSchema.extend({ connectionId: jobEnvelopeSchema.shape.tenantId });

/** Refreshes one connection's token if it is still due (a refused refresh is final). */
export function refreshTokenJob(
  connectionsService: ConnectionsService,
): JobDefinition<{ tenantId: string; correlationId: string; connectionId: string }> {
  return defineJob({
    name: REFRESH_JOB,
    schema: refreshPayload,
    maxAttempts: 5,
    timeoutMs: 60_000,
    handler: async (payload) => {
      try {
        await connectionsService.credentials(payload.tenantId, payload.connectionId, {
          withinMs: REFRESH_AHEAD_MS,
        });
      } catch (error) {
        // The connection is marked needs_reauth (or gone): retrying cannot help.
        if (error instanceof ProblemError) throw new PermanentJobError(error.message);
        throw error;
      }
    },
  });
}

/**
 * Every `intervalS` seconds, enqueues a refresh for each active OAuth connection whose access
 * token expires within ten minutes, so calls rarely meet an expired token. The dedupe key (the
 * connection and its expiry) keeps replicas from enqueueing the same refresh twice.
 */
export class TokenRefreshScheduler {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly queue: JobQueue<Tx>,
    private readonly transport: JobTransport,
    private readonly logger: Logger,
    intervalS: number,
  ) {
    this.periodic = new PeriodicTask(
      intervalS,
      () => this.sweep(),
      (error) => {
        this.logger.warn({ err: error }, 'token refresh sweep failed; retrying next interval');
      },
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  async sweep(now = Date.now()): Promise<number> {
    const due = await withSystem(this.db, (tx) =>
      tx
        .select({
          tenantId: connections.tenantId,
          id: connections.id,
          expiresAt: connections.accessExpiresAt,
        })
        .from(connections)
        .where(
          and(
            eq(connections.authType, 'oauth2'),
            eq(connections.status, 'active'),
            isNotNull(connections.accessExpiresAt),
            lt(connections.accessExpiresAt, new Date(now + REFRESH_AHEAD_MS)),
          ),
        ),
    );
    const correlationId = `token-refresh-${uuidv7()}`;
    for (const row of due) {
      await withTenant(this.db, row.tenantId, (tx) =>
        this.queue.enqueue(
          tx,
          REFRESH_JOB,
          { tenantId: row.tenantId, correlationId, connectionId: row.id },
          { dedupeKey: `refresh:${row.id}:${String(row.expiresAt?.getTime())}` },
        ),
      );
    }
    if (due.length > 0) this.transport.wake();
    return due.length;
  }
}
