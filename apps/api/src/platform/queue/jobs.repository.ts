import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { jobs, onlyRow, withSystem, type Database, type JobStatus, type Tx } from '@maxai/db';

export type JobRow = typeof jobs.$inferSelect;
export type NewJobRow = typeof jobs.$inferInsert;

const RUNNABLE = sql`((${jobs.status} = 'pending' and ${jobs.runAt} <= now())
  or (${jobs.status} = 'running' and ${jobs.lockedUntil} < now()))`;

/**
 * All SQL of the job outbox. `insert` runs in the caller's (tenant) transaction; everything else
 * is platform work across tenants and runs in system context.
 */
export class JobsRepository {
  constructor(private readonly db: Database) {}

  /** Inserts in the caller's transaction; with a dedupe key, returns the existing job instead. */
  async insert(tx: Tx, row: NewJobRow): Promise<{ id: string; deduplicated: boolean }> {
    const inserted = await tx
      .insert(jobs)
      .values(row)
      .onConflictDoNothing({ target: [jobs.tenantId, jobs.dedupeKey] })
      .returning({ id: jobs.id });
    if (inserted[0]) return { id: inserted[0].id, deduplicated: false };
    const existing = onlyRow(
      await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.tenantId, row.tenantId), eq(jobs.dedupeKey, row.dedupeKey ?? ''))),
      'the job holding this dedupe key',
    );
    return { id: existing.id, deduplicated: true };
  }

  /**
   * Claims up to `limit` runnable jobs — due pending ones, and running ones whose worker's lease
   * expired (it crashed) — counting the attempt. SKIP LOCKED lets many workers claim at once
   * without blocking or double-claiming.
   */
  claim(workerId: string, limit: number, leaseMs: number): Promise<JobRow[]> {
    return withSystem(this.db, async (tx) => {
      const due = tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(RUNNABLE)
        .orderBy(asc(jobs.runAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      return tx
        .update(jobs)
        .set({
          status: 'running',
          attempts: sql`${jobs.attempts} + 1`,
          lockedBy: workerId,
          lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'`,
          updatedAt: sql`now()`,
        })
        .where(inArray(jobs.id, due))
        .returning();
    });
  }

  /** Extends the lease of jobs this worker still runs, so a long job is not taken over. */
  async extendLease(workerId: string, ids: string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await withSystem(this.db, (tx) =>
      tx
        .update(jobs)
        .set({ lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'` })
        .where(and(inArray(jobs.id, ids), eq(jobs.lockedBy, workerId), eq(jobs.status, 'running'))),
    );
  }

  /**
   * Records the end of an attempt; false when this worker no longer holds the job. A null
   * `workerId` (reconciliation) finishes the job whoever held it.
   */
  async finish(
    id: string,
    workerId: string | null,
    result:
      | { status: 'succeeded' }
      | { status: 'pending' | 'relayed'; delayMs: number; error: string }
      | { status: 'dead'; error: string },
  ): Promise<boolean> {
    const fields =
      result.status === 'succeeded'
        ? { status: result.status, completedAt: sql`now()`, lastError: null }
        : result.status === 'dead'
          ? { status: result.status, completedAt: sql`now()`, lastError: result.error }
          : {
              status: result.status,
              runAt: sql`now() + ${result.delayMs} * interval '1 millisecond'`,
              lastError: result.error,
            };
    const owner = workerId === null ? undefined : eq(jobs.lockedBy, workerId);
    const updated = await withSystem(this.db, (tx) =>
      tx
        .update(jobs)
        .set({ ...fields, lockedBy: null, lockedUntil: null, updatedAt: sql`now()` })
        .where(and(eq(jobs.id, id), inArray(jobs.status, ['running', 'relayed']), owner))
        .returning({ id: jobs.id }),
    );
    return updated.length === 1;
  }

  findById(id: string): Promise<JobRow | undefined> {
    return withSystem(this.db, async (tx) => {
      const [row] = await tx.select().from(jobs).where(eq(jobs.id, id));
      return row;
    });
  }

  /** Marks a job handed to an external queue as running for `attempt` (BullMQ mode). */
  async markRunning(id: string, workerId: string, attempt: number, leaseMs: number): Promise<void> {
    await withSystem(this.db, (tx) =>
      tx
        .update(jobs)
        .set({
          status: 'running',
          attempts: attempt,
          lockedBy: workerId,
          lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'`,
          updatedAt: sql`now()`,
        })
        .where(eq(jobs.id, id)),
    );
  }

  /**
   * Hands due pending jobs to `publish` and marks them relayed, in one transaction: a crash
   * before the commit leaves them pending and they are published again (the publisher dedupes).
   */
  relay(limit: number, publish: (rows: JobRow[]) => Promise<void>): Promise<number> {
    return withSystem(this.db, async (tx) => {
      const rows = await tx
        .select()
        .from(jobs)
        .where(eq(jobs.status, 'pending'))
        .orderBy(asc(jobs.runAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      await publish(rows);
      await tx
        .update(jobs)
        .set({ status: 'relayed', updatedAt: sql`now()` })
        .where(
          inArray(
            jobs.id,
            rows.map((r) => r.id),
          ),
        );
      return rows.length;
    });
  }

  /** Relayed or running jobs not touched for `staleMs`: candidates for reconciliation. */
  findStale(staleMs: number, limit: number): Promise<JobRow[]> {
    return withSystem(this.db, (tx) =>
      tx
        .select()
        .from(jobs)
        .where(
          and(
            inArray(jobs.status, ['relayed', 'running']),
            lt(jobs.updatedAt, sql`now() - ${staleMs} * interval '1 millisecond'`),
          ),
        )
        .limit(limit),
    );
  }

  /** Puts a relayed job whose queue entry vanished back to pending, bumping its generation. */
  async requeue(id: string): Promise<void> {
    await withSystem(this.db, (tx) =>
      tx
        .update(jobs)
        .set({
          status: 'pending',
          generation: sql`${jobs.generation} + 1`,
          lockedBy: null,
          lockedUntil: null,
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, id), inArray(jobs.status, ['relayed', 'running']))),
    );
  }

  list(filter: { status?: JobStatus; limit: number; cursor?: string }): Promise<JobRow[]> {
    return withSystem(this.db, (tx) =>
      tx
        .select()
        .from(jobs)
        .where(
          and(
            filter.status ? eq(jobs.status, filter.status) : undefined,
            filter.cursor ? gt(jobs.id, filter.cursor) : undefined,
          ),
        )
        .orderBy(asc(jobs.id))
        .limit(filter.limit),
    );
  }

  /** A dead job starts over: attempts reset, a new generation, due now. */
  retryDead(id: string): Promise<JobRow | undefined> {
    return withSystem(this.db, async (tx) => {
      const [row] = await tx
        .update(jobs)
        .set({
          status: 'pending',
          attempts: 0,
          generation: sql`${jobs.generation} + 1`,
          runAt: sql`now()`,
          completedAt: null,
          lastError: null,
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'dead')))
        .returning();
      return row;
    });
  }

  countByStatus(): Promise<Record<string, number>> {
    return withSystem(this.db, async (tx) => {
      const rows = await tx
        .select({ status: jobs.status, n: sql<number>`count(*)::int` })
        .from(jobs)
        .groupBy(jobs.status);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    });
  }
}
