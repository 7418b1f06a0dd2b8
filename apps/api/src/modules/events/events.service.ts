import { domainEvents, withTenant, type Database, type Tx } from '@maxai/db';
import { and, desc, eq, lt } from 'drizzle-orm';
import { requestContext } from '../../platform/http/request-context';

export type DomainEventRow = typeof domainEvents.$inferSelect;

export interface NewDomainEvent {
  tenantId: string;
  clientId?: string | null | undefined;
  /** `maxai.<context>.<entity>.<happened>`, e.g. `maxai.integrations.connection.needs_reauth`. */
  type: string;
  /** The producing context, a URI reference: `/maxai/integrations`. */
  source: string;
  subject?: string | undefined;
  data: Record<string, unknown>;
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
    correlationid: row.correlationId,
    data: row.data,
  };
}

/** Appends domain events in the caller's transaction and lists a tenant's events. */
export class EventsService {
  constructor(private readonly db: Database) {}

  async emit(tx: Tx, event: NewDomainEvent): Promise<void> {
    await tx.insert(domainEvents).values({
      tenantId: event.tenantId,
      clientId: event.clientId ?? null,
      type: event.type,
      source: event.source,
      subject: event.subject ?? null,
      correlationId: requestContext.current()?.correlationId ?? null,
      data: event.data,
    });
  }

  list(
    tenantId: string,
    query: { type?: string | undefined; limit: number; cursor?: string | undefined },
  ): Promise<DomainEventRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(domainEvents)
        .where(
          and(
            eq(domainEvents.tenantId, tenantId),
            query.type ? eq(domainEvents.type, query.type) : undefined,
            query.cursor ? lt(domainEvents.id, query.cursor) : undefined,
          ),
        )
        .orderBy(desc(domainEvents.id))
        .limit(query.limit),
    );
  }
}
