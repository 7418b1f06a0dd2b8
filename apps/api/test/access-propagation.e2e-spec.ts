import { users, type DatabaseHandle } from '@maxai/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrincipalCache } from '../src/modules/iam/principal-cache';
import { DATABASE } from '../src/platform/database/database.module';
import { as, clientUser, signupOwner, staffToken, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Two replicas of the API on one database and one Redis: a revocation made through one is in
 * force on the other within a second, although both cache principals.
 */
describe.skipIf(!process.env.REDIS_URL)('access changes across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  let owner: Account;
  let clientId: string;

  beforeAll(async () => {
    a = await startTestApp('api');
    b = await startTestApp('api', {
      DATABASE_URL: a.config.DATABASE_URL!,
      REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX,
      MASTER_KEY: a.config.MASTER_KEY!,
    });
    owner = await signupOwner(a.app);
    clientId = (
      await as(a.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'C' })
    ).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await b.app.close();
    await a.close();
  });

  /** Polls replica B until `status` answers, returning how long it took. */
  async function propagation(check: () => Promise<number>, status: number): Promise<number> {
    const started = Date.now();
    await waitFor(async () => (await check()) === status, 1000, 10);
    return Date.now() - started;
  }

  it('serves repeated requests from the cache', async () => {
    const cache = b.app.get(PrincipalCache);
    const before = cache.size;
    expect((await as(b.app, owner.token).get('/v1/me')).statusCode).toBe(200);
    expect(cache.size).toBe(before + 1);
  });

  it('ends a removed member on the other replica within a second', async () => {
    const member = await clientUser(a.app, owner.tenantId, clientId, 'client_viewer');
    const url = `/v1/tenants/${owner.tenantId}/clients/${clientId}`;
    expect((await as(b.app, member.token).get(url)).statusCode).toBe(200);
    const { db } = a.app.get<DatabaseHandle>(DATABASE);
    const [user] = await db.select().from(users).where(eq(users.email, member.email));
    const removed = await as(a.app, owner.token).delete(
      `/v1/tenants/${owner.tenantId}/members/${user!.id}`,
    );
    expect(removed.statusCode).toBe(204);
    const ms = await propagation(
      async () => (await as(b.app, member.token).get(url)).statusCode,
      404,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('ends a revoked API key on the other replica within a second', async () => {
    const created = await as(a.app, owner.token).post(`/v1/tenants/${owner.tenantId}/api-keys`, {
      name: 'replicated',
      permissions: ['clients:read'],
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const url = `/v1/tenants/${owner.tenantId}/clients`;
    expect((await as(b.app, key).get(url)).statusCode).toBe(200);
    expect(
      (await as(a.app, owner.token).delete(`/v1/tenants/${owner.tenantId}/api-keys/${id}`))
        .statusCode,
    ).toBe(204);
    const ms = await propagation(async () => (await as(b.app, key).get(url)).statusCode, 401);
    expect(ms).toBeLessThan(1000);
  });

  it("applies a role change and a tenant's suspension on the other replica", async () => {
    const other = await signupOwner(a.app, 'Suspended Co');
    const url = `/v1/tenants/${other.tenantId}/clients`;
    expect((await as(b.app, other.token).get(url)).statusCode).toBe(200);
    const { db } = a.app.get<DatabaseHandle>(DATABASE);
    await db
      .update(users)
      .set({ platformRole: 'platform_admin' })
      .where(eq(users.email, owner.email));
    const admin = as(a.app, await staffToken(a.app, owner.email));
    expect((await admin.post(`/v1/tenants/${other.tenantId}/suspend`, {})).statusCode).toBe(200);
    const ms = await propagation(
      async () => (await as(b.app, other.token).get(url)).statusCode,
      404,
    );
    expect(ms).toBeLessThan(1000);
  });
});
