import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { agents, clients, onlyRow, type Tx } from '@maxai/db';

export type ClientRow = typeof clients.$inferSelect;
export type AgentRow = typeof agents.$inferSelect;

/** SQL of clients and agents. `tenantId` comes first and every call runs inside `withTenant`. */
export class TenancyRepository {
  listClients(
    tx: Tx,
    tenantId: string,
    filter: { onlyIds?: string[] | undefined; limit: number; cursor?: string | undefined },
  ): Promise<ClientRow[]> {
    return tx
      .select()
      .from(clients)
      .where(
        and(
          eq(clients.tenantId, tenantId),
          filter.onlyIds ? inArray(clients.id, filter.onlyIds) : undefined,
          filter.cursor ? gt(clients.id, filter.cursor) : undefined,
        ),
      )
      .orderBy(asc(clients.id))
      .limit(filter.limit);
  }

  async findClient(tx: Tx, tenantId: string, clientId: string): Promise<ClientRow | undefined> {
    const [row] = await tx
      .select()
      .from(clients)
      .where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)));
    return row;
  }

  async insertClient(tx: Tx, tenantId: string, values: { name: string }): Promise<ClientRow> {
    return onlyRow(
      await tx
        .insert(clients)
        .values({ tenantId, ...values })
        .returning(),
      'the inserted client',
    );
  }

  async updateClient(
    tx: Tx,
    tenantId: string,
    clientId: string,
    values: Partial<Pick<ClientRow, 'name' | 'status'>>,
  ): Promise<ClientRow | undefined> {
    const [row] = await tx
      .update(clients)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)))
      .returning();
    return row;
  }

  async deleteClient(tx: Tx, tenantId: string, clientId: string): Promise<void> {
    await tx
      .delete(agents)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.clientId, clientId)));
    await tx.delete(clients).where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)));
  }

  listAgents(
    tx: Tx,
    tenantId: string,
    clientId: string,
    filter: { limit: number; cursor?: string | undefined },
  ): Promise<AgentRow[]> {
    return tx
      .select()
      .from(agents)
      .where(
        and(
          eq(agents.tenantId, tenantId),
          eq(agents.clientId, clientId),
          filter.cursor ? gt(agents.id, filter.cursor) : undefined,
        ),
      )
      .orderBy(asc(agents.id))
      .limit(filter.limit);
  }

  async findAgent(tx: Tx, tenantId: string, agentId: string): Promise<AgentRow | undefined> {
    const [row] = await tx
      .select()
      .from(agents)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)));
    return row;
  }

  async insertAgent(
    tx: Tx,
    tenantId: string,
    values: Pick<AgentRow, 'clientId' | 'name' | 'channel' | 'status' | 'timezone' | 'settings'>,
  ): Promise<AgentRow> {
    return onlyRow(
      await tx
        .insert(agents)
        .values({ tenantId, ...values })
        .returning(),
      'the inserted agent',
    );
  }

  async updateAgent(
    tx: Tx,
    tenantId: string,
    agentId: string,
    values: Partial<Pick<AgentRow, 'name' | 'status' | 'timezone' | 'settings'>>,
  ): Promise<AgentRow | undefined> {
    const [row] = await tx
      .update(agents)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
      .returning();
    return row;
  }

  async deleteAgent(tx: Tx, tenantId: string, agentId: string): Promise<void> {
    await tx.delete(agents).where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)));
  }
}
