import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AuditModule } from '../../modules/audit/audit.module';
import { IamModule } from '../../modules/iam/iam.module';
import { SeedModule } from '../../modules/seed/seed.module';
import { TenancyModule } from '../../modules/tenancy/tenancy.module';
import { IntegrationsModule } from '../../modules/integrations/integrations.module';
import { EventsModule } from '../../modules/events/events.module';
import { WebhooksModule } from '../../modules/webhooks/webhooks.module';
import { OrchestratorModule } from '../../modules/orchestrator/orchestrator.module';
import { PromptsModule } from '../../modules/prompts/prompts.module';
import { ConfigModule, type Role } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { DatabaseModule } from '../database/database.module';
import { HealthController } from '../health/health.controller';
import { LoggingModule, RootLoggerModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../redis/redis.module';

/** The platform's modules; bounded contexts are added here as they land. */
@Module({})
export class AppModule {
  static forRole(role: Role, config: AppConfig): DynamicModule {
    const platform: Type[] = [
      RootLoggerModule,
      LoggingModule,
      DatabaseModule,
      RedisModule,
      MetricsModule,
      QueueModule,
    ];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, role),
        ...platform,
        AuditModule,
        IamModule,
        TenancyModule,
        EventsModule,
        IntegrationsModule,
        WebhooksModule,
        OrchestratorModule,
        PromptsModule,
        SeedModule,
      ],
      controllers: [HealthController],
    };
  }
}
