import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticated } from '../src/modules/iam/auth.guard';
import { AuthService } from '../src/modules/iam/auth.service';
import { TenancyService } from '../src/modules/tenancy/tenancy.service';
import { ProblemError } from '../src/platform/errors/problem';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * The service-layer check on its own, without the HTTP guard in front: a caller that reached a
 * service method by any other path is still judged against the resource it touches.
 */
let t: TestApp;
let service: TenancyService;
let owner: Account;
let ids: { clientId: string; agentId: string; otherClientId: string };

async function callerOf(token: string): Promise<Authenticated> {
  const me = await as(t.app, token).get('/v1/me');
  const userId = me.json<{ user: { id: string } }>().user.id;
  const loaded = await t.app.get(AuthService).principal(userId);
  return { ...loaded!, actor: { type: 'user', id: userId }, sessionId: 'test' };
}

async function problemOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error.problemType;
    throw error;
  }
  return 'none';
}

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  service = t.app.get(TenancyService);
  owner = await signupOwner(t.app);
  const api = as(t.app, owner.token);
  const base = `/v1/tenants/${owner.tenantId}/clients`;
  const client = (await api.post(base, { name: 'A' })).json<{ id: string }>();
  const other = (await api.post(base, { name: 'B' })).json<{ id: string }>();
  const agent = (
    await api.post(`${base}/${client.id}/agents`, { name: 'Ag', channel: 'sms' })
  ).json<{ id: string }>();
  ids = { clientId: client.id, agentId: agent.id, otherClientId: other.id };
});
afterAll(async () => {
  await t.close();
});

describe('TenancyService checks the resource itself', () => {
  it('forbids what a visible resource does not allow, hides what is not visible', async () => {
    const viewer = await callerOf(
      (await clientUser(t.app, owner.tenantId, ids.clientId, 'client_viewer')).token,
    );
    const meta = {};
    const { tenantId } = owner;
    expect(
      await problemOf(
        service.updateAgent(viewer, tenantId, ids.clientId, ids.agentId, { name: 'x' }, meta),
      ),
    ).toBe('forbidden');
    expect(
      await problemOf(service.deleteAgent(viewer, tenantId, ids.clientId, ids.agentId, meta)),
    ).toBe('forbidden');
    expect(
      await problemOf(service.updateClient(viewer, tenantId, ids.clientId, { name: 'x' }, meta)),
    ).toBe('forbidden');
    expect(await problemOf(service.deleteClient(viewer, tenantId, ids.clientId, meta))).toBe(
      'forbidden',
    );
    expect(await problemOf(service.createClient(viewer, tenantId, { name: 'x' }, meta))).toBe(
      'not-found',
    );
    expect(await problemOf(service.getClient(viewer, tenantId, ids.otherClientId))).toBe(
      'not-found',
    );
    expect(
      await problemOf(
        service.createAgent(
          viewer,
          tenantId,
          ids.otherClientId,
          { name: 'x', channel: 'sms', status: 'draft', timezone: 'UTC', settings: {} },
          meta,
        ),
      ),
    ).toBe('not-found');
    expect(
      await problemOf(service.getAgent(viewer, tenantId, ids.otherClientId, ids.agentId)),
    ).toBe('not-found');
  });

  it("refuses another tenant's caller everywhere", async () => {
    const stranger = await callerOf((await signupOwner(t.app)).token);
    expect(await problemOf(service.getClient(stranger, owner.tenantId, ids.clientId))).toBe(
      'not-found',
    );
    expect(
      await problemOf(service.listAgents(stranger, owner.tenantId, ids.clientId, { limit: 5 })),
    ).toBe('not-found');
    const page = await service.listClients(stranger, owner.tenantId, { limit: 5 });
    expect(page.data).toEqual([]);
  });

  it('pages agents with a cursor', async () => {
    const caller = await callerOf(owner.token);
    const api = as(t.app, owner.token);
    for (const name of ['b', 'c']) {
      await api.post(`/v1/tenants/${owner.tenantId}/clients/${ids.clientId}/agents`, {
        name,
        channel: 'chat',
      });
    }
    const first = await service.listAgents(caller, owner.tenantId, ids.clientId, { limit: 2 });
    expect(first.data).toHaveLength(2);
    const second = await service.listAgents(caller, owner.tenantId, ids.clientId, {
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second).toMatchObject({ nextCursor: null });
    expect(second.data).toHaveLength(1);
  });

  it('answers 404 for ids that are not UUIDs, and records requests without a user agent', async () => {
    const api = as(t.app, owner.token);
    expect((await api.get('/v1/tenants/not-a-uuid/clients')).statusCode).toBe(404);
    expect((await api.get(`/v1/tenants/${owner.tenantId}/clients/not-a-uuid`)).statusCode).toBe(
      404,
    );
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/tenants/${owner.tenantId}/clients`,
      headers: { authorization: `Bearer ${owner.token}`, 'user-agent': '' },
      payload: { name: 'No UA' },
    });
    expect(res.statusCode).toBe(201);
  });
});
