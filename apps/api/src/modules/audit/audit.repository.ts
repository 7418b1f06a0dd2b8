import { and, asc, desc, eq, gt, gte, isNull, lt, lte, sql } from 'drizzle-orm';
import {
  auditChainHeads,
  auditCheckpoints,
  auditEvents,
  onlyRow,
  signingKeys,
  withSystem,
  withTenant,
  type Database,
  type Tx,
} from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import { chainHash, GENESIS_HASH } from './audit-chain';

export type AuditEventRow = typeof auditEvents.$inferSelect;
export type NewAuditEvent = Omit<AuditEventRow, 'seq' | 'id' | 'prevHash' | 'hash'>;
export type CheckpointRow = typeof auditCheckpoints.$inferSelect;
export type AuditKeyRow = typeof signingKeys.$inferSelect;
export type NewAuditKey = Omit<typeof signingKeys.$inferInsert, 'use'>;

/** Serializes the creation of the first audit key across replicas (`pg_advisory_xact_lock`). */
const AUDIT_KEY_LOCK = 0x6d617861_6175n;

/** All SQL of the audit trail. Every method runs under the tenant's row-level security. */
export class AuditRepository {
  constructor(private readonly db: Database) {}

  /**
   * Appends in the caller's transaction, after locking the tenant's chain head: concurrent
   * appends for one tenant queue on that row, so `seq` has no gaps and no duplicates.
   */
  async append(tx: Tx, entry: NewAuditEvent): Promise<AuditEventRow> {
    await tx
      .insert(auditChainHeads)
      .values({ tenantId: entry.tenantId, seq: 0, hash: GENESIS_HASH })
      .onConflictDoNothing();
    const head = onlyRow(
      await tx
        .select()
        .from(auditChainHeads)
        .where(eq(auditChainHeads.tenantId, entry.tenantId))
        .for('update'),
      "the tenant's audit chain head",
    );
    const fields = { ...entry, seq: head.seq + 1, id: uuidv7() };
    const hash = chainHash(head.hash, fields);
    const row = onlyRow(
      await tx
        .insert(auditEvents)
        .values({ ...fields, prevHash: head.hash, hash })
        .returning(),
      'the inserted audit event',
    );
    await tx
      .update(auditChainHeads)
      .set({ seq: fields.seq, hash })
      .where(eq(auditChainHeads.tenantId, entry.tenantId));
    return row;
  }

  /** Entries after `afterSeq`, oldest first. */
  page(tenantId: string, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.tenantId, tenantId), gt(auditEvents.seq, afterSeq)))
        .orderBy(asc(auditEvents.seq))
        .limit(limit),
    );
  }

  /** Newest first, with optional filters; `beforeSeq` is the cursor. */
  list(
    tenantId: string,
    filter: {
      action?: string | undefined;
      actorId?: string | undefined;
      targetId?: string | undefined;
      beforeSeq?: number | undefined;
      limit: number;
    },
  ): Promise<AuditEventRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.tenantId, tenantId),
            filter.action ? eq(auditEvents.action, filter.action) : undefined,
            filter.actorId ? eq(auditEvents.actorId, filter.actorId) : undefined,
            filter.targetId ? eq(auditEvents.targetId, filter.targetId) : undefined,
            filter.beforeSeq ? lt(auditEvents.seq, filter.beforeSeq) : undefined,
          ),
        )
        .orderBy(desc(auditEvents.seq))
        .limit(filter.limit),
    );
  }

  head(tenantId: string): Promise<{ seq: number; hash: string } | undefined> {
    return withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .select({ seq: auditChainHeads.seq, hash: auditChainHeads.hash })
        .from(auditChainHeads)
        .where(eq(auditChainHeads.tenantId, tenantId));
      return row;
    });
  }

  count(tenantId: string): Promise<number> {
    return withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(auditEvents)
        .where(eq(auditEvents.tenantId, tenantId));
      return row?.n ?? 0;
    });
  }

  /** Entries in `seq` order after `afterSeq`, up to `maxSeq`, optionally within a time range. */
  exportPage(
    tenantId: string,
    range: { afterSeq: number; maxSeq: number; from?: Date | undefined; to?: Date | undefined },
    limit: number,
  ): Promise<AuditEventRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.tenantId, tenantId),
            gt(auditEvents.seq, range.afterSeq),
            lte(auditEvents.seq, range.maxSeq),
            range.from ? gte(auditEvents.occurredAt, range.from) : undefined,
            range.to ? lte(auditEvents.occurredAt, range.to) : undefined,
          ),
        )
        .orderBy(asc(auditEvents.seq))
        .limit(limit),
    );
  }

  /** The unretired audit keys, oldest first. */
  auditKeys(): Promise<AuditKeyRow[]> {
    return this.db
      .select()
      .from(signingKeys)
      .where(and(eq(signingKeys.use, 'audit'), isNull(signingKeys.retiredAt)))
      .orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
  }

  /** An audit key by id, retired or not (old checkpoints stay verifiable). */
  async auditKey(kid: string): Promise<AuditKeyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(signingKeys)
      .where(and(eq(signingKeys.use, 'audit'), eq(signingKeys.kid, kid)));
    return row;
  }

  /**
   * The newest unretired audit key, inserting `create()` first when there is none. Replicas
   * starting together queue on an advisory lock, so exactly one first key is created.
   */
  ensureAuditKey(create: () => NewAuditKey): Promise<AuditKeyRow> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_KEY_LOCK})`);
      const [newest] = await tx
        .select()
        .from(signingKeys)
        .where(and(eq(signingKeys.use, 'audit'), isNull(signingKeys.retiredAt)))
        .orderBy(desc(signingKeys.createdAt), desc(signingKeys.kid))
        .limit(1);
      if (newest) return newest;
      return onlyRow(
        await tx
          .insert(signingKeys)
          .values({ ...create(), use: 'audit' })
          .returning(),
        'the new audit key',
      );
    });
  }

  /**
   * Checkpoints the tenant's chain head: `sign` turns the head into a checkpoint row, inserted
   * unless one exists at that `seq` already (primary key `(tenant_id, seq)`, ON CONFLICT DO
   * NOTHING), so replicas racing on one head store one row and all return it; `created` tells
   * whether it is this call's. Undefined for a tenant without events.
   */
  checkpointHead(
    tenantId: string,
    sign: (head: { seq: number; hash: string }) => CheckpointRow,
  ): Promise<{ checkpoint: CheckpointRow; created: boolean } | undefined> {
    return withTenant(this.db, tenantId, async (tx) => {
      const [head] = await tx
        .select({ seq: auditChainHeads.seq, hash: auditChainHeads.hash })
        .from(auditChainHeads)
        .where(eq(auditChainHeads.tenantId, tenantId));
      if (!head) return undefined;
      const inserted = await tx
        .insert(auditCheckpoints)
        .values(sign(head))
        .onConflictDoNothing()
        .returning({ seq: auditCheckpoints.seq });
      const checkpoint = onlyRow(
        await tx
          .select()
          .from(auditCheckpoints)
          .where(and(eq(auditCheckpoints.tenantId, tenantId), eq(auditCheckpoints.seq, head.seq))),
        'the checkpoint of the chain head',
      );
      return { checkpoint, created: inserted.length > 0 };
    });
  }

  /** Checkpoints newest first; `beforeSeq` is the cursor. */
  listCheckpoints(
    tenantId: string,
    page: { beforeSeq?: number | undefined; limit: number },
  ): Promise<CheckpointRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(auditCheckpoints)
        .where(
          and(
            eq(auditCheckpoints.tenantId, tenantId),
            page.beforeSeq ? lt(auditCheckpoints.seq, page.beforeSeq) : undefined,
          ),
        )
        .orderBy(desc(auditCheckpoints.seq))
        .limit(page.limit),
    );
  }

  /** Checkpoints with `afterSeq < seq <= uptoSeq`, oldest first. */
  checkpointsBetween(
    tenantId: string,
    afterSeq: number,
    uptoSeq: number,
    limit: number,
  ): Promise<CheckpointRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(auditCheckpoints)
        .where(
          and(
            eq(auditCheckpoints.tenantId, tenantId),
            gt(auditCheckpoints.seq, afterSeq),
            lte(auditCheckpoints.seq, uptoSeq),
          ),
        )
        .orderBy(asc(auditCheckpoints.seq))
        .limit(limit),
    );
  }

  /**
   * Tenants whose chain head has no checkpoint yet (every tenant's, so system context: this runs
   * in the checkpoint scheduler, never for a request).
   */
  headsWithoutCheckpoint(): Promise<{ tenantId: string; seq: number }[]> {
    return withSystem(this.db, (tx) =>
      tx
        .select({ tenantId: auditChainHeads.tenantId, seq: auditChainHeads.seq })
        .from(auditChainHeads)
        .where(
          and(
            gt(auditChainHeads.seq, 0),
            sql`not exists (select 1 from ${auditCheckpoints} where ${auditCheckpoints.tenantId} = ${auditChainHeads.tenantId} and ${auditCheckpoints.seq} = ${auditChainHeads.seq})`,
          ),
        )
        .orderBy(asc(auditChainHeads.tenantId)),
    );
  }
}
