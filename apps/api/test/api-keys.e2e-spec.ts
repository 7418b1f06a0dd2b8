import { PrincipalCache } from '../src/modules/iam/principal-cache';
import { apiKeys, type DatabaseHandle } from '@maxai/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE } from '../src/platform/database/database.module';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;
let clientId: string;
let siblingId: string;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app);
  const api = as(t.app, owner.token);
  clientId = (await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Keyed' })).json<{
    id: string;
  }>().id;
  siblingId = (await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Sibling' })).json<{
    id: string;
  }>().id;
});
afterAll(async () => {
  await t.close();
});

const keysUrl = () => `/v1/tenants/${owner.tenantId}/api-keys`;
async function createKey(
  body: object,
): Promise<{ key: string; id: string; displayPrefix: string }> {
  const res = await as(t.app, owner.token).post(keysUrl(), body);
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe('API keys', () => {
  it('is shown once, listed without its secret, and works within its permissions only', async () => {
    const created = await createKey({
      name: 'sync',
      permissions: ['clients:read', 'agents:read', 'agents:create'],
    });
    expect(created.key).toMatch(/^mk_live_[A-Za-z0-9_-]{32}$/);
    expect(created.key.startsWith(created.displayPrefix)).toBe(true);
    const listed = (await as(t.app, owner.token).get(keysUrl())).body;
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.key);

    const server = as(t.app, created.key);
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    expect((await server.get(base)).statusCode).toBe(200);
    expect((await server.post(base, { name: 'no' })).statusCode).toBe(403);
    const agent = await server.post(`${base}/${clientId}/agents`, {
      name: 'By key',
      channel: 'sms',
    });
    expect(agent.statusCode).toBe(201);
    expect((await server.get('/v1/me')).statusCode).toBe(403);
    const stranger = await signupOwner(t.app);
    expect((await server.get(`/v1/tenants/${stranger.tenantId}/clients`)).statusCode).toBe(404);

    const trail = (
      await as(t.app, owner.token).get(
        `/v1/tenants/${owner.tenantId}/audit-events?action=agent.created`,
      )
    ).json<{ data: { actorType: string; actorId: string }[] }>();
    expect(trail.data[0]).toMatchObject({ actorType: 'api_key', actorId: created.id });
    const after = (await as(t.app, owner.token).get(keysUrl())).json<{
      data: { id: string; lastUsedAt: string | null }[];
    }>();
    expect(after.data.find((k) => k.id === created.id)?.lastUsedAt).not.toBeNull();
  });

  it('scoped to a client, sees only that client', async () => {
    const { key } = await createKey({
      name: 'one client',
      clientId,
      permissions: ['clients:read', 'agents:read'],
    });
    const server = as(t.app, key);
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    const listed = (await server.get(base)).json<{ data: { id: string }[] }>();
    expect(listed.data.map((c) => c.id)).toEqual([clientId]);
    expect((await server.get(`${base}/${clientId}/agents`)).statusCode).toBe(200);
    expect((await server.get(`${base}/${siblingId}`)).statusCode).toBe(404);
  });

  it('cannot be given more than its creator holds, nor be made by those without api_keys:manage', async () => {
    const res = await as(t.app, owner.token).post(keysUrl(), {
      name: 'too much',
      permissions: ['tenants:create'],
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ permissions: ['tenants:create'] });
    const viewer = await clientUser(t.app, owner.tenantId, clientId, 'client_viewer');
    expect(
      (await as(t.app, viewer.token).post(keysUrl(), { name: 'x', permissions: ['agents:read'] }))
        .statusCode,
    ).toBe(403);
    const ghostClient = await as(t.app, owner.token).post(keysUrl(), {
      name: 'ghost',
      clientId: '0190d1a8-0000-7000-8000-00000000abcd',
      permissions: ['agents:read'],
    });
    expect(ghostClient.statusCode).toBe(404);
  });

  it('stops working once revoked or expired', async () => {
    const revoked = await createKey({ name: 'to revoke', permissions: ['clients:read'] });
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    expect((await as(t.app, revoked.key).get(base)).statusCode).toBe(200);
    expect((await as(t.app, owner.token).delete(`${keysUrl()}/${revoked.id}`)).statusCode).toBe(
      204,
    );
    expect((await as(t.app, revoked.key).get(base)).statusCode).toBe(401);
    expect(
      (await as(t.app, owner.token).delete(`${keysUrl()}/0190d1a8-0000-7000-8000-00000000abcd`))
        .statusCode,
    ).toBe(404);

    const past = await as(t.app, owner.token).post(keysUrl(), {
      name: 'past',
      permissions: ['clients:read'],
      expiresAt: '2020-01-01T00:00:00.000Z',
    });
    expect(past.statusCode).toBe(400);
    const expiring = await createKey({
      name: 'expiring',
      permissions: ['clients:read'],
      expiresAt: '2999-01-01T00:00:00.000Z',
    });
    expect((await as(t.app, expiring.key).get(base)).statusCode).toBe(200);
    await t.app.get<DatabaseHandle>(DATABASE).db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('app.system', 'on', true)`);
      await tx
        .update(apiKeys)
        .set({ expiresAt: sql`now() - interval '1 second'` })
        .where(sql`${apiKeys.id} = ${expiring.id}`);
    });
    // Changed behind the API's back: what an admin tool would announce to every replica.
    await t.app.get(PrincipalCache).invalidate('all');
    expect((await as(t.app, expiring.key).get(base)).statusCode).toBe(401);
    expect((await as(t.app, 'mk_live_unknown').get(base)).statusCode).toBe(401);
  });
});
