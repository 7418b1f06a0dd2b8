import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ReplicatedCache } from '../../platform/cache/replicated-cache';
import { CONFIG } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { REDIS } from '../../platform/redis/redis.module';
import { AuditService } from '../audit/audit.service';
import { EventsService } from '../events/events.service';
import { TenancyModule } from '../tenancy/tenancy.module';
import { TenantSettingsService } from '../tenancy/tenant-settings.service';
import {
  AgentPromptPinsController,
  ClientPromptLabelsController,
  PromptApprovalsController,
  TenantPromptLabelsController,
} from './prompt-labels.controller';
import { PromptApprovalsService } from './prompt-approvals.service';
import { PromptLabelsService } from './prompt-labels.service';
import {
  ClientPromptLibraryController,
  TenantPromptLibraryController,
} from './prompt-library.controller';
import { PromptLibraryService } from './prompt-library.service';
import { PromptPinsService } from './prompt-pins.service';
import { PromptRenderer } from './prompt-renderer';
import { PromptResolver } from './prompt-resolver';
import { PromptVersionsService } from './prompt-versions.service';
import { ClientPromptsController, TenantPromptsController } from './prompts.controller';
import { PromptsRepository } from './prompts.repository';
import { PromptsService } from './prompts.service';

/** The per-process cache of prompt resolutions, invalidated on every replica through Redis. */
export const PROMPT_CACHE = Symbol('PROMPT_CACHE');

/**
 * Prompt management: versioned templates per tenant and client, labels with protection and
 * approvals, agents' pins, safe rendering (cached, invalidated across replicas), import/export.
 * Other modules render through the exported PromptsService.
 */
@Module({
  imports: [TenancyModule],
  controllers: [
    TenantPromptsController,
    ClientPromptsController,
    TenantPromptLabelsController,
    ClientPromptLabelsController,
    PromptApprovalsController,
    AgentPromptPinsController,
    TenantPromptLibraryController,
    ClientPromptLibraryController,
  ],
  providers: [
    { provide: PromptsRepository, useFactory: () => new PromptsRepository() },
    {
      provide: PROMPT_CACHE,
      inject: [REDIS, CONFIG, ROOT_LOGGER],
      useFactory: (redis: Redis | null, config: AppConfig, logger: Logger) =>
        new ReplicatedCache(
          {
            ttlMs: config.PROMPT_CACHE_TTL_MS,
            maxEntries: 50_000,
            channel: `${config.REDIS_KEY_PREFIX}:prompts:changed`,
          },
          redis,
          redis?.duplicate() ?? null,
          logger.child({ component: 'prompt-cache' }),
        ),
    },
    {
      provide: PromptResolver,
      inject: [DATABASE, PromptsRepository, PROMPT_CACHE],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        cache: ReplicatedCache,
      ) => new PromptResolver(database.db, repository, cache),
    },
    {
      provide: PromptRenderer,
      inject: [PromptResolver],
      useFactory: (resolver: PromptResolver) => new PromptRenderer(resolver),
    },
    {
      provide: PromptsService,
      inject: [
        DATABASE,
        PromptsRepository,
        PromptResolver,
        PromptRenderer,
        AuditService,
        TenantSettingsService,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        resolver: PromptResolver,
        renderer: PromptRenderer,
        audit: AuditService,
        settings: TenantSettingsService,
      ) => new PromptsService(database.db, repository, resolver, renderer, audit, settings),
    },
    {
      provide: PromptVersionsService,
      inject: [DATABASE, PromptsRepository, PromptResolver, AuditService, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        resolver: PromptResolver,
        audit: AuditService,
        config: AppConfig,
      ) =>
        new PromptVersionsService(database.db, repository, resolver, audit, {
          maxVersions: config.PROMPT_MAX_VERSIONS,
        }),
    },
    {
      provide: PromptLabelsService,
      inject: [
        DATABASE,
        PromptsRepository,
        PromptResolver,
        AuditService,
        EventsService,
        TenantSettingsService,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        resolver: PromptResolver,
        audit: AuditService,
        events: EventsService,
        settings: TenantSettingsService,
      ) => new PromptLabelsService(database.db, repository, resolver, audit, events, settings),
    },
    {
      provide: PromptApprovalsService,
      inject: [DATABASE, PromptsRepository, PromptLabelsService, PromptResolver, AuditService],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        labels: PromptLabelsService,
        resolver: PromptResolver,
        audit: AuditService,
      ) => new PromptApprovalsService(database.db, repository, labels, resolver, audit),
    },
    {
      provide: PromptPinsService,
      inject: [DATABASE, PromptsRepository, PromptResolver, AuditService],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        resolver: PromptResolver,
        audit: AuditService,
      ) => new PromptPinsService(database.db, repository, resolver, audit),
    },
    {
      provide: PromptLibraryService,
      inject: [
        DATABASE,
        PromptsRepository,
        PromptsService,
        PromptVersionsService,
        PromptLabelsService,
        PromptResolver,
        AuditService,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: PromptsRepository,
        prompts: PromptsService,
        versions: PromptVersionsService,
        labels: PromptLabelsService,
        resolver: PromptResolver,
        audit: AuditService,
      ) =>
        new PromptLibraryService(
          database.db,
          repository,
          prompts,
          versions,
          labels,
          resolver,
          audit,
        ),
    },
  ],
  exports: [PromptsService],
})
export class PromptsModule implements OnApplicationShutdown {
  constructor(@Inject(PROMPT_CACHE) private readonly cache: ReplicatedCache) {}

  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }
}
