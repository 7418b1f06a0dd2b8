import { WEBHOOK_PROVIDERS } from '@maxai/integrations';
import { EXTERNAL_ID_KINDS, WEBHOOK_DELIVERY_STATUSES } from '@maxai/db';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const uuidExample = { example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' };

export class EndpointParams extends createZodDto(
  z.object({ tenantId: z.uuid(), endpointId: z.uuid() }),
) {}
export class DeliveryParams extends createZodDto(
  z.object({ tenantId: z.uuid(), deliveryId: z.uuid() }),
) {}
export class EventParams extends createZodDto(
  z.object({ tenantId: z.uuid(), eventId: z.uuid() }),
) {}
export class MappingParams extends createZodDto(
  z.object({ tenantId: z.uuid(), mappingId: z.uuid() }),
) {}

const secretsInput = z
  .object({
    signingSecrets: z
      .array(z.string().min(8).max(512))
      .min(1)
      .max(5)
      .optional()
      .describe('Stripe: the endpoint signing secrets (whsec_…); two while rolling')
      .meta({ example: ['whsec_9a8b7c6d5e4f'] }),
    authToken: z
      .string()
      .min(8)
      .max(512)
      .optional()
      .describe('Twilio: the auth token (omit to use the connection’s)')
      .meta({ example: 'f1e2d3c4b5a6f1e2d3c4b5a6f1e2d3c4' }),
    apiKey: z
      .string()
      .min(8)
      .max(512)
      .optional()
      .describe('Retell: the API key webhooks are signed with (omit to use the connection’s)')
      .meta({ example: 'key_3b2a1c0d9e8f' }),
    ed25519PublicKeyPem: z
      .string()
      .max(8192)
      .optional()
      .describe('GoHighLevel: the published Ed25519 public key (omit for the configured one)')
      .meta({ example: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----' }),
    rsaPublicKeyPem: z
      .string()
      .max(8192)
      .optional()
      .describe('GoHighLevel: the legacy RSA public key for x-wh-signature')
      .meta({ example: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----' }),
    secret: z
      .string()
      .min(16)
      .max(512)
      .optional()
      .describe('n8n: the shared callback secret (generated when omitted)')
      .meta({ example: 'k2M3n4B5v6C7x8Z9a0S1d2F3' }),
    channelIds: z
      .array(z.string().min(1).max(64))
      .max(50)
      .optional()
      .describe('Google: the watch channel ids of ours (one is generated when omitted)')
      .meta({ example: ['maxai-calendar-1'] }),
  })
  .strict();

export class CreateEndpointBody extends createZodDto(
  z
    .object({
      provider: z.enum(WEBHOOK_PROVIDERS).meta({ example: 'stripe' }),
      name: z.string().trim().min(1).max(200).meta({ example: 'Stripe — live account' }),
      clientId: z
        .uuid()
        .optional()
        .describe('Route to one client (else the tenant)')
        .meta(uuidExample),
      connectionId: z
        .uuid()
        .optional()
        .describe('The connection the provider account belongs to')
        .meta(uuidExample),
      rateLimitPerMinute: z.int().min(1).max(600_000).optional().meta({ example: 6000 }),
      secrets: secretsInput
        .optional()
        .meta({ example: { signingSecrets: ['whsec_9a8b7c6d5e4f'] } }),
    })
    .strict(),
) {}

export class UpdateEndpointBody extends createZodDto(
  z.object({
    name: z.string().trim().min(1).max(200).optional().meta({ example: 'Stripe — live' }),
    status: z.enum(['active', 'disabled']).optional().meta({ example: 'disabled' }),
    rateLimitPerMinute: z.int().min(1).max(600_000).optional().meta({ example: 1200 }),
    secrets: secretsInput
      .optional()
      .describe('New key material: rotates the verifier’s keys')
      .meta({ example: { signingSecrets: ['whsec_new', 'whsec_old'] } }),
  }),
) {}

const endpointView = z.object({
  id: z.uuid(),
  provider: z.enum(WEBHOOK_PROVIDERS),
  name: z.string(),
  clientId: z.uuid().nullable(),
  connectionId: z.uuid().nullable(),
  status: z.enum(['active', 'disabled']),
  rateLimitPerMinute: z.int(),
  url: z.url().describe('Paste this into the provider’s webhook settings'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type EndpointView = z.infer<typeof endpointView>;
export class EndpointDto extends createZodDto(endpointView) {}
export class EndpointCreatedDto extends createZodDto(
  endpointView.extend({
    setup: z
      .record(z.string(), z.unknown())
      .describe('Generated key material to configure at the provider; shown only now'),
  }),
) {}
export class EndpointListDto extends createZodDto(z.object({ data: z.array(endpointView) })) {}
export class EndpointStatsDto extends createZodDto(
  z.object({
    accepted: z.int(),
    unprocessable: z.int(),
    duplicates: z.int(),
    lastReceivedAt: z.iso.datetime().nullable(),
  }),
) {}

export class DeliveriesQuery extends createZodDto(
  z.object({
    provider: z.enum(WEBHOOK_PROVIDERS).optional(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
    endpointId: z.uuid().optional(),
    clientId: z.uuid().optional(),
    from: z.iso.datetime().optional().describe('Received at or after'),
    to: z.iso.datetime().optional().describe('Received before'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.uuid().optional().describe('The `id` to continue before'),
  }),
) {}
export class PlatformDeliveriesQuery extends createZodDto(
  DeliveriesQuery.schema.omit({ endpointId: true, clientId: true }).extend({
    tenantId: z.uuid().optional(),
  }),
) {}
export class DeliveryQuery extends createZodDto(
  z.object({
    include: z
      .enum(['raw'])
      .optional()
      .describe('`raw`: the decrypted request body (needs webhooks:manage; audited)'),
  }),
) {}

const eventView = z.object({
  id: z.uuid(),
  type: z.string(),
  subject: z.string().nullable(),
  time: z.iso.datetime(),
  dispatchedAt: z.iso.datetime().nullable(),
  dispatchCount: z.int(),
  data: z.record(z.string(), z.unknown()),
});
export type EventView = z.infer<typeof eventView>;
const deliveryView = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  endpointId: z.uuid(),
  provider: z.string(),
  clientId: z.uuid().nullable(),
  agentId: z.uuid().nullable(),
  providerEventId: z.string(),
  providerEventType: z.string().nullable(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  failureReason: z.string().nullable(),
  signatureScheme: z.string(),
  bodyBytes: z.int(),
  bodySha256: z.string(),
  receivedAt: z.iso.datetime(),
  duplicateCount: z.int(),
  lastDuplicateAt: z.iso.datetime().nullable(),
  purgedAt: z.iso.datetime().nullable(),
  events: z.array(eventView).optional(),
});
export type DeliveryView = z.infer<typeof deliveryView>;
export class DeliveryPageDto extends createZodDto(
  z.object({ data: z.array(deliveryView), nextCursor: z.uuid().nullable() }),
) {}
export class DeliveryDetailDto extends createZodDto(
  deliveryView.extend({
    headers: z.record(z.string(), z.string()),
    rawBody: z.string().nullable().optional(),
  }),
) {}
export class ReplayResultDto extends createZodDto(
  z.object({
    replayed: z.array(z.uuid()).describe('The events dispatched again'),
    recovered: z.boolean().optional().describe('A dead letter normalized this time'),
  }),
) {}

export class ReplayEventsBody extends createZodDto(
  z
    .object({
      ids: z
        .array(z.uuid())
        .min(1)
        .max(1000)
        .optional()
        .meta({ example: [uuidExample.example] }),
      type: z.string().max(200).optional().meta({ example: 'maxai.voice.call.ended' }),
      source: z.string().max(200).optional().meta({ example: '/maxai/webhooks/retell' }),
      clientId: z.uuid().optional().meta(uuidExample),
      from: z.iso.datetime().optional().meta({ example: '2026-11-01T00:00:00Z' }),
      to: z.iso.datetime().optional().meta({ example: '2026-11-02T00:00:00Z' }),
      max: z.int().min(1).max(1000).default(100).meta({ example: 100 }),
    })
    .strict()
    .refine((b) => b.ids ?? b.type ?? b.source ?? b.clientId ?? b.from ?? b.to, {
      error: 'give ids or at least one filter',
    }),
) {}

export class CreateMappingBody extends createZodDto(
  z
    .object({
      provider: z.enum(WEBHOOK_PROVIDERS).meta({ example: 'retell' }),
      kind: z.enum(EXTERNAL_ID_KINDS).meta({ example: 'voice_agent' }),
      externalId: z.string().trim().min(1).max(200).meta({ example: 'agent_9f8e7d6c5b4a' }),
      clientId: z.uuid().meta(uuidExample),
      agentId: z.uuid().optional().meta(uuidExample),
    })
    .strict(),
) {}
const mappingView = z.object({
  id: z.uuid(),
  provider: z.string(),
  kind: z.enum(EXTERNAL_ID_KINDS),
  externalId: z.string(),
  clientId: z.uuid(),
  agentId: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
});
export class MappingDto extends createZodDto(mappingView) {}
export class MappingListDto extends createZodDto(z.object({ data: z.array(mappingView) })) {}
