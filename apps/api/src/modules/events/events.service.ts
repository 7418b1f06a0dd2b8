import type { JobQueue } from '@maxai/core';
import { domainEvents, withTenant, type Database, type Tx } from '@maxai/db';
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { requestContext } from '../../platform/http/request-context';
import { DISPATCH_EVENT_JOB } from './dispatch-event.job';

export type DomainEventRow = typeof domainEvents.$inferSelect;

export interface NewDomainEvent {
  tenantId: string;
  clientId?: string | null | undefined;
  agentId?: string | null | undefined;
  /** `maxai.<context>.<entity>.<happened>`, e.g. `maxai.integrations.connection.needs_reauth`. */
  type: string;
  /** The producing context, a URI reference: `/maxai/integrations`. */
  source: string;
  subject?: string | undefined;
  /** When it happened (the provider's time for provider events); now when absent. */
  time?: Date | undefined;
  deliveryId?: string | undefined;
  data: Record<string, unknown>;
}

export interface EventFilter {
  type?: string | undefined;
  source?: string | undefined;
  clientId?: string | undefined;
  deliveryId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** The CloudEvents 1.0 JSON form of a stored event (with our tenant/client/correlation extensions). */
export function toCloudEvent(row: DomainEventRow) {
  return {
    specversion: '1.0' as const,
    id: row.id,
    type: row.type,
    source: row.source,
    subject: row.subject,
    time: row.time.toISOString(),
    datacontenttype: 'application/json' as const,
    tenantid: row.tenantId,
    clientid: row.clientId,
    agentid: row.agentId,
    correlationid: row.correlationId,
    data: row.data,
  };
}
export type CloudEvent = ReturnType<typeof toCloudEvent>;

const filterSql = (tenantId: string, filter: EventFilter) =>
  and(
    eq(domainEvents.tenantId, tenantId),
    filter.type ? eq(domainEvents.type, filter.type) : undefined,
    filter.source ? eq(domainEvents.source, filter.source) : undefined,
    filter.clientId ? eq(domainEvents.clientId, filter.clientId) : undefined,
    filter.deliveryId ? eq(domainEvents.deliveryId, filter.deliveryId) : undefined,
    filter.from ? gte(domainEvents.time, filter.from) : undefined,
    filter.to ? lt(domainEvents.time, filter.to) : undefined,
  );

/**
 * The event log and its outbox: an event is appended in the transaction of the change it
 * describes, together with the job that dispatches it to subscribers, so it exists — and will be
 * dispatched — exactly when its change commits.
 */
export class EventsService {
  constructor(
    private readonly db: Database,
    private readonly queue: JobQueue<Tx>,
  ) {}

  async emit(tx: Tx, event: NewDomainEvent): Promise<string> {
    const id = uuidv7();
    const correlationId = requestContext.current()?.correlationId ?? null;
    await tx.insert(domainEvents).values({
      tenantId: event.tenantId,
      id,
      clientId: event.clientId ?? null,
      agentId: event.agentId ?? null,
      type: event.type,
      source: event.source,
      subject: event.subject ?? null,
      ...(event.time ? { time: event.time } : {}),
      deliveryId: event.deliveryId ?? null,
      correlationId,
      data: event.data,
    });
    await this.queue.enqueue(tx, DISPATCH_EVENT_JOB, {
      tenantId: event.tenantId,
      correlationId: correlationId ?? id,
      eventId: id,
    });
    return id;
  }

  async get(tenantId: string, eventId: string): Promise<CloudEvent | undefined> {
    const row = await this.getRow(tenantId, eventId);
    return row ? toCloudEvent(row) : undefined;
  }

  /** The stored row, with the dispatcher's bookkeeping (for the operations API). */
  async getRow(tenantId: string, eventId: string): Promise<DomainEventRow | undefined> {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(domainEvents)
        .where(and(eq(domainEvents.tenantId, tenantId), eq(domainEvents.id, eventId))),
    );
    return row;
  }

  async markDispatched(tenantId: string, eventId: string): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx
        .update(domainEvents)
        .set({ dispatchedAt: new Date(), dispatchCount: sql`${domainEvents.dispatchCount} + 1` })
        .where(and(eq(domainEvents.tenantId, tenantId), eq(domainEvents.id, eventId))),
    );
  }

  list(
    tenantId: string,
    query: EventFilter & { limit: number; cursor?: string | undefined },
  ): Promise<DomainEventRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(domainEvents)
        .where(
          and(
            filterSql(tenantId, query),
            query.cursor ? lt(domainEvents.id, query.cursor) : undefined,
          ),
        )
        .orderBy(desc(domainEvents.id))
        .limit(query.limit),
    );
  }

  /** The events of some deliveries (one query for a page of them). */
  ofDeliveries(tenantId: string, deliveryIds: string[]): Promise<DomainEventRow[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(domainEvents)
        .where(
          and(eq(domainEvents.tenantId, tenantId), inArray(domainEvents.deliveryId, deliveryIds)),
        )
        .orderBy(domainEvents.id),
    );
  }

  /**
   * Dispatches stored events again (a new dispatch job each, not deduplicated against the
   * first). Answers the ids replayed, at most `max`, oldest first. The caller audits, in `tx`.
   */
  async replay(
    tx: Tx,
    tenantId: string,
    filter: EventFilter & { ids?: string[] | undefined },
    max: number,
  ): Promise<string[]> {
    const rows = await tx
      .select({ id: domainEvents.id })
      .from(domainEvents)
      .where(
        and(
          filterSql(tenantId, filter),
          filter.ids ? inArray(domainEvents.id, filter.ids) : undefined,
        ),
      )
      .orderBy(domainEvents.id)
      .limit(max);
    const correlationId = requestContext.current()?.correlationId ?? uuidv7();
    for (const { id } of rows) {
      await this.queue.enqueue(tx, DISPATCH_EVENT_JOB, { tenantId, correlationId, eventId: id });
    }
    return rows.map((r) => r.id);
  }
}
