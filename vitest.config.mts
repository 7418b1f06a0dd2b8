import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * `npm test` runs against real PostgreSQL and Redis (the local standard ports unless
 * DATABASE_URL / REDIS_URL say otherwise) and enforces coverage. `npm run test:embedded` runs
 * the same suites on PGlite without Redis — what `npm start` uses — without the coverage gate.
 */
const embedded = process.env.TEST_EMBEDDED === '1';
// Processes the tests start must not all grab the simulators' port; tests start their own.
process.env.SIMULATORS_EMBEDDED ??= 'false';
if (embedded) {
  delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
} else {
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
}

export default defineConfig({
  oxc: {
    decorator: { legacy: true, emitDecoratorMetadata: true },
  },
  resolve: {
    alias: {
      '@maxai/core': here('./packages/core/src/index.ts'),
      '@maxai/db': here('./packages/db/src/index.ts'),
      '@maxai/integrations': here('./packages/integrations/src/index.ts'),
      '@maxai/simulators': here('./packages/simulators/src/index.ts'),
    },
  },
  test: {
    include: ['{apps,packages}/*/{src,test}/**/*.{spec,int-spec,e2e-spec}.ts'],
    setupFiles: [here('./vitest.setup.ts')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
      exclude: [
        '**/*.{spec,int-spec,e2e-spec}.ts',
        // entry points: thin process wiring exercised by the process-level tests
        'apps/api/src/main.ts',
        'apps/api/src/worker.ts',
        'apps/api/src/standalone.ts',
        'apps/api/src/seed-cli.ts',
        'apps/api/src/keys-rotate-cli.ts',
        'packages/simulators/src/cli.ts',
        // the entry points' preamble: starts tracing before anything else loads
        'apps/api/src/platform/tracing/register.ts',
        'packages/db/src/migrate-cli.ts',
        'packages/db/migrations/**',
      ],
      thresholds: embedded ? {} : { lines: 95, branches: 95 },
    },
  },
});
