import type { WebhookProvider } from '@maxai/integrations';
import { withTenant, type Database, type Tx } from '@maxai/db';
import type { TenantSecrets } from '../../platform/crypto/envelope';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { isAllowed } from '../iam/permissions';
import type { DomainEventRow, EventFilter, EventsService } from '../events/events.service';
import { deliveryBodyAad } from './webhook-ingress.service';
import type {
  DeliveryFilter,
  EndpointStats,
  WebhookDeliveryRow,
  WebhooksRepository,
} from './webhooks.repository';

export interface DeliveryDetail {
  delivery: WebhookDeliveryRow;
  events: DomainEventRow[];
  /** The exact request body, only when asked for and allowed (`webhooks:manage`). */
  rawBody?: string | null | undefined;
}

/** Reading what arrived, replaying it, and the endpoints' figures. */
export class WebhookDeliveriesService {
  constructor(
    private readonly db: Database,
    private readonly repository: WebhooksRepository,
    private readonly events: EventsService,
    private readonly secrets: TenantSecrets,
    private readonly audit: AuditService,
    private readonly providers: ReadonlyMap<string, WebhookProvider>,
  ) {}

  async list(
    caller: Authenticated,
    tenantId: string,
    filter: DeliveryFilter & { limit: number; cursor?: string | undefined },
  ): Promise<{ rows: WebhookDeliveryRow[]; events: DomainEventRow[] }> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      this.repository.deliveries(tx, tenantId, filter),
    );
    const visible = rows.filter((row) =>
      isAllowed(caller.principal, 'webhooks:read', {
        tenantId,
        clientId: row.clientId ?? undefined,
      }),
    );
    const events = await this.events.ofDeliveries(
      tenantId,
      visible.map((r) => r.id),
    );
    return { rows: visible, events };
  }

  /** Platform staff: deliveries across tenants (system context), newest first. */
  listAcrossTenants(
    filter: DeliveryFilter & { tenantId?: string | undefined; limit: number; cursor?: string },
  ): Promise<WebhookDeliveryRow[]> {
    return this.repository.deliveriesAcrossTenants(filter);
  }

  async get(
    caller: Authenticated,
    tenantId: string,
    id: string,
    options: { raw: boolean },
    meta: RequestMeta,
  ): Promise<DeliveryDetail> {
    return withTenant(this.db, tenantId, async (tx) => {
      const delivery = await this.repository.delivery(tx, tenantId, id);
      if (!delivery) throw notFound();
      const clientId = delivery.clientId ?? undefined;
      assertPermission(caller, 'webhooks:read', tenantId, clientId);
      const events = await this.events.ofDeliveries(tenantId, [id]);
      if (!options.raw) return { delivery, events };
      // The raw payload is customer data (messages, phone numbers): a stronger permission, and
      // every reading is on the audit record.
      assertPermission(caller, 'webhooks:manage', tenantId, clientId);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'webhook_delivery.raw_viewed',
        target: { type: 'webhook_delivery', id },
        ...meta,
      });
      const rawBody = delivery.bodySealed
        ? Buffer.from(
            await this.secrets.open(tx, tenantId, delivery.bodySealed, deliveryBodyAad(id)),
            'base64',
          ).toString('utf8')
        : null;
      return { delivery, events, rawBody };
    });
  }

  async stats(caller: Authenticated, tenantId: string, endpointId: string): Promise<EndpointStats> {
    return withTenant(this.db, tenantId, async (tx) => {
      const endpoint = await this.repository.endpoint(tx, tenantId, endpointId);
      if (!endpoint) throw notFound();
      assertPermission(caller, 'webhooks:read', tenantId, endpoint.clientId ?? undefined);
      return this.repository.endpointStats(tx, tenantId, endpointId);
    });
  }

  /**
   * Replays one delivery: its events are dispatched again; a dead letter (unprocessable) is
   * normalized again from its stored body first, so a fixed normalizer recovers it.
   */
  async replayDelivery(
    caller: Authenticated,
    tenantId: string,
    id: string,
    meta: RequestMeta,
  ): Promise<{ replayed: string[]; recovered: boolean }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const delivery = await this.repository.delivery(tx, tenantId, id);
      if (!delivery) throw notFound();
      assertPermission(caller, 'webhooks:replay', tenantId, delivery.clientId ?? undefined);
      let recovered = false;
      let replayed: string[];
      if (delivery.status === 'unprocessable') {
        replayed = await this.renormalize(tx, delivery);
        recovered = replayed.length > 0;
      } else {
        replayed = await this.events.replay(tx, tenantId, { deliveryId: id }, 1000);
      }
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'webhook_delivery.replayed',
        target: { type: 'webhook_delivery', id },
        changes: { events: replayed.length, recovered },
        ...meta,
      });
      return { replayed, recovered };
    });
  }

  /** Re-dispatches a filtered set of events (at most `max`), audited as one action. */
  async replayEvents(
    caller: Authenticated,
    tenantId: string,
    filter: EventFilter & { ids?: string[] | undefined },
    max: number,
    meta: RequestMeta,
  ): Promise<string[]> {
    assertPermission(caller, 'webhooks:replay', tenantId, filter.clientId);
    return withTenant(this.db, tenantId, async (tx) => {
      const replayed = await this.events.replay(tx, tenantId, filter, max);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'events.replayed',
        changes: {
          filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() },
          count: replayed.length,
        },
        ...meta,
      });
      return replayed;
    });
  }

  private async renormalize(tx: Tx, delivery: WebhookDeliveryRow): Promise<string[]> {
    const provider = this.providers.get(delivery.provider);
    if (!provider || !delivery.bodySealed) {
      throw new ProblemError(
        'conflict',
        'This dead letter cannot be replayed: its raw body was purged or its provider is gone.',
      );
    }
    const rawBody = Buffer.from(
      await this.secrets.open(
        tx,
        delivery.tenantId,
        delivery.bodySealed,
        deliveryBodyAad(delivery.id),
      ),
      'base64',
    );
    const normalized = provider.normalize({ rawBody, headers: delivery.headers, publicUrl: '' });
    if (!normalized.ok) return [];
    const ids: string[] = [];
    for (const event of normalized.events) {
      ids.push(
        await this.events.emit(tx, {
          tenantId: delivery.tenantId,
          clientId: delivery.clientId,
          agentId: delivery.agentId,
          type: event.type,
          source: `/maxai/webhooks/${delivery.provider}`,
          subject: event.subject,
          time: event.time ? new Date(event.time) : undefined,
          deliveryId: delivery.id,
          data: event.data,
        }),
      );
    }
    await this.repository.markRecovered(
      tx,
      delivery.tenantId,
      delivery.id,
      normalized.providerEventType,
    );
    return ids;
  }
}
