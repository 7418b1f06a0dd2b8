import { clients, flowRuns, flowRunSteps, flows, flowVersions, onlyRow, type Tx } from '@maxai/db';
import { and, desc, eq, gte, inArray, lt, notInArray, sql } from 'drizzle-orm';
import type { FlowRow, FlowVersionRow, RunRow } from './runtime/runs.repository';

export interface RunFilter {
  flowId?: string | undefined;
  status?: RunRow['status'] | undefined;
  clientId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The flows API's SQL (the run engine's is in runtime/runs.repository.ts). */
export class FlowsRepository {
  async insertFlow(tx: Tx, row: typeof flows.$inferInsert): Promise<FlowRow> {
    return onlyRow(await tx.insert(flows).values(row).returning(), 'the inserted row');
  }

  async clientExists(tx: Tx, tenantId: string, clientId: string): Promise<boolean> {
    const [row] = await tx
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)));
    return row !== undefined;
  }

  async flow(tx: Tx, tenantId: string, id: string): Promise<FlowRow | undefined> {
    const [row] = await tx
      .select()
      .from(flows)
      .where(and(eq(flows.tenantId, tenantId), eq(flows.id, id)));
    return row;
  }

  flows(tx: Tx, tenantId: string): Promise<FlowRow[]> {
    return tx.select().from(flows).where(eq(flows.tenantId, tenantId)).orderBy(flows.createdAt);
  }

  async updateFlow(
    tx: Tx,
    tenantId: string,
    id: string,
    changes: Partial<typeof flows.$inferInsert>,
  ): Promise<FlowRow> {
    const rows = await tx
      .update(flows)
      .set({ ...changes, updatedAt: new Date() })
      .where(and(eq(flows.tenantId, tenantId), eq(flows.id, id)))
      .returning();
    return onlyRow(rows, 'the updated flow');
  }

  async deleteFlow(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.delete(flows).where(and(eq(flows.tenantId, tenantId), eq(flows.id, id)));
  }

  /** Whether any of a flow's runs has not ended (queued, running, waiting). */
  async hasUnfinishedRuns(tx: Tx, tenantId: string, flowId: string): Promise<boolean> {
    const rows = await tx
      .select({ id: flowRuns.id })
      .from(flowRuns)
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          eq(flowRuns.flowId, flowId),
          notInArray(flowRuns.status, ['completed', 'failed', 'cancelled', 'timed_out']),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  async latestVersion(tx: Tx, tenantId: string, flowId: string): Promise<number> {
    const rows = await tx
      .select({ latest: sql<number>`coalesce(max(${flowVersions.version}), 0)::int` })
      .from(flowVersions)
      .where(and(eq(flowVersions.tenantId, tenantId), eq(flowVersions.flowId, flowId)));
    return onlyRow(rows, 'the latest version').latest;
  }

  async insertVersion(tx: Tx, row: typeof flowVersions.$inferInsert): Promise<FlowVersionRow> {
    return onlyRow(await tx.insert(flowVersions).values(row).returning(), 'the inserted row');
  }

  versions(tx: Tx, tenantId: string, flowId: string): Promise<FlowVersionRow[]> {
    return tx
      .select()
      .from(flowVersions)
      .where(and(eq(flowVersions.tenantId, tenantId), eq(flowVersions.flowId, flowId)))
      .orderBy(desc(flowVersions.version));
  }

  runs(tx: Tx, tenantId: string, filter: RunFilter): Promise<RunRow[]> {
    return tx
      .select()
      .from(flowRuns)
      .where(
        and(
          eq(flowRuns.tenantId, tenantId),
          filter.flowId ? eq(flowRuns.flowId, filter.flowId) : undefined,
          filter.status ? eq(flowRuns.status, filter.status) : undefined,
          filter.clientId ? eq(flowRuns.clientId, filter.clientId) : undefined,
          filter.from ? gte(flowRuns.queuedAt, filter.from) : undefined,
          filter.to ? lt(flowRuns.queuedAt, filter.to) : undefined,
          filter.cursor ? lt(flowRuns.id, filter.cursor) : undefined,
        ),
      )
      .orderBy(desc(flowRuns.id))
      .limit(filter.limit);
  }

  async cancelUnfinishedSteps(tx: Tx, tenantId: string, runId: string): Promise<void> {
    await tx
      .update(flowRunSteps)
      .set({ status: 'cancelled', finishedAt: new Date() })
      .where(
        and(
          eq(flowRunSteps.tenantId, tenantId),
          eq(flowRunSteps.runId, runId),
          inArray(flowRunSteps.status, ['running', 'waiting']),
        ),
      );
  }
}
