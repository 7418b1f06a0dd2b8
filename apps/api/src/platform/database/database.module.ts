import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { openDatabase, type DatabaseHandle } from '@maxai/db';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { ROOT_LOGGER } from '../logging/logging.module';
import { retryUntilSuccess } from './retry';

export const DATABASE = Symbol('DATABASE');

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, logger: Logger): Promise<DatabaseHandle> =>
        retryUntilSuccess(
          () =>
            openDatabase({
              url: config.DATABASE_URL,
              dataDir: config.PGLITE_DATA_DIR,
              poolMax: config.DB_POOL_MAX,
              migrate: config.MIGRATE_ON_START,
              statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
            }),
          {
            maxDelayMs: config.DB_CONNECT_MAX_DELAY_MS,
            onRetry: (error, attempt, delayMs) =>
              logger.warn(
                { err: error, attempt, retryInMs: delayMs },
                `database not reachable (attempt ${attempt}); retrying in ${Math.round(delayMs / 100) / 10}s`,
              ),
          },
        ).then((handle) => {
          logger.info({ database: handle.kind }, `database ready (${handle.kind})`);
          return handle;
        }),
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: DatabaseHandle) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
