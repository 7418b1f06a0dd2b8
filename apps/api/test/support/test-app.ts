import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from '../../../../packages/db/test/test-database';
import type { Role } from '../../src/platform/config/config.module';
import { loadConfig, type AppConfig } from '../../src/platform/config/config.schema';
import { createApp } from '../../src/platform/app/create-app';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * The real application for a role, on a fresh database (PostgreSQL when DATABASE_URL is set,
 * in-memory PGlite otherwise) and Redis when REDIS_URL is set.
 */
export async function startTestApp(
  role: Role = 'standalone',
  env: Record<string, string> = {},
): Promise<TestApp> {
  const db: TestDatabase = await createTestDatabase();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PGLITE_DATA_DIR: 'memory://',
    JOBS_POLL_INTERVAL_MS: '20',
    REDIS_KEY_PREFIX: `maxai-test-${randomBytes(4).toString('hex')}`,
    MASTER_KEY: randomBytes(32).toString('base64'),
    SEED_ON_START: 'false',
    SIMULATORS_EMBEDDED: 'false',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...env,
  });
  const app = await createApp(role, config);
  return {
    app,
    config,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
