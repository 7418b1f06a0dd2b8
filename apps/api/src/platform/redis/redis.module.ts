import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { ROOT_LOGGER } from '../logging/logging.module';

/** The shared Redis client (rate limits, readiness), or null when REDIS_URL is not set. */
export const REDIS = Symbol('REDIS');

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, logger: Logger): Redis | null => {
        if (!config.REDIS_URL) return null;
        const redis = new Redis(config.REDIS_URL, {
          // Fail fast rather than queue commands while Redis is away: callers degrade instead.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
        });
        redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
        return redis;
      },
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
