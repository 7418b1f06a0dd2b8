import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import { runMigrations } from './migrate';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface DatabaseHandle {
  readonly kind: 'pglite' | 'postgres';
  /** Runs as the application role: row-level security applies to every query. */
  readonly db: Database;
  ping(): Promise<void>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent the embedded PGlite under `dataDir` is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files (ignored with `url`). `memory://` keeps nothing. */
  dataDir: string;
  poolMax: number;
  migrate: boolean;
  statementTimeoutMs?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.migrate) await runMigrations({ url });
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    // The role is part of the startup packet: a connection that cannot become the
    // application role fails, rather than silently running as the (RLS-exempt) owner.
    options: `-c role=${schema.APP_ROLE_NAME} -c statement_timeout=${options.statementTimeoutMs ?? 30_000}`,
  });
  // A broken idle connection must not crash the process; the pool discards it.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool, { schema });
  let closing: Promise<void> | undefined;
  const handle: DatabaseHandle = {
    kind: 'postgres',
    db,
    ping: async () => {
      await pool.query('select 1');
    },
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    close: () => (closing ??= pool.end()),
  };
  await handle.ping();
  return handle;
}

async function openPglite(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir);
  if (options.migrate) await runMigrations({ pglite: client });
  await client.exec(`SET ROLE ${schema.APP_ROLE_NAME}`);
  const db = drizzlePglite(client, { schema });
  let closed = false;
  return {
    kind: 'pglite',
    db,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    // One embedded connection, serialised by PGlite itself.
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/**
 * Rows of a raw SQL query. Both drivers answer `execute` with `{ rows }`; the shared PgDatabase
 * type cannot say so, hence this one typed place.
 */
export async function selectRows<T>(executor: Database | Tx, query: SQL): Promise<T[]> {
  const result: unknown = await executor.execute(query);
  return (result as { rows: T[] }).rows;
}
