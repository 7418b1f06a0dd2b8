import { createHash } from 'node:crypto';
import type {
  InboundWebhook,
  NormalizationResult,
  WebhookAcknowledgement,
  WebhookProvider,
  WebhookSecrets,
} from '@maxai/integrations';
import { withTenant, type Database } from '@maxai/db';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { TenantSecrets } from '../../platform/crypto/envelope';
import { ProblemError } from '../../platform/errors/problem';
import type { EventsService } from '../events/events.service';
import type { EndpointDirectory, IngressEndpoint } from './endpoint-directory';
import { verifierSecrets } from './endpoint-secrets';
import type { EndpointRateLimiter } from './endpoint-rate-limiter';
import type { IngressOutcome, WebhookMetrics } from './webhook-metrics';
import type { WebhooksRepository } from './webhooks.repository';

const ENDPOINT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Headers kept with a delivery: enough to re-verify it and to debug, nothing else. */
const KEPT_HEADERS = [
  'content-type',
  'content-length',
  'user-agent',
  'stripe-signature',
  'x-twilio-signature',
  'i-twilio-idempotency-token',
  'x-retell-signature',
  'x-ghl-signature',
  'x-wh-signature',
  'x-goog-channel-id',
  'x-goog-channel-expiration',
  'x-goog-resource-id',
  'x-goog-resource-uri',
  'x-goog-resource-state',
  'x-goog-message-number',
  'x-maxai-signature',
];

export interface IncomingWebhookRequest {
  provider: string;
  endpointId: string;
  /** Path and query as received, e.g. `/webhooks/twilio/<id>?bodySHA256=…`. */
  url: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  ip: string;
}

export interface IngressDeps {
  db: Database;
  providers: ReadonlyMap<string, WebhookProvider>;
  directory: EndpointDirectory;
  repository: WebhooksRepository;
  secrets: TenantSecrets;
  events: EventsService;
  limiter: EndpointRateLimiter;
  metrics: WebhookMetrics;
  logger: Logger;
  /** The base URL providers post to, as they see it (no trailing slash). */
  publicBaseUrl: string;
  /** The credentials of a connection (Twilio auth token, Retell API key). */
  connectionSecrets: (
    tenantId: string,
    connectionId: string,
  ) => Promise<Record<string, string> | undefined>;
}

/**
 * Webhook ingress: route to the endpoint, verify the signature on the exact bytes, then store the
 * request, its normalized events and their dispatch jobs in one transaction — and acknowledge
 * only after that commit. Rejections store nothing (a counter and a security log line).
 */
export class WebhookIngressService {
  constructor(private readonly deps: IngressDeps) {}

  async receive(request: IncomingWebhookRequest): Promise<WebhookAcknowledgement> {
    const started = performance.now();
    const { deps } = this;
    const provider = deps.providers.get(request.provider);
    if (!provider || !ENDPOINT_ID.test(request.endpointId)) throw unknownEndpoint();
    const endpoint = await this.endpoint(request.endpointId);
    if (endpoint?.provider !== provider.name || endpoint.status !== 'active') {
      throw unknownEndpoint();
    }
    deps.metrics.received.inc({ provider: provider.name });
    this.checkMediaType(provider, request);
    await this.rateLimit(provider, endpoint, request);

    const inbound: InboundWebhook = {
      rawBody: request.rawBody,
      headers: request.headers,
      publicUrl: deps.publicBaseUrl + request.url,
    };
    const secrets = await this.verifierSecrets(endpoint);
    const verification = secrets
      ? provider.verify(inbound, secrets, Date.now())
      : ({ valid: false, reason: 'no_key_material' } as const);
    if (!verification.valid) {
      deps.metrics.rejected.inc({ provider: provider.name, reason: verification.reason });
      deps.logger.warn(
        {
          security: true,
          sourceIp: request.ip,
          provider: provider.name,
          endpointId: endpoint.id,
          tenantId: endpoint.tenantId,
          reason: verification.reason,
        },
        'webhook rejected',
      );
      throw new ProblemError(
        'webhook-signature-invalid',
        `The ${provider.name} webhook signature did not verify (${verification.reason}).`,
        { reason: verification.reason },
      );
    }
    deps.metrics.verified.inc({ provider: provider.name });

    const normalized = provider.normalize(inbound);
    const outcome = await this.store(endpoint, inbound, normalized, verification.scheme, request);
    deps.metrics.outcomes.inc({ provider: provider.name, outcome });
    deps.metrics.ackLatency.observe(
      { provider: provider.name, outcome },
      (performance.now() - started) / 1000,
    );
    return provider.acknowledgement;
  }

  private async endpoint(id: string): Promise<IngressEndpoint | null> {
    try {
      return await this.deps.directory.get(id);
    } catch (error) {
      throw unavailable(this.deps.logger, error);
    }
  }

  private checkMediaType(provider: WebhookProvider, request: IncomingWebhookRequest): void {
    if (provider.contentTypes.length === 0) return;
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType && provider.contentTypes.includes(mediaType)) return;
    this.deps.metrics.rejected.inc({ provider: provider.name, reason: 'media_type' });
    throw new ProblemError(
      'unsupported-media-type',
      `${provider.name} webhooks must be sent as ${provider.contentTypes.join(' or ')}.`,
    );
  }

  private async rateLimit(
    provider: WebhookProvider,
    endpoint: IngressEndpoint,
    request: IncomingWebhookRequest,
  ): Promise<void> {
    const retryAfterS = await this.deps.limiter.consume(endpoint.id, endpoint.rateLimitPerMinute);
    if (retryAfterS === null) return;
    this.deps.metrics.rejected.inc({ provider: provider.name, reason: 'rate_limited' });
    this.deps.logger.warn(
      { sourceIp: request.ip, provider: provider.name, endpointId: endpoint.id },
      'webhook endpoint over its rate limit',
    );
    throw new ProblemError(
      'rate-limited',
      `This endpoint accepts ${String(endpoint.rateLimitPerMinute)} requests per minute.`,
      {},
      { 'retry-after': String(retryAfterS) },
    );
  }

  private async verifierSecrets(endpoint: IngressEndpoint): Promise<WebhookSecrets | undefined> {
    let connection: Record<string, string> | undefined;
    if ('fromConnection' in endpoint.secrets && endpoint.connectionId) {
      try {
        connection = await this.deps.connectionSecrets(endpoint.tenantId, endpoint.connectionId);
      } catch (error) {
        throw unavailable(this.deps.logger, error);
      }
    }
    return verifierSecrets(endpoint.provider, endpoint.secrets, connection);
  }

  private async store(
    endpoint: IngressEndpoint,
    inbound: InboundWebhook,
    normalized: NormalizationResult,
    scheme: string,
    request: IncomingWebhookRequest,
  ): Promise<IngressOutcome> {
    const { deps } = this;
    const bodySha256 = createHash('sha256').update(inbound.rawBody).digest('hex');
    const providerEventId = normalized.providerEventId ?? `sha256:${bodySha256}`;
    try {
      return await withTenant(deps.db, endpoint.tenantId, async (tx) => {
        const owner = normalized.ok
          ? await deps.repository.lookupExternal(
              tx,
              endpoint.tenantId,
              endpoint.provider,
              lookupKeys(normalized.attribution),
            )
          : undefined;
        const clientId = owner?.clientId ?? endpoint.clientId;
        const agentId = owner?.agentId ?? null;
        const id = uuidv7();
        const { id: deliveryId, inserted } = await deps.repository.storeDelivery(tx, {
          tenantId: endpoint.tenantId,
          id,
          endpointId: endpoint.id,
          provider: endpoint.provider,
          clientId,
          agentId,
          providerEventId,
          providerEventType: normalized.providerEventType ?? null,
          status: normalized.ok ? 'accepted' : 'unprocessable',
          failureReason: normalized.ok ? null : `${normalized.reason}: ${normalized.detail}`,
          signatureScheme: scheme,
          headers: keptHeaders(inbound.headers),
          bodySealed: await deps.secrets.seal(
            tx,
            endpoint.tenantId,
            inbound.rawBody.toString('base64'),
            deliveryBodyAad(id),
          ),
          bodySha256,
          bodyBytes: inbound.rawBody.length,
          sourceIp: request.ip,
        });
        if (!inserted) return 'duplicate';
        if (!normalized.ok) return 'unprocessable';
        for (const event of normalized.events) {
          await deps.events.emit(tx, {
            tenantId: endpoint.tenantId,
            clientId,
            agentId,
            type: event.type,
            source: `/maxai/webhooks/${endpoint.provider}`,
            subject: event.subject,
            time: event.time ? new Date(event.time) : undefined,
            deliveryId,
            data: event.data,
          });
        }
        return 'accepted';
      });
    } catch (error) {
      throw unavailable(deps.logger, error);
    }
  }
}

export const deliveryBodyAad = (deliveryId: string) => `webhook-delivery:${deliveryId}`;

function lookupKeys(attribution: {
  retellAgentId?: string | undefined;
  phoneNumber?: string | undefined;
  ghlLocationId?: string | undefined;
}) {
  const keys: { kind: 'voice_agent' | 'phone_number' | 'location'; externalId: string }[] = [];
  if (attribution.retellAgentId) {
    keys.push({ kind: 'voice_agent', externalId: attribution.retellAgentId });
  }
  if (attribution.phoneNumber)
    keys.push({ kind: 'phone_number', externalId: attribution.phoneNumber });
  if (attribution.ghlLocationId)
    keys.push({ kind: 'location', externalId: attribution.ghlLocationId });
  return keys;
}

function keptHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value.slice(0, 2048);
  }
  return kept;
}

const unknownEndpoint = () =>
  new ProblemError('not-found', 'No webhook endpoint with this provider and id.');

/** Storage failed: the provider must retry, so never a 2xx (and not a 500: nothing is wrong with the request). */
function unavailable(logger: Logger, error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  logger.error({ err: error }, 'webhook could not be stored; answered 503');
  return new ProblemError(
    'service-unavailable',
    'The webhook could not be stored; retry later.',
    {},
    { 'retry-after': '5' },
  );
}
