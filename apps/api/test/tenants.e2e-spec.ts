import { users, type DatabaseHandle } from '@maxai/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedService } from '../src/modules/seed/seed.service';
import { DATABASE } from '../src/platform/database/database.module';
import { as, signupOwner, staffToken, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let admin: ReturnType<typeof as>;
let owner: Account;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  await t.app
    .get(SeedService)
    .seedIfEmpty({ email: 'root@example.com', password: 'a long admin passphrase' });
  admin = as(t.app, await staffToken(t.app, 'root@example.com', 'a long admin passphrase'));
  owner = await signupOwner(t.app, 'Owned Co');
});
afterAll(async () => {
  await t.close();
});

describe('tenants', () => {
  it('lists every tenant for platform staff and only their own for members', async () => {
    const all = (await admin.get('/v1/tenants')).json<{ data: { name: string }[] }>();
    expect(all.data.map((x) => x.name)).toEqual(
      expect.arrayContaining(['Acme Agency', 'Owned Co']),
    );
    const mine = (await as(t.app, owner.token).get('/v1/tenants')).json<{
      data: { id: string }[];
    }>();
    expect(mine.data.map((x) => x.id)).toEqual([owner.tenantId]);
    const page = (await admin.get('/v1/tenants?limit=1')).json<{
      data: unknown[];
      nextCursor: string;
    }>();
    expect(page.data).toHaveLength(1);
    expect(page.nextCursor).toBeTruthy();
  });

  it('lets only platform admins create tenants', async () => {
    expect((await as(t.app, owner.token).post('/v1/tenants', { name: 'Nope' })).statusCode).toBe(
      403,
    );
    const created = await admin.post('/v1/tenants', { name: 'Fresh Tenant' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'Fresh Tenant', status: 'active' });
  });

  it("suspends a tenant: its members' tokens stop working for it at once; reactivation restores them", async () => {
    const member = as(t.app, owner.token);
    const clients = `/v1/tenants/${owner.tenantId}/clients`;
    expect((await member.get(clients)).statusCode).toBe(200);
    const suspended = await admin.post(`/v1/tenants/${owner.tenantId}/suspend`, {});
    expect(suspended.json()).toMatchObject({ status: 'suspended' });
    expect((await member.get(clients)).statusCode).toBe(404);
    expect((await member.get(`/v1/tenants/${owner.tenantId}`)).statusCode).toBe(404);
    expect((await admin.get(`/v1/tenants/${owner.tenantId}`)).json()).toMatchObject({
      status: 'suspended',
    });
    await admin.post(`/v1/tenants/${owner.tenantId}/reactivate`, {});
    expect((await member.get(clients)).statusCode).toBe(200);
    const trail = (
      await member.get(`/v1/tenants/${owner.tenantId}/audit-events?action=tenant.suspended`)
    ).json<{
      data: { actorType: string }[];
    }>();
    expect(trail.data).toMatchObject([{ actorType: 'platform_staff' }]);
  });

  it('keeps platform support read-only', async () => {
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const supportAccount = await signupOwner(t.app, 'Support Home');
    await db
      .update(users)
      .set({ platformRole: 'platform_support' })
      .where(eq(users.email, supportAccount.email));
    const support = as(t.app, await staffToken(t.app, supportAccount.email));
    expect((await support.get(`/v1/tenants/${owner.tenantId}`)).statusCode).toBe(200);
    expect((await support.get(`/v1/tenants/${owner.tenantId}/clients`)).statusCode).toBe(200);
    expect((await support.post(`/v1/tenants/${owner.tenantId}/suspend`, {})).statusCode).toBe(403);
    expect(
      (await support.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'x' })).statusCode,
    ).toBe(403);
  });
});
