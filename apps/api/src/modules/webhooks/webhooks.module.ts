import {
  type BeforeApplicationShutdown,
  Inject,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { WEBHOOK_PROVIDER_REGISTRY, type WebhookProvider } from '@maxai/integrations';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CONFIG, ROLE, type Role } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { TenantSecrets } from '../../platform/crypto/envelope';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { MetricsService } from '../../platform/metrics/metrics.service';
import { PeriodicTask } from '../../platform/queue/periodic-task';
import { REDIS } from '../../platform/redis/redis.module';
import { AuditService } from '../audit/audit.service';
import { EventsService } from '../events/events.service';
import { PrincipalCache } from '../iam/principal-cache';
import { ConnectionsRepository } from '../integrations/connections.repository';
import { ConnectionsService } from '../integrations/connections.service';
import { IntegrationsModule } from '../integrations/integrations.module';
import { EndpointDirectory } from './endpoint-directory';
import { EventTypesController } from './event-types.controller';
import { EndpointRateLimiter } from './endpoint-rate-limiter';
import type { GhlKeys } from './endpoint-secrets';
import { ExternalIdsController } from './external-ids.controller';
import { ExternalIdsService } from './external-ids.service';
import {
  EventReplayController,
  PlatformDeliveriesController,
  WebhookDeliveriesController,
} from './webhook-deliveries.controller';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookIngressService } from './webhook-ingress.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhooksRepository } from './webhooks.repository';
import { WEBHOOK_PROVIDER_MAP, WEBHOOK_PUBLIC_BASE } from './webhooks.tokens';

const RAW_BODY_PURGE = Symbol('RAW_BODY_PURGE');

/**
 * GoHighLevel's published webhook keys: configured, else (sandbox) the local simulator's.
 */
function ghlKeySource(config: AppConfig): () => Promise<GhlKeys | undefined> {
  return async () => {
    if (config.GHL_WEBHOOK_ED25519_PUBLIC_KEY) {
      return {
        ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY,
        rsaPublicKeyPem: config.GHL_WEBHOOK_RSA_PUBLIC_KEY,
      };
    }
    if (config.PROVIDERS !== 'sandbox') return undefined;
    try {
      const res = await fetch(`${config.SIMULATORS_URL}/_control/ghl/webhook-keys`, {
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) return undefined;
      const keys = (await res.json()) as { ed25519PublicKey?: string; rsaPublicKey?: string };
      return keys.ed25519PublicKey
        ? { ed25519PublicKeyPem: keys.ed25519PublicKey, rsaPublicKeyPem: keys.rsaPublicKey }
        : undefined;
    } catch {
      return undefined;
    }
  };
}

/**
 * Webhook ingress (`POST /webhooks/{provider}/{endpointId}`, registered on Fastify directly by
 * createApp) and its operations API: endpoints, deliveries, dead letters, replay, attribution.
 */
@Module({
  imports: [IntegrationsModule],
  controllers: [
    WebhookEndpointsController,
    WebhookDeliveriesController,
    EventReplayController,
    PlatformDeliveriesController,
    ExternalIdsController,
    EventTypesController,
  ],
  providers: [
    {
      provide: WEBHOOK_PUBLIC_BASE,
      inject: [CONFIG],
      useFactory: (config: AppConfig) =>
        (config.WEBHOOK_PUBLIC_URL ?? config.PUBLIC_URL).replace(/\/+$/, ''),
    },
    {
      provide: WEBHOOK_PROVIDER_MAP,
      useFactory: (): ReadonlyMap<string, WebhookProvider> =>
        new Map(Object.values(WEBHOOK_PROVIDER_REGISTRY).map((p) => [p.name, p])),
    },
    {
      provide: WebhooksRepository,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new WebhooksRepository(database.db),
    },
    {
      provide: WebhookMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new WebhookMetrics(metrics),
    },
    {
      provide: EndpointDirectory,
      inject: [DATABASE, WebhooksRepository, TenantSecrets, REDIS, CONFIG, ROOT_LOGGER],
      useFactory: (
        database: DatabaseHandle,
        repository: WebhooksRepository,
        secrets: TenantSecrets,
        redis: Redis | null,
        config: AppConfig,
        logger: Logger,
      ) =>
        new EndpointDirectory(
          database.db,
          repository,
          secrets,
          new PrincipalCache(
            {
              ttlMs: 30_000,
              maxEntries: 100_000,
              channel: `${config.REDIS_KEY_PREFIX}:webhooks:endpoints-changed`,
            },
            redis,
            redis?.duplicate() ?? null,
            logger.child({ component: 'webhook-endpoints-cache' }),
          ),
        ),
    },
    {
      provide: WebhookIngressService,
      inject: [
        DATABASE,
        WEBHOOK_PROVIDER_MAP,
        EndpointDirectory,
        WebhooksRepository,
        TenantSecrets,
        EventsService,
        REDIS,
        CONFIG,
        WebhookMetrics,
        ROOT_LOGGER,
        WEBHOOK_PUBLIC_BASE,
        ConnectionsService,
      ],
      useFactory: (
        database: DatabaseHandle,
        providers: ReadonlyMap<string, WebhookProvider>,
        directory: EndpointDirectory,
        repository: WebhooksRepository,
        secrets: TenantSecrets,
        events: EventsService,
        redis: Redis | null,
        config: AppConfig,
        metrics: WebhookMetrics,
        logger: Logger,
        publicBaseUrl: string,
        connections: ConnectionsService,
      ) =>
        new WebhookIngressService({
          db: database.db,
          providers,
          directory,
          repository,
          secrets,
          events,
          limiter: new EndpointRateLimiter(redis, config.REDIS_KEY_PREFIX),
          metrics,
          logger: logger.child({ component: 'webhook-ingress' }),
          publicBaseUrl,
          connectionSecrets: async (tenantId, connectionId) =>
            (await connections.opened(tenantId, connectionId)).secrets,
        }),
    },
    {
      provide: WebhookEndpointsService,
      inject: [
        DATABASE,
        WebhooksRepository,
        TenantSecrets,
        AuditService,
        EndpointDirectory,
        CONFIG,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: WebhooksRepository,
        secrets: TenantSecrets,
        audit: AuditService,
        directory: EndpointDirectory,
        config: AppConfig,
      ) =>
        new WebhookEndpointsService(
          database.db,
          repository,
          new ConnectionsRepository(),
          secrets,
          audit,
          directory,
          ghlKeySource(config),
        ),
    },
    {
      provide: WebhookDeliveriesService,
      inject: [
        DATABASE,
        WebhooksRepository,
        EventsService,
        TenantSecrets,
        AuditService,
        WEBHOOK_PROVIDER_MAP,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: WebhooksRepository,
        events: EventsService,
        secrets: TenantSecrets,
        audit: AuditService,
        providers: ReadonlyMap<string, WebhookProvider>,
      ) => new WebhookDeliveriesService(database.db, repository, events, secrets, audit, providers),
    },
    {
      provide: ExternalIdsService,
      inject: [DATABASE, WebhooksRepository, AuditService],
      useFactory: (database: DatabaseHandle, repository: WebhooksRepository, audit: AuditService) =>
        new ExternalIdsService(database.db, repository, audit),
    },
    {
      provide: RAW_BODY_PURGE,
      inject: [WebhooksRepository, CONFIG, ROOT_LOGGER],
      useFactory: (repository: WebhooksRepository, config: AppConfig, logger: Logger) => {
        const log = logger.child({ component: 'webhook-retention' });
        return new PeriodicTask(
          config.WEBHOOK_PURGE_INTERVAL_S,
          async () => {
            const before = new Date(Date.now() - config.WEBHOOK_RAW_RETENTION_DAYS * 86_400_000);
            let purged = 0;
            let batch: number;
            do {
              batch = await repository.purgeBodies(before, 1000);
              purged += batch;
            } while (batch > 0);
            if (purged > 0) log.info({ purged, before }, 'raw webhook bodies purged');
          },
          (error) => log.error({ err: error }, 'raw webhook body purge failed'),
        );
      },
    },
  ],
  exports: [WebhookIngressService, EndpointDirectory, WebhooksRepository, WEBHOOK_PUBLIC_BASE],
})
export class WebhooksModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RAW_BODY_PURGE) private readonly purge: PeriodicTask,
    @Inject(EndpointDirectory) private readonly directory: EndpointDirectory,
    @Inject(ROLE) private readonly role: Role,
  ) {}

  onApplicationBootstrap(): void {
    if (this.role !== 'api') this.purge.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.purge.stop();
    await this.directory.close();
  }
}
