import { connections, oauthStates, onlyRow, type Tx } from '@maxai/db';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';

export type ConnectionRow = typeof connections.$inferSelect;
export type OAuthStateRow = typeof oauthStates.$inferSelect;

/** SQL of connections and pending OAuth states; every call runs in its tenant's transaction. */
export class ConnectionsRepository {
  async insert(tx: Tx, row: typeof connections.$inferInsert): Promise<ConnectionRow> {
    return onlyRow(await tx.insert(connections).values(row).returning(), 'the new connection');
  }

  list(tx: Tx, tenantId: string): Promise<ConnectionRow[]> {
    return tx
      .select()
      .from(connections)
      .where(eq(connections.tenantId, tenantId))
      .orderBy(asc(connections.id));
  }

  async find(tx: Tx, tenantId: string, id: string): Promise<ConnectionRow | undefined> {
    const [row] = await tx
      .select()
      .from(connections)
      .where(and(eq(connections.tenantId, tenantId), eq(connections.id, id)));
    return row;
  }

  /** The row locked for a token refresh: concurrent refreshers queue behind the first. */
  async findForUpdate(tx: Tx, tenantId: string, id: string): Promise<ConnectionRow | undefined> {
    const [row] = await tx
      .select()
      .from(connections)
      .where(and(eq(connections.tenantId, tenantId), eq(connections.id, id)))
      .for('update');
    return row;
  }

  async update(
    tx: Tx,
    tenantId: string,
    id: string,
    patch: Partial<typeof connections.$inferInsert>,
  ): Promise<void> {
    await tx
      .update(connections)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(and(eq(connections.tenantId, tenantId), eq(connections.id, id)));
  }

  async delete(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx
      .delete(connections)
      .where(and(eq(connections.tenantId, tenantId), eq(connections.id, id)))
      .returning({ id: connections.id });
    return rows.length === 1;
  }

  async insertState(tx: Tx, row: typeof oauthStates.$inferInsert): Promise<void> {
    await tx.insert(oauthStates).values(row);
  }

  /** Spends a state: answers it once, only while unexpired (system context: no tenant yet). */
  async spendState(tx: Tx, stateHash: string): Promise<OAuthStateRow | undefined> {
    const [row] = await tx
      .update(oauthStates)
      .set({ usedAt: sql`now()` })
      .where(
        and(
          eq(oauthStates.stateHash, stateHash),
          isNull(oauthStates.usedAt),
          gt(oauthStates.expiresAt, sql`now()`),
        ),
      )
      .returning();
    return row;
  }
}
