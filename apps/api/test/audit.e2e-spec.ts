import { afterAll, beforeAll, expect, it } from 'vitest';
import { as, clientUser, signupOwner } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
});
afterAll(async () => {
  await t.close();
});

it('lists, filters, pages and verifies the audit trail over HTTP, for those allowed', async () => {
  const owner = await signupOwner(t.app);
  const api = as(t.app, owner.token);
  const base = `/v1/tenants/${owner.tenantId}`;
  const client = (await api.post(`${base}/clients`, { name: 'Audited' })).json<{ id: string }>();
  await api.patch(`${base}/clients/${client.id}`, { name: 'Audited 2' });

  const all = (await api.get(`${base}/audit-events?limit=2`)).json<{
    data: { seq: number; action: string }[];
    nextCursor: number;
  }>();
  expect(all.data.map((e) => e.action)).toEqual(['client.updated', 'client.created']);
  const rest = (await api.get(`${base}/audit-events?cursor=${all.nextCursor}`)).json<{
    data: { action: string }[];
    nextCursor: null;
  }>();
  expect(rest.data.map((e) => e.action)).toEqual(['auth.signed_up', 'tenant.created']);
  expect(rest.nextCursor).toBeNull();

  const filtered = (
    await api.get(`${base}/audit-events?action=client.created&targetId=${client.id}`)
  ).json<{
    data: { targetId: string; correlationId: string }[];
  }>();
  expect(filtered.data).toHaveLength(1);
  expect(filtered.data[0]!.correlationId).toBeTruthy();

  const me = (await api.get('/v1/me')).json<{ user: { id: string } }>();
  const byActor = (await api.get(`${base}/audit-events?actorId=${me.user.id}`)).json<{
    data: unknown[];
  }>();
  expect(byActor.data).toHaveLength(4);

  expect((await api.get(`${base}/audit-events/verify`)).json()).toMatchObject({
    valid: true,
    checked: 4,
  });

  const viewer = await clientUser(t.app, owner.tenantId, client.id, 'client_viewer');
  expect((await as(t.app, viewer.token).get(`${base}/audit-events`)).statusCode).toBe(403);
  const stranger = await signupOwner(t.app);
  expect((await as(t.app, stranger.token).get(`${base}/audit-events/verify`)).statusCode).toBe(404);
});
