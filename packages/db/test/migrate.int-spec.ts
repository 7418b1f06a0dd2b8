import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations } from '../src';
import { createTestDatabase, usingPostgres, type TestDatabase } from './test-database';

const created: TestDatabase[] = [];
afterAll(async () => {
  for (const db of created) await db.drop();
});

async function countMigrations(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const r = await client.query<{ n: number }>(
    'select count(*)::int as n from drizzle.__drizzle_migrations',
  );
  await client.end();
  return r.rows[0]!.n;
}

describe('migrations', () => {
  it.runIf(usingPostgres())('two replicas migrating at once do not race', async () => {
    const db = await createTestDatabase();
    created.push(db);
    const url = db.url!;
    await Promise.all([runMigrations({ url }), runMigrations({ url }), runMigrations({ url })]);
    const journal = (await import('../migrations/meta/_journal.json')).default;
    expect(await countMigrations(url)).toBe(journal.entries.length);
  });

  it('is idempotent on the embedded database', async () => {
    const client = await PGlite.create('memory://');
    await runMigrations({ pglite: client });
    await runMigrations({ pglite: client });
    const r = await client.query<{ n: number }>(
      'select count(*)::int as n from drizzle.__drizzle_migrations',
    );
    expect(r.rows[0]!.n).toBeGreaterThan(0);
    await client.close();
  });

  it('opens without migrating when told to, and refuses a database that was never migrated', async () => {
    await expect(
      openDatabase({ dataDir: 'memory://', poolMax: 1, migrate: false }),
    ).rejects.toThrow(/maxai_app/);
    if (!usingPostgres()) return;
    const db = await createTestDatabase();
    created.push(db);
    await runMigrations({ url: db.url! });
    const handle = await openDatabase({
      url: db.url,
      dataDir: 'memory://',
      poolMax: 1,
      migrate: false,
    });
    await expect(handle.ping()).resolves.toBeUndefined();
    await handle.close();
    await handle.close();
  });
});
