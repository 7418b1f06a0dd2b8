import { Controller, Get, Global, Header, Inject, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../database/database.module';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  /** Prometheus exposition format. */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: MetricsService,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => {
        const metrics = new MetricsService();
        metrics.observePool(() => database.poolStats());
        return metrics;
      },
    },
  ],
  exports: [MetricsService],
})
export class MetricsModule {}
