import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import {
  auditChainHeads,
  auditEvents,
  onlyRow,
  withTenant,
  type Database,
  type Tx,
} from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import { chainHash, GENESIS_HASH } from './audit-chain';

export type AuditEventRow = typeof auditEvents.$inferSelect;
export type NewAuditEvent = Omit<AuditEventRow, 'seq' | 'id' | 'prevHash' | 'hash'>;

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
}
