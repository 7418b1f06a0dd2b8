import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { CONFIG, ROLE, type Role } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { MetricsService } from '../../platform/metrics/metrics.service';
import { REDIS } from '../../platform/redis/redis.module';
import { AuditService } from '../audit/audit.service';
import { EventSubscribers } from '../events/event-subscribers';
import { FlowRunsController, FlowsController, FlowTemplatesController } from './flows.controller';
import { FlowsRepository } from './flows.repository';
import { FlowsService } from './flows.service';
import { BindingsService } from '../integrations/bindings.service';
import { ConnectionsService } from '../integrations/connections.service';
import { IntegrationsModule } from '../integrations/integrations.module';
import { PortAdapterFactory } from '../integrations/port-adapters';
import { WebhooksRepository } from '../webhooks/webhooks.repository';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { WEBHOOK_PUBLIC_BASE } from '../webhooks/webhooks.tokens';
import { ConnectionBudget } from './runtime/connection-budget';
import { FlowTriggers } from './runtime/flow-triggers';
import { OrchestratorMetrics } from './runtime/orchestrator-metrics';
import { PlatformStepServices } from './runtime/platform-step-services';
import { RunExecutor } from './runtime/run-executor';
import { RunScheduler } from './runtime/run-scheduler';
import { RunsRepository } from './runtime/runs.repository';
import { PROMPT_RENDERER, promptRenderer } from './runtime/prompt-renderer';
import { PromptsModule } from '../prompts/prompts.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { TenantSettingsService } from '../tenancy/tenant-settings.service';
import { PromptsService } from '../prompts/prompts.service';
import type { PromptRenderer } from './runtime/step-services';

const WORKER_ID = `${hostname()}:${String(process.pid)}:${uuidv7().slice(-8)}`;

/**
 * The flow engine: triggers (an event subscriber), the fair scheduler and the durable executor
 * (worker and standalone roles only), and the flows API.
 */
@Module({
  imports: [IntegrationsModule, WebhooksModule, PromptsModule, TenancyModule],
  controllers: [FlowsController, FlowTemplatesController, FlowRunsController],
  providers: [
    {
      provide: FlowsService,
      inject: [
        DATABASE,
        RunsRepository,
        BindingsService,
        TenantSettingsService,
        AuditService,
        RunScheduler,
      ],
      useFactory: (
        database: DatabaseHandle,
        runs: RunsRepository,
        bindings: BindingsService,
        settings: TenantSettingsService,
        audit: AuditService,
        scheduler: RunScheduler,
      ) =>
        new FlowsService(
          database.db,
          new FlowsRepository(),
          runs,
          bindings,
          settings,
          audit,
          scheduler,
        ),
    },
    {
      provide: PROMPT_RENDERER,
      inject: [PromptsService],
      useFactory: (prompts: PromptsService) => promptRenderer(prompts),
    },
    {
      provide: RunsRepository,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new RunsRepository(database.db),
    },
    {
      provide: OrchestratorMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new OrchestratorMetrics(metrics),
    },
    {
      provide: PlatformStepServices,
      inject: [
        DATABASE,
        BindingsService,
        PortAdapterFactory,
        ConnectionsService,
        WebhooksRepository,
        WEBHOOK_PUBLIC_BASE,
        TenantSettingsService,
        PROMPT_RENDERER,
      ],
      useFactory: (
        database: DatabaseHandle,
        bindings: BindingsService,
        adapters: PortAdapterFactory,
        connections: ConnectionsService,
        webhooks: WebhooksRepository,
        webhookBase: string,
        settings: TenantSettingsService,
        prompts: PromptRenderer,
      ) =>
        new PlatformStepServices(
          database.db,
          bindings,
          adapters,
          connections,
          webhooks,
          webhookBase,
          settings,
          prompts,
        ),
    },
    {
      provide: RunExecutor,
      inject: [
        DATABASE,
        RunsRepository,
        PlatformStepServices,
        REDIS,
        CONFIG,
        OrchestratorMetrics,
        ROOT_LOGGER,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: RunsRepository,
        services: PlatformStepServices,
        redis: Redis | null,
        config: AppConfig,
        metrics: OrchestratorMetrics,
        logger: Logger,
      ) =>
        new RunExecutor(
          database.db,
          repository,
          services,
          new ConnectionBudget(redis, config.REDIS_KEY_PREFIX, config.FLOW_CONNECTION_RATE_PER_S),
          metrics,
          logger.child({ component: 'flows' }),
          {
            workerId: WORKER_ID,
            leaseMs: config.FLOW_LEASE_MS,
            maxStepsPerSlice: 50,
            defaultStepTimeoutS: 30,
          },
        ),
    },
    {
      provide: RunScheduler,
      inject: [RunsRepository, RunExecutor, OrchestratorMetrics, CONFIG, ROOT_LOGGER],
      useFactory: (
        repository: RunsRepository,
        executor: RunExecutor,
        metrics: OrchestratorMetrics,
        config: AppConfig,
        logger: Logger,
      ) =>
        new RunScheduler(repository, executor, metrics, logger.child({ component: 'flows' }), {
          workerId: WORKER_ID,
          concurrency: config.FLOW_WORKER_CONCURRENCY,
          pollIntervalMs: config.FLOW_POLL_INTERVAL_MS,
          leaseMs: config.FLOW_LEASE_MS,
          perTenant: config.FLOW_TENANT_CONCURRENCY,
          global: config.FLOW_GLOBAL_CONCURRENCY,
        }),
    },
    {
      provide: FlowTriggers,
      inject: [DATABASE, RunsRepository, OrchestratorMetrics, ROOT_LOGGER, RunScheduler],
      useFactory: (
        database: DatabaseHandle,
        repository: RunsRepository,
        metrics: OrchestratorMetrics,
        logger: Logger,
        scheduler: RunScheduler,
      ) =>
        new FlowTriggers(
          database.db,
          repository,
          metrics,
          logger.child({ component: 'flows' }),
          (tenantId) => {
            scheduler.wake(tenantId);
          },
        ),
    },
  ],
  exports: [RunsRepository, FlowTriggers, RunScheduler],
})
export class OrchestratorModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RunScheduler) private readonly scheduler: RunScheduler,
    @Inject(FlowTriggers) triggers: FlowTriggers,
    @Inject(EventSubscribers) subscribers: EventSubscribers,
    @Inject(ROLE) private readonly role: Role,
  ) {
    subscribers.subscribe({
      name: 'orchestrator',
      types: ['maxai.*'],
      handle: async (event) => {
        await triggers.handle(event);
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.role !== 'api') this.scheduler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}
