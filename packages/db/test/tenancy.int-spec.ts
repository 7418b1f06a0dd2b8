import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidTenantIdError,
  jobs,
  openDatabase,
  selectRows,
  tenants,
  withSystem,
  withTenant,
  type DatabaseHandle,
} from '../src';
import { createTestDatabase, databaseKinds, type TestDatabase } from './test-database';

describe.each(databaseKinds())('tenancy on %s', (kind) => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  const tenantA = uuidv7();
  const tenantB = uuidv7();

  const newJob = (tenantId: string) => ({
    tenantId,
    name: 'test.job',
    payload: { tenantId },
    correlationId: 'c-1',
    maxAttempts: 3,
  });

  beforeAll(async () => {
    testDb = await createTestDatabase(kind === 'pglite' ? 'pglite' : 'default');
    handle = await openDatabase({
      url: testDb.url,
      dataDir: 'memory://',
      poolMax: 4,
      migrate: true,
    });
    await withSystem(handle.db, async (tx) => {
      await tx.insert(tenants).values([
        { id: tenantA, name: 'A' },
        { id: tenantB, name: 'B' },
      ]);
      await tx.insert(jobs).values([newJob(tenantA), newJob(tenantA), newJob(tenantB)]);
    });
  });

  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  describe('row-level security', () => {
    it('is enabled, forced and has a policy on every table with a tenant_id column', async () => {
      const tables = await selectRows<{
        table_name: string;
        enabled: boolean;
        forced: boolean;
        policies: number;
      }>(
        handle.db,
        sql`
        select c.relname as table_name,
               c.relrowsecurity as enabled,
               c.relforcerowsecurity as forced,
               (select count(*)::int from pg_policies p
                 where p.schemaname = 'public' and p.tablename = c.relname) as policies
          from pg_class c
          join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
         where c.relkind in ('r', 'p')
           and (exists (select 1 from information_schema.columns col
                         where col.table_schema = 'public' and col.table_name = c.relname
                           and col.column_name = 'tenant_id')
                or c.relname = 'tenants')`,
      );
      expect(tables.map((t) => t.table_name).sort()).toEqual(
        expect.arrayContaining(['jobs', 'tenants']),
      );
      const offenders = tables.filter((t) => !t.enabled || !t.forced || t.policies === 0);
      expect(offenders).toEqual([]);
    });

    it('fails closed: without a tenant context a query returns nothing', async () => {
      expect(await handle.db.select().from(jobs)).toEqual([]);
      expect(await handle.db.select().from(tenants)).toEqual([]);
    });

    it('fails closed for inserts without a tenant context', async () => {
      await expect(handle.db.insert(jobs).values(newJob(tenantA))).rejects.toThrow();
    });

    it('shows a tenant only its own rows', async () => {
      const rowsA = await withTenant(handle.db, tenantA, (tx) => tx.select().from(jobs));
      expect(rowsA).toHaveLength(2);
      expect(rowsA.every((r) => r.tenantId === tenantA)).toBe(true);
      const seenTenants = await withTenant(handle.db, tenantB, (tx) => tx.select().from(tenants));
      expect(seenTenants.map((t) => t.id)).toEqual([tenantB]);
    });

    it("refuses to write another tenant's row", async () => {
      await expect(
        withTenant(handle.db, tenantA, (tx) => tx.insert(jobs).values(newJob(tenantB))),
      ).rejects.toThrow();
    });

    it('does not leak the tenant context past its transaction', async () => {
      await withTenant(handle.db, tenantA, (tx) => tx.select().from(jobs));
      expect(await handle.db.select().from(jobs)).toEqual([]);
    });

    it('runs as a role that is neither owner nor superuser', async () => {
      const [me] = await selectRows<{ role: string; superuser: boolean; bypass: boolean }>(
        handle.db,
        sql`select current_user as role, rolsuper as superuser, rolbypassrls as bypass
              from pg_roles where rolname = current_user`,
      );
      expect(me).toEqual({ role: 'maxai_app', superuser: false, bypass: false });
    });

    it('rejects a tenant id that is not a UUID before touching the database', async () => {
      await expect(withTenant(handle.db, "x' or 1=1 --", async () => 1)).rejects.toBeInstanceOf(
        InvalidTenantIdError,
      );
    });

    it('gives new rows a time-ordered UUID v7 key', async () => {
      const [row] = await withSystem(handle.db, (tx) =>
        tx.insert(tenants).values({ name: 'Keyless' }).returning(),
      );
      expect(row?.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    });

    it('lets the system context see every tenant', async () => {
      const all = await withSystem(handle.db, (tx) => tx.select().from(jobs));
      expect(all.length).toBeGreaterThanOrEqual(3);
    });

    it('answers ping and reports pool figures', async () => {
      await expect(handle.ping()).resolves.toBeUndefined();
      expect(handle.poolStats().total).toBeGreaterThanOrEqual(0);
    });
  });
});
