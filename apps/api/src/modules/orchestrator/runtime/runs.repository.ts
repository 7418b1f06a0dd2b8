import {
  domainEvents,
  flowRuns,
  flowRunSteps,
  flows,
  flowVersions,
  onlyRow,
  sideEffects,
  usageEvents,
  withSystem,
  type Database,
  type Tx,
} from '@maxai/db';
import { and, eq, isNotNull, sql } from 'drizzle-orm';

export type FlowRow = typeof flows.$inferSelect;
export type FlowVersionRow = typeof flowVersions.$inferSelect;
export type RunRow = typeof flowRuns.$inferSelect;
export type NewRunRow = typeof flowRuns.$inferInsert;
export type StepRow = typeof flowRunSteps.$inferSelect;
export type DomainEventRow = typeof domainEvents.$inferSelect;
export type NewUsageRow = typeof usageEvents.$inferInsert;

export interface ClaimLimits {
  /** Runs one worker takes at most in this claim. */
  limit: number;
  leaseMs: number;
  /** Runs of one tenant running at once, across workers. */
  perTenant: number;
  /** Runs running at once in all. */
  global: number;
}

/** Serializes claims across workers so the per-tenant and global limits hold exactly. */
const CLAIM_LOCK = 0x6d617861; // "maxa"

/** All SQL of the run engine. Tenant-scoped methods take the caller's transaction. */
export class RunsRepository {
  constructor(private readonly db: Database) {}

  /** The active flows of a tenant triggered by `type` (tenant-wide or for this client). */
  async activeFlowsFor(
    tx: Tx,
    tenantId: string,
    type: string,
    clientId: string | null,
  ): Promise<{ flow: FlowRow; version: FlowVersionRow }[]> {
    const rows = await tx
      .select({ flow: flows, version: flowVersions })
      .from(flows)
      .innerJoin(
        flowVersions,
        and(
          eq(flowVersions.tenantId, flows.tenantId),
          eq(flowVersions.flowId, flows.id),
          eq(flowVersions.version, flows.activeVersion),
        ),
      )
      .where(
        and(
          eq(flows.tenantId, tenantId),
          isNotNull(flows.activeVersion),
          sql`${flowVersions.definition} -> 'trigger' -> 'events' @> ${JSON.stringify([type])}::jsonb`,
        ),
      );
    return rows.filter((r) => r.flow.clientId === null || r.flow.clientId === clientId);
  }

  async version(
    tx: Tx,
    tenantId: string,
    flowId: string,
    version: number,
  ): Promise<FlowVersionRow | undefined> {
    const [row] = await tx
      .select()
      .from(flowVersions)
      .where(
        and(
          eq(flowVersions.tenantId, tenantId),
          eq(flowVersions.flowId, flowId),
          eq(flowVersions.version, version),
        ),
      );
    return row;
  }

  /** A new run, unless this event already started this flow (then undefined). */
  async createRun(tx: Tx, row: NewRunRow): Promise<RunRow | undefined> {
    const [inserted] = await tx
      .insert(flowRuns)
      .values(row)
      .onConflictDoNothing({
        target: [flowRuns.tenantId, flowRuns.flowId, flowRuns.triggerEventId],
      })
      .returning();
    return inserted;
  }

  async run(tx: Tx, tenantId: string, id: string): Promise<RunRow | undefined> {
    const [row] = await tx
      .select()
      .from(flowRuns)
      .where(and(eq(flowRuns.tenantId, tenantId), eq(flowRuns.id, id)));
    return row;
  }

  /**
   * Serializes, per tenant and key, an event's arrival with a run starting to wait for it, so
   * one of the two always sees the other (see CallbackArrivals).
   */
  async lockWaitKey(tx: Tx, tenantId: string, type: string, key: string): Promise<void> {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`${tenantId}:${type}:${key}`}, 0))`,
    );
  }

  /** The first stored event of a type with this subject, if one has arrived. */
  async storedEvent(
    tx: Tx,
    tenantId: string,
    type: string,
    subject: string,
  ): Promise<DomainEventRow | undefined> {
    const [row] = await tx
      .select()
      .from(domainEvents)
      .where(
        and(
          eq(domainEvents.tenantId, tenantId),
          eq(domainEvents.type, type),
          eq(domainEvents.subject, subject),
        ),
      )
      .orderBy(domainEvents.time)
      .limit(1);
    return row;
  }

  /**
   * The distinct places (flow, version, step) where runs of a tenant wait for `type`: an event
   * computes its correlation key once per place, not once per waiting run. Nothing is locked.
   */
  waitingPlaces(
    tx: Tx,
    tenantId: string,
    type: string,
  ): Promise<{ flowId: string; version: number; cursor: string | null }[]> {
    return tx
      .selectDistinct({
        flowId: flowRuns.flowId,
        version: flowRuns.version,
        cursor: flowRuns.cursor,
      })
      .from(flowRuns)
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          eq(flowRuns.status, 'waiting'),
          eq(flowRuns.waitingType, type),
        ),
      );
  }

  /**
   * The runs waiting at one place for `type` with this correlation key, locked. A plain lock
   * (not SKIP LOCKED): a run another event or a worker holds is re-checked once released, so a
   * concurrent event never makes this one miss a run it should resume.
   */
  waitingRuns(
    tx: Tx,
    tenantId: string,
    place: { flowId: string; version: number; cursor: string },
    type: string,
    key: string,
  ): Promise<RunRow[]> {
    return tx
      .select()
      .from(flowRuns)
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          eq(flowRuns.status, 'waiting'),
          eq(flowRuns.waitingType, type),
          eq(flowRuns.waitingKey, key),
          eq(flowRuns.flowId, place.flowId),
          eq(flowRuns.version, place.version),
          eq(flowRuns.cursor, place.cursor),
        ),
      )
      .orderBy(flowRuns.id)
      .for('update');
  }

  /** Changes a run the caller knows is there (found or locked in its transaction). */
  async updateRun(
    tx: Tx,
    tenantId: string,
    id: string,
    changes: Partial<NewRunRow>,
  ): Promise<RunRow> {
    const rows = await tx
      .update(flowRuns)
      .set(changes)
      .where(and(eq(flowRuns.tenantId, tenantId), eq(flowRuns.id, id)))
      .returning();
    return onlyRow(rows, 'the updated run');
  }

  /**
   * Changes a run only while this worker holds it: a run cancelled meanwhile (or taken over by
   * another worker after this one's lease lapsed) is left as it is. Answers the changed run.
   */
  async updateOwnRun(
    tx: Tx,
    tenantId: string,
    id: string,
    workerId: string,
    changes: Partial<NewRunRow>,
  ): Promise<RunRow | undefined> {
    const [row] = await tx
      .update(flowRuns)
      .set(changes)
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          eq(flowRuns.id, id),
          eq(flowRuns.lockedBy, workerId),
          eq(flowRuns.status, 'running'),
        ),
      )
      .returning();
    return row;
  }

  /**
   * Extends this worker's lease; answers false when the run is no longer this worker's to run
   * (cancelled, or its lease expired and another worker took it).
   */
  async renewLease(
    tx: Tx,
    tenantId: string,
    id: string,
    workerId: string,
    leaseMs: number,
  ): Promise<boolean> {
    return (await this.holdRun(tx, tenantId, id, workerId, leaseMs, false)) !== undefined;
  }

  /**
   * renewLease, and when `nextSeq` also numbers the run's next step execution (`step_seq` + 1),
   * in one statement: answers the run as it now stands, or undefined when it is not ours.
   */
  async holdRun(
    tx: Tx,
    tenantId: string,
    id: string,
    workerId: string,
    leaseMs: number,
    nextSeq: boolean,
  ): Promise<RunRow | undefined> {
    const [row] = await tx
      .update(flowRuns)
      .set({
        lockedUntil: new Date(Date.now() + leaseMs),
        ...(nextSeq ? { stepSeq: sql`${flowRuns.stepSeq} + 1` } : {}),
      })
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          eq(flowRuns.id, id),
          eq(flowRuns.lockedBy, workerId),
          eq(flowRuns.status, 'running'),
        ),
      )
      .returning();
    return row;
  }

  /**
   * Claims runnable runs fairly: queued ones, waiting ones whose time came, and running ones
   * whose worker's lease expired. Tenants take turns (each tenant's oldest first, then each
   * tenant's second…), within the per-tenant and global limits. A run with a concurrency key
   * waits while an earlier run of its flow with the same key has not ended (or another one is
   * executing, e.g. an earlier one rerun): equal keys run one at a time, in creation order (ids
   * are time-ordered UUIDv7).
   */
  claim(workerId: string, limits: ClaimLimits): Promise<RunRow[]> {
    return withSystem(this.db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
      // Chosen and taken in one statement (one round trip less on every run's way to a worker).
      const chosen = sql`
        with live as (
          select tenant_id, count(*)::int as n from flow_runs
          where status = 'running' and locked_until > now() group by tenant_id
        ),
        total as (select coalesce(sum(n), 0)::int as n from live),
        candidates as (
          select tenant_id, id, coalesce(wake_at, queued_at) as due,
            row_number() over (partition by tenant_id order by coalesce(wake_at, queued_at), id) as rn
          from flow_runs r
          where (status = 'queued'
              or (status = 'waiting' and wake_at <= now())
              or (status = 'running' and locked_until <= now()))
            and (r.concurrency_key is null or not exists (
              select 1 from flow_runs o
              where o.tenant_id = r.tenant_id and o.flow_id = r.flow_id
                and o.concurrency_key = r.concurrency_key and o.id <> r.id
                and ((o.id < r.id and o.status in ('queued', 'running', 'waiting'))
                  or (o.status = 'running' and o.locked_until > now()))
            ))
        )
        select c.id from candidates c
        left join live l on l.tenant_id = c.tenant_id
        where c.rn + coalesce(l.n, 0) <= ${limits.perTenant}
        order by c.rn, c.due
        limit greatest(0, least(${limits.limit}, ${limits.global} - (select n from total)))`;
      return tx
        .update(flowRuns)
        .set({
          status: 'running',
          lockedBy: workerId,
          lockedUntil: new Date(Date.now() + limits.leaseMs),
          startedAt: sql`coalesce(${flowRuns.startedAt}, now())`,
        })
        .where(sql`${flowRuns.id} in (${chosen})`)
        .returning();
    });
  }

  async insertStep(tx: Tx, row: typeof flowRunSteps.$inferInsert): Promise<void> {
    await tx.insert(flowRunSteps).values(row);
  }

  async updateStep(
    tx: Tx,
    tenantId: string,
    runId: string,
    seq: number,
    changes: Partial<typeof flowRunSteps.$inferInsert>,
  ): Promise<void> {
    await tx
      .update(flowRunSteps)
      .set(changes)
      .where(
        and(
          eq(flowRunSteps.tenantId, tenantId),
          eq(flowRunSteps.runId, runId),
          eq(flowRunSteps.seq, seq),
        ),
      );
  }

  async step(tx: Tx, tenantId: string, runId: string, seq: number): Promise<StepRow | undefined> {
    const [row] = await tx
      .select()
      .from(flowRunSteps)
      .where(
        and(
          eq(flowRunSteps.tenantId, tenantId),
          eq(flowRunSteps.runId, runId),
          eq(flowRunSteps.seq, seq),
        ),
      );
    return row;
  }

  steps(tx: Tx, tenantId: string, runId: string): Promise<StepRow[]> {
    return tx
      .select()
      .from(flowRunSteps)
      .where(and(eq(flowRunSteps.tenantId, tenantId), eq(flowRunSteps.runId, runId)))
      .orderBy(flowRunSteps.seq);
  }

  /**
   * Records the intent to cause a side effect before causing it. Answers the earlier entry when
   * there was one: `done` (reuse its result) or `pending` (a crash in between: in doubt).
   */
  async beginSideEffect(
    tx: Tx,
    tenantId: string,
    key: string,
    runId: string,
    stepId: string,
  ): Promise<{ state: 'pending' | 'done'; result: unknown } | undefined> {
    const inserted = await tx
      .insert(sideEffects)
      .values({ tenantId, idempotencyKey: key, runId, stepId, state: 'pending' })
      .onConflictDoNothing()
      .returning({ key: sideEffects.idempotencyKey });
    if (inserted.length > 0) return undefined;
    const [row] = await tx
      .select()
      .from(sideEffects)
      .where(and(eq(sideEffects.tenantId, tenantId), eq(sideEffects.idempotencyKey, key)));
    return row ? { state: row.state, result: row.result } : undefined;
  }

  async finishSideEffect(tx: Tx, tenantId: string, key: string, result: unknown): Promise<void> {
    await tx
      .update(sideEffects)
      .set({ state: 'done', result, updatedAt: new Date() })
      .where(and(eq(sideEffects.tenantId, tenantId), eq(sideEffects.idempotencyKey, key)));
  }

  async forgetSideEffect(tx: Tx, tenantId: string, key: string): Promise<void> {
    await tx
      .delete(sideEffects)
      .where(and(eq(sideEffects.tenantId, tenantId), eq(sideEffects.idempotencyKey, key)));
  }

  async recordUsage(tx: Tx, row: NewUsageRow): Promise<void> {
    await tx.insert(usageEvents).values(row).onConflictDoNothing();
  }
}
