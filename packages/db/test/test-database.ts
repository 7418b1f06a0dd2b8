import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** PostgreSQL URL of a fresh, empty database; undefined in embedded mode (PGlite in memory). */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * With DATABASE_URL set, every test file gets its own throw-away database on that server, so
 * files run in parallel without seeing each other's rows; without it, tests use in-memory PGlite.
 */
export async function createTestDatabase(
  kind: 'default' | 'pglite' = 'default',
): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base || kind === 'pglite') return { url: undefined, drop: async () => undefined };
  const name = `maxai_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const usingPostgres = (): boolean => Boolean(process.env.DATABASE_URL);

/** The embedded database always; PostgreSQL too when DATABASE_URL is set. */
export const databaseKinds = (): ('pglite' | 'postgres')[] =>
  usingPostgres() ? ['pglite', 'postgres'] : ['pglite'];
