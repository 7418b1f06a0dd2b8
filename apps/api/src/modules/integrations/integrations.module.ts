import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { JobQueue, KmsPort } from '@maxai/core';
import type { DatabaseHandle, Tx } from '@maxai/db';
import { JobRegistry } from '../../platform/queue/job-registry';
import type { JobStack } from '../../platform/queue/job-stack';
import { JOB_QUEUE, JOB_STACK } from '../../platform/queue/queue.tokens';
import type { Logger } from 'pino';
import { CONFIG, ROLE, type Role } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { EnvKms, TenantSecrets } from '../../platform/crypto/envelope';
import type { SecretBox } from '../../platform/crypto/secret-box';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { AuditService } from '../audit/audit.service';
import { EventsService } from '../events/events.service';
import { PrincipalCache } from '../iam/principal-cache';
import { SECRET_BOX } from '../iam/iam.module';
import { BindingsController } from './bindings.controller';
import { BindingsService } from './bindings.service';
import { ConnectionsController } from './connections.controller';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { oauthApps } from './oauth-apps';
import { PortAdapterFactory } from './port-adapters';
import { ProxyService } from './proxy.service';
import { SandboxSimulators } from './sandbox-simulators';
import { refreshTokenJob, TokenRefreshScheduler } from './token-refresh.scheduler';

export const KMS = Symbol('KMS');

/** Connections to providers, the OAuth proxy, and the envelope encryption of their secrets. */
@Module({
  controllers: [ConnectionsController, BindingsController],
  providers: [
    { provide: KMS, inject: [SECRET_BOX], useFactory: (box: SecretBox) => new EnvKms(box) },
    { provide: TenantSecrets, inject: [KMS], useFactory: (kms: KmsPort) => new TenantSecrets(kms) },
    {
      provide: ConnectionsService,
      inject: [DATABASE, TenantSecrets, AuditService, EventsService, CONFIG, PrincipalCache],
      useFactory: (
        database: DatabaseHandle,
        secrets: TenantSecrets,
        audit: AuditService,
        events: EventsService,
        config: AppConfig,
        cache: PrincipalCache,
      ) =>
        new ConnectionsService(
          database.db,
          new ConnectionsRepository(),
          secrets,
          audit,
          events,
          {
            publicUrl: config.PUBLIC_URL,
            portalUrl: config.PORTAL_URL ?? config.PUBLIC_URL,
            oauth: oauthApps(config),
          },
          cache,
        ),
    },
    {
      provide: TokenRefreshScheduler,
      inject: [DATABASE, JOB_QUEUE, JOB_STACK, ROOT_LOGGER, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        queue: JobQueue<Tx>,
        stack: JobStack,
        logger: Logger,
        config: AppConfig,
      ) =>
        new TokenRefreshScheduler(
          database.db,
          queue,
          stack.transport,
          logger.child({ component: 'token-refresh' }),
          config.TOKEN_REFRESH_INTERVAL_S,
        ),
    },
    {
      provide: SandboxSimulators,
      inject: [CONFIG, ROLE, ROOT_LOGGER],
      useFactory: (config: AppConfig, role: Role, logger: Logger) =>
        new SandboxSimulators(
          {
            enabled:
              role === 'standalone' && config.PROVIDERS === 'sandbox' && config.SIMULATORS_EMBEDDED,
            simulatorsUrl: config.SIMULATORS_URL,
            publicUrl: config.PUBLIC_URL,
          },
          logger.child({ component: 'simulators' }),
        ),
    },
    {
      provide: BindingsService,
      inject: [DATABASE, AuditService],
      useFactory: (database: DatabaseHandle, audit: AuditService) =>
        new BindingsService(database.db, new ConnectionsRepository(), audit),
    },
    {
      provide: PortAdapterFactory,
      inject: [ConnectionsService, BindingsService, CONFIG],
      useFactory: (connections: ConnectionsService, bindings: BindingsService, config: AppConfig) =>
        new PortAdapterFactory(connections, bindings, {
          providers: config.PROVIDERS,
          simulatorsUrl: config.SIMULATORS_URL,
        }),
    },
    {
      provide: ProxyService,
      inject: [ConnectionsService, CONFIG, ROOT_LOGGER],
      useFactory: (connections: ConnectionsService, config: AppConfig, logger: Logger) =>
        new ProxyService(
          connections,
          { providers: config.PROVIDERS, simulatorsUrl: config.SIMULATORS_URL },
          logger.child({ component: 'proxy' }),
        ),
    },
  ],
  exports: [ConnectionsService, BindingsService, PortAdapterFactory, TenantSecrets],
})
export class IntegrationsModule
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(SandboxSimulators) private readonly simulators: SandboxSimulators,
    @Inject(TokenRefreshScheduler) private readonly refresher: TokenRefreshScheduler,
    @Inject(ConnectionsService) private readonly connections: ConnectionsService,
    @Inject(JobRegistry) private readonly registry: JobRegistry,
    @Inject(ROLE) private readonly role: Role,
  ) {}

  onModuleInit(): void {
    this.registry.register(refreshTokenJob(this.connections));
  }

  /** Job-running processes refresh tokens ahead of expiry; standalone starts the simulators. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.role !== 'api') this.refresher.start();
    await this.simulators.start();
  }

  beforeApplicationShutdown(): void {
    this.refresher.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.simulators.stop();
  }
}
