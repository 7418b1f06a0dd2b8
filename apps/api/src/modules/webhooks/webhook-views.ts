import type { DomainEventRow } from '../events/events.service';
import type { DeliveryView, EndpointView, EventView } from './dto/webhooks.dto';
import type { ExternalIdRow, WebhookDeliveryRow, WebhookEndpointRow } from './webhooks.repository';

export const endpointUrl = (base: string, row: WebhookEndpointRow) =>
  `${base}/webhooks/${row.provider}/${row.id}`;

export const endpointView = (base: string, row: WebhookEndpointRow): EndpointView => ({
  id: row.id,
  provider: row.provider as EndpointView['provider'],
  name: row.name,
  clientId: row.clientId,
  connectionId: row.connectionId,
  status: row.status,
  rateLimitPerMinute: row.rateLimitPerMinute,
  url: endpointUrl(base, row),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export const eventView = (row: DomainEventRow): EventView => ({
  id: row.id,
  type: row.type,
  subject: row.subject,
  time: row.time.toISOString(),
  dispatchedAt: row.dispatchedAt?.toISOString() ?? null,
  dispatchCount: row.dispatchCount,
  data: row.data,
});

export const deliveryView = (row: WebhookDeliveryRow, events?: DomainEventRow[]): DeliveryView => ({
  id: row.id,
  tenantId: row.tenantId,
  endpointId: row.endpointId,
  provider: row.provider,
  clientId: row.clientId,
  agentId: row.agentId,
  providerEventId: row.providerEventId,
  providerEventType: row.providerEventType,
  status: row.status,
  failureReason: row.failureReason,
  signatureScheme: row.signatureScheme,
  bodyBytes: row.bodyBytes,
  bodySha256: row.bodySha256,
  receivedAt: row.receivedAt.toISOString(),
  duplicateCount: row.duplicateCount,
  lastDuplicateAt: row.lastDuplicateAt?.toISOString() ?? null,
  purgedAt: row.purgedAt?.toISOString() ?? null,
  ...(events ? { events: events.filter((e) => e.deliveryId === row.id).map(eventView) } : {}),
});

export const mappingView = (row: ExternalIdRow) => ({
  id: row.id,
  provider: row.provider,
  kind: row.kind,
  externalId: row.externalId,
  clientId: row.clientId,
  agentId: row.agentId,
  createdAt: row.createdAt.toISOString(),
});
