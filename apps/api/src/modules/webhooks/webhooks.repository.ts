import {
  agents,
  externalIds,
  onlyRow,
  webhookDeliveries,
  webhookEndpoints,
  withSystem,
  type Database,
  type Tx,
} from '@maxai/db';
import { and, count, desc, eq, gte, inArray, isNotNull, lt, max, sql, sum } from 'drizzle-orm';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type NewWebhookEndpointRow = typeof webhookEndpoints.$inferInsert;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDeliveryRow = typeof webhookDeliveries.$inferInsert;
export type ExternalIdRow = typeof externalIds.$inferSelect;

export interface DeliveryFilter {
  provider?: string | undefined;
  status?: 'accepted' | 'unprocessable' | undefined;
  endpointId?: string | undefined;
  clientId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface EndpointStats {
  accepted: number;
  unprocessable: number;
  duplicates: number;
  lastReceivedAt: Date | null;
}

/** The filters every delivery listing shares, tenant-scoped or across tenants. */
function deliveryConditions(filter: DeliveryFilter & { cursor?: string | undefined }) {
  return and(
    filter.provider ? eq(webhookDeliveries.provider, filter.provider) : undefined,
    filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
    filter.endpointId ? eq(webhookDeliveries.endpointId, filter.endpointId) : undefined,
    filter.clientId ? eq(webhookDeliveries.clientId, filter.clientId) : undefined,
    filter.from ? gte(webhookDeliveries.receivedAt, filter.from) : undefined,
    filter.to ? lt(webhookDeliveries.receivedAt, filter.to) : undefined,
    filter.cursor ? lt(webhookDeliveries.id, filter.cursor) : undefined,
  );
}

/** All SQL of the webhooks context; tenantId first, and every query filtered by it. */
export class WebhooksRepository {
  constructor(private readonly db: Database) {}

  /**
   * The one lookup made before the tenant is known: an endpoint by its (unguessable) id, in
   * system context. Nothing else on the ingress path reads across tenants.
   */
  async endpointForIngress(id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await withSystem(this.db, (tx) =>
      tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)),
    );
    return row;
  }

  async insertEndpoint(tx: Tx, row: NewWebhookEndpointRow): Promise<WebhookEndpointRow> {
    return onlyRow(await tx.insert(webhookEndpoints).values(row).returning(), 'the inserted row');
  }

  async endpoint(tx: Tx, tenantId: string, id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)));
    return row;
  }

  endpoints(tx: Tx, tenantId: string, clientId?: string): Promise<WebhookEndpointRow[]> {
    return tx
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.tenantId, tenantId),
          clientId ? eq(webhookEndpoints.clientId, clientId) : undefined,
        ),
      )
      .orderBy(webhookEndpoints.createdAt);
  }

  async updateEndpoint(
    tx: Tx,
    tenantId: string,
    id: string,
    changes: Partial<
      Pick<NewWebhookEndpointRow, 'name' | 'status' | 'rateLimitPerMinute' | 'secretsSealed'>
    >,
  ): Promise<WebhookEndpointRow | undefined> {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ ...changes, updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
      .returning();
    return row;
  }

  async deleteEndpoint(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  }

  /**
   * Stores a delivery, or — when its provider event id was seen before — counts the redelivery
   * on the first one. Answers the stored row's id and whether this call inserted it.
   */
  async storeDelivery(
    tx: Tx,
    row: NewWebhookDeliveryRow,
  ): Promise<{ id: string; inserted: boolean }> {
    return onlyRow(
      await tx
        .insert(webhookDeliveries)
        .values(row)
        .onConflictDoUpdate({
          target: [
            webhookDeliveries.tenantId,
            webhookDeliveries.provider,
            webhookDeliveries.providerEventId,
          ],
          set: {
            duplicateCount: sql`${webhookDeliveries.duplicateCount} + 1`,
            lastDuplicateAt: sql`now()`,
          },
        })
        .returning({ id: webhookDeliveries.id, inserted: sql<boolean>`(xmax = 0)` }),
      'the upserted row',
    );
  }

  deliveries(
    tx: Tx,
    tenantId: string,
    filter: DeliveryFilter & { limit: number; cursor?: string | undefined },
  ): Promise<WebhookDeliveryRow[]> {
    return tx
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenantId), deliveryConditions(filter)))
      .orderBy(desc(webhookDeliveries.id))
      .limit(filter.limit);
  }

  /** Platform staff's view across tenants (system context). */
  deliveriesAcrossTenants(
    filter: DeliveryFilter & { tenantId?: string | undefined; limit: number; cursor?: string },
  ): Promise<WebhookDeliveryRow[]> {
    return withSystem(this.db, (tx) =>
      tx
        .select()
        .from(webhookDeliveries)
        .where(
          and(
            filter.tenantId ? eq(webhookDeliveries.tenantId, filter.tenantId) : undefined,
            deliveryConditions(filter),
          ),
        )
        .orderBy(desc(webhookDeliveries.id))
        .limit(filter.limit),
    );
  }

  /** A dead letter whose replay normalized: it counts as accepted from now on. */
  async markRecovered(
    tx: Tx,
    tenantId: string,
    id: string,
    providerEventType: string,
  ): Promise<void> {
    await tx
      .update(webhookDeliveries)
      .set({ status: 'accepted', failureReason: null, providerEventType })
      .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, id)));
  }

  async delivery(tx: Tx, tenantId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
    const [row] = await tx
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, id)));
    return row;
  }

  async endpointStats(tx: Tx, tenantId: string, endpointId: string): Promise<EndpointStats> {
    const rows = await tx
      .select({
        status: webhookDeliveries.status,
        deliveries: count(),
        duplicates: sum(webhookDeliveries.duplicateCount).mapWith(Number),
        last: max(webhookDeliveries.receivedAt),
      })
      .from(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.endpointId, endpointId)),
      )
      .groupBy(webhookDeliveries.status);
    const stats: EndpointStats = {
      accepted: 0,
      unprocessable: 0,
      duplicates: 0,
      lastReceivedAt: null,
    };
    for (const row of rows) {
      stats[row.status] = row.deliveries;
      stats.duplicates += row.duplicates;
      if (row.last && (!stats.lastReceivedAt || row.last > stats.lastReceivedAt)) {
        stats.lastReceivedAt = row.last;
      }
    }
    return stats;
  }

  /** Drops raw bodies received before `before` (system context: the retention sweep). */
  purgeBodies(before: Date, batch: number): Promise<number> {
    return withSystem(this.db, async (tx) => {
      const due = await tx
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(
          and(isNotNull(webhookDeliveries.bodySealed), lt(webhookDeliveries.receivedAt, before)),
        )
        .limit(batch)
        .for('update', { skipLocked: true });
      if (due.length === 0) return 0;
      await tx
        .update(webhookDeliveries)
        .set({ bodySealed: null, purgedAt: new Date() })
        .where(
          inArray(
            webhookDeliveries.id,
            due.map((r) => r.id),
          ),
        );
      return due.length;
    });
  }

  async insertExternalId(tx: Tx, row: typeof externalIds.$inferInsert): Promise<ExternalIdRow> {
    return onlyRow(await tx.insert(externalIds).values(row).returning(), 'the inserted row');
  }

  externalIds(tx: Tx, tenantId: string, clientId?: string): Promise<ExternalIdRow[]> {
    return tx
      .select()
      .from(externalIds)
      .where(
        and(
          eq(externalIds.tenantId, tenantId),
          clientId ? eq(externalIds.clientId, clientId) : undefined,
        ),
      )
      .orderBy(externalIds.createdAt);
  }

  async externalIdById(tx: Tx, tenantId: string, id: string): Promise<ExternalIdRow | undefined> {
    const [row] = await tx
      .select()
      .from(externalIds)
      .where(and(eq(externalIds.tenantId, tenantId), eq(externalIds.id, id)));
    return row;
  }

  async agentOfClient(
    tx: Tx,
    tenantId: string,
    clientId: string,
    agentId: string,
  ): Promise<boolean> {
    const [row] = await tx
      .select({ id: agents.id })
      .from(agents)
      .where(
        and(eq(agents.tenantId, tenantId), eq(agents.clientId, clientId), eq(agents.id, agentId)),
      );
    return row !== undefined;
  }

  async deleteExternalId(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx
      .delete(externalIds)
      .where(and(eq(externalIds.tenantId, tenantId), eq(externalIds.id, id)))
      .returning({ id: externalIds.id });
    return rows.length > 0;
  }

  /** The client/agent a provider identifier belongs to (one indexed lookup per kind given). */
  async lookupExternal(
    tx: Tx,
    tenantId: string,
    provider: string,
    keys: { kind: 'voice_agent' | 'phone_number' | 'location'; externalId: string }[],
  ): Promise<ExternalIdRow | undefined> {
    for (const key of keys) {
      const [row] = await tx
        .select()
        .from(externalIds)
        .where(
          and(
            eq(externalIds.tenantId, tenantId),
            eq(externalIds.provider, provider),
            eq(externalIds.kind, key.kind),
            eq(externalIds.externalId, key.externalId),
          ),
        );
      if (row) return row;
    }
    return undefined;
  }
}
