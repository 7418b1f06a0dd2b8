import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';

/** Both `src/` and `dist/` sit one level below the package root, beside `migrations/`. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '..', 'migrations');

/**
 * A fixed advisory-lock key ("maxai-migrate"): replicas starting together queue on it, so
 * exactly one applies the migrations and the others then find nothing left to do.
 */
export const MIGRATION_LOCK_KEY = 0x6d617861_6967n;

export type MigrationTarget = { url: string } | { pglite: PGlite };

export async function runMigrations(target: MigrationTarget): Promise<void> {
  if ('url' in target) {
    // A dedicated session: the lock belongs to the connection that holds it.
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      try {
        await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
      }
    } finally {
      await client.end();
    }
    return;
  }
  const client = target.pglite;
  await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  try {
    await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
  }
}
