import { sql } from 'drizzle-orm';
import { openDatabase, tenants, withSystem, withTenant, type DatabaseHandle } from '@maxai/db';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '../../../packages/db/test/test-database';
import { requestContext } from '../src/platform/http/request-context';
import { AuditRepository } from '../src/modules/audit/audit.repository';
import { AuditService } from '../src/modules/audit/audit.service';

describe.each(databaseKinds())('audit trail on %s', (kind) => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let audit: AuditService;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind === 'pglite' ? 'pglite' : 'default');
    handle = await openDatabase({
      url: testDb.url,
      dataDir: 'memory://',
      poolMax: 8,
      migrate: true,
    });
    audit = new AuditService(new AuditRepository(handle.db));
  });
  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  /** Runs SQL as the table owner (a superuser here), the way an attacker with DB access would. */
  async function asOwner(...statements: string[]): Promise<void> {
    if (testDb.url) {
      const client = new pg.Client({ connectionString: testDb.url });
      await client.connect();
      for (const statement of statements) await client.query(statement);
      await client.end();
    } else {
      // The embedded database's session user is its superuser; the app runs under SET ROLE.
      await handle.db.execute(sql.raw('RESET ROLE'));
      for (const statement of statements) await handle.db.execute(sql.raw(statement));
      await handle.db.execute(sql.raw('SET ROLE maxai_app'));
    }
  }

  async function failure(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    }
    return 'no error';
  }

  async function tenantWithEntries(count: number): Promise<string> {
    const tenantId = uuidv7();
    await withSystem(handle.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
    for (let i = 1; i <= count; i += 1) {
      await withTenant(handle.db, tenantId, (tx) =>
        audit.record(tx, {
          tenantId,
          actor: { type: 'user', id: `user-${i}` },
          action: 'agent.updated',
          target: { type: 'agent', id: `agent-${i}` },
          changes: {
            name: { from: `a${i}`, to: `b${i}` },
            nested: { apiKey: 'sk_live_x', order: [3, 1] },
          },
        }),
      );
    }
    return tenantId;
  }

  it('chains entries with gapless sequence numbers and verifies them', async () => {
    const tenantId = await tenantWithEntries(5);
    const rows = await new AuditRepository(handle.db).page(tenantId, 0, 100);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(await audit.verify(tenantId)).toEqual({
      valid: true,
      checked: 5,
      checkpoints: 0,
      head: { seq: 5, hash: rows[4]!.hash },
    });
  });

  it('never stores secrets in the change set, and records the correlation id', async () => {
    const tenantId = await tenantWithEntries(0);
    const row = await requestContext.run({ correlationId: 'corr-audit-1' }, () =>
      withTenant(handle.db, tenantId, (tx) =>
        audit.record(tx, {
          tenantId,
          actor: { type: 'system' },
          action: 'auth.password_changed',
          outcome: 'success',
          changes: {
            password: 'hunter2',
            card: '4242424242424242',
            note: 'paid with 4111 1111 1111 1111',
          },
        }),
      ),
    );
    expect(row.correlationId).toBe('corr-audit-1');
    expect(JSON.stringify(row.changes)).not.toMatch(/hunter2|4242424242424242|4111 1111 1111 1111/);
    expect(row.changes).toMatchObject({ password: '[redacted]', card: '[redacted]' });
  });

  it('keeps one gapless chain under concurrent appends', async () => {
    const tenantId = await tenantWithEntries(0);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withTenant(handle.db, tenantId, (tx) =>
          audit.record(tx, { tenantId, actor: { type: 'system' }, action: `job.ran.${i}` }),
        ),
      ),
    );
    expect(await audit.verify(tenantId)).toMatchObject({ valid: true, checked: 20 });
  });

  it('is append-only for the application role, even in system context', async () => {
    const tenantId = await tenantWithEntries(1);
    expect(
      await failure(
        withSystem(handle.db, (tx) =>
          tx.execute(sql`update audit_events set action = 'x' where tenant_id = ${tenantId}`),
        ),
      ),
    ).toMatch(/permission denied/);
    expect(
      await failure(
        withSystem(handle.db, (tx) =>
          tx.execute(sql`delete from audit_events where tenant_id = ${tenantId}`),
        ),
      ),
    ).toMatch(/permission denied/);
  });

  it('detects an edited entry', async () => {
    const tenantId = await tenantWithEntries(4);
    await asOwner(
      `update audit_events set action = 'agent.deleted' where tenant_id = '${tenantId}' and seq = 2`,
    );
    expect(await audit.verify(tenantId)).toEqual({
      valid: false,
      checked: 1,
      firstBreak: { seq: 2, reason: 'hash_mismatch' },
    });
  });

  it('detects an edited entry whose own hash was recomputed', async () => {
    const tenantId = await tenantWithEntries(4);
    await asOwner(
      `update audit_events set action = 'agent.deleted', hash = repeat('a', 64) where tenant_id = '${tenantId}' and seq = 2`,
    );
    const result = await audit.verify(tenantId);
    expect(result).toMatchObject({ valid: false, firstBreak: { seq: 2 } });
  });

  it('detects a deleted entry', async () => {
    const tenantId = await tenantWithEntries(4);
    await asOwner(`delete from audit_events where tenant_id = '${tenantId}' and seq = 2`);
    expect(await audit.verify(tenantId)).toMatchObject({
      valid: false,
      firstBreak: { seq: 3, reason: 'sequence_gap', expected: 2 },
    });
  });

  it('detects reordered entries', async () => {
    const tenantId = await tenantWithEntries(4);
    const where = `where tenant_id = '${tenantId}'`;
    await asOwner(
      `update audit_events set seq = -2 ${where} and seq = 2`,
      `update audit_events set seq = 2 ${where} and seq = 3`,
      `update audit_events set seq = 3 ${where} and seq = -2`,
    );
    expect(await audit.verify(tenantId)).toMatchObject({ valid: false, firstBreak: { seq: 2 } });
  });

  it('detects a truncated tail', async () => {
    const tenantId = await tenantWithEntries(4);
    await asOwner(`delete from audit_events where tenant_id = '${tenantId}' and seq = 4`);
    expect(await audit.verify(tenantId)).toEqual({
      valid: false,
      checked: 3,
      firstBreak: { seq: 4, reason: 'missing_tail' },
    });
  });

  it('verifies a tenant without entries', async () => {
    const tenantId = await tenantWithEntries(0);
    expect(await audit.verify(tenantId)).toMatchObject({ valid: true, checked: 0 });
    expect(await new AuditRepository(handle.db).count(tenantId)).toBe(0);
  });
});
