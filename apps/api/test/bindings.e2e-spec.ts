import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

describe('port bindings', () => {
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let clientId: string;
  let agentId: string;

  const connect = async (provider: string, credentials: object, forClient?: string) => {
    const res = await api.post(`/v1/tenants/${owner.tenantId}/connections`, {
      provider,
      name: `${provider} ${Math.random()}`,
      credentials,
      ...(forClient ? { clientId: forClient } : {}),
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const twilio = (forClient?: string) =>
    connect(
      'twilio',
      { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'token-123456' },
      forClient,
    );

  beforeAll(async () => {
    t = await startTestApp('api');
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}/bindings`;
    clientId = (await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'C' })).json<{
      id: string;
    }>().id;
    agentId = (
      await api.post(`/v1/tenants/${owner.tenantId}/clients/${clientId}/agents`, {
        name: 'A',
        channel: 'sms',
      })
    ).json<{ id: string }>().id;
  });
  afterAll(() => t.close());

  const resolved = async (query: string) =>
    (await api.get(`${base}/resolve?port=messaging${query}`)).json<{
      binding: { connectionId: string } | null;
    }>().binding?.connectionId ?? null;

  it('resolves the most specific binding: agent, then client, then tenant', async () => {
    expect(await resolved('')).toBeNull();
    const tenantWide = await twilio();
    const forClient = await twilio(clientId);
    const forAgent = await twilio();
    const set = async (body: object) => {
      const res = await api.put(`${base}/messaging`, body);
      expect(res.statusCode).toBe(200);
      return res.json<{ id: string }>().id;
    };
    await set({ connectionId: tenantWide });
    const clientBinding = await set({ connectionId: forClient, clientId });
    await set({ connectionId: forAgent, clientId, agentId });
    expect(await resolved('')).toBe(tenantWide);
    expect(await resolved(`&clientId=${clientId}`)).toBe(forClient);
    expect(await resolved(`&clientId=${clientId}&agentId=${agentId}`)).toBe(forAgent);
    // Re-binding a scope replaces it; removing a binding falls back to the wider scope.
    expect(await set({ connectionId: tenantWide, clientId })).toBe(clientBinding);
    expect(await resolved(`&clientId=${clientId}`)).toBe(tenantWide);
    expect((await api.delete(`${base}/${clientBinding}`)).statusCode).toBe(204);
    expect((await api.delete(`${base}/${clientBinding}`)).statusCode).toBe(404);
    const listed = (await api.get(base)).json<{ data: unknown[] }>().data;
    expect(listed).toHaveLength(2);
    const trail = await api.get(`/v1/tenants/${owner.tenantId}/audit-events?action=binding.set`);
    expect(trail.json<{ data: unknown[] }>().data.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a provider that does not implement the port, and foreign scopes', async () => {
    const voice = await connect('retell', { apiKey: 'key_0123456789' });
    const wrongPort = await api.put(`${base}/messaging`, { connectionId: voice });
    expect(wrongPort.statusCode).toBe(422);
    const clientOnly = await twilio(clientId);
    expect((await api.put(`${base}/messaging`, { connectionId: clientOnly })).statusCode).toBe(422);
    const agentWithoutClient = await api.put(`${base}/messaging`, {
      connectionId: clientOnly,
      agentId,
    });
    expect(agentWithoutClient.statusCode).toBe(400);
    const strangerAgent = await api.put(`${base}/messaging`, {
      connectionId: clientOnly,
      clientId,
      agentId: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f',
    });
    expect(strangerAgent.statusCode).toBe(404);
    const missing = await api.put(`${base}/messaging`, {
      connectionId: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f',
    });
    expect(missing.statusCode).toBe(404);
    expect((await api.put(`${base}/telepathy`, { connectionId: voice })).statusCode).toBe(400);
  });

  it('lets client users see and manage only their client', async () => {
    const viewer = await clientUser(t.app, owner.tenantId, clientId, 'client_viewer');
    const admin = await clientUser(t.app, owner.tenantId, clientId, 'client_admin');
    const mine = await twilio(clientId);
    const viewerApi = as(t.app, viewer.token);
    const adminApi = as(t.app, admin.token);
    expect(
      (await viewerApi.put(`${base}/messaging`, { connectionId: mine, clientId })).statusCode,
    ).toBe(403);
    const bound = await adminApi.put(`${base}/messaging`, { connectionId: mine, clientId });
    expect(bound.statusCode).toBe(200);
    const seen = (await viewerApi.get(base)).json<{ data: { clientId: string | null }[] }>().data;
    expect(seen.every((b) => b.clientId === clientId)).toBe(true);
    // The tenant-wide binding is beyond a client admin.
    const tenantWide = (await api.get(base))
      .json<{ data: { id: string; clientId: string | null }[] }>()
      .data.find((b) => b.clientId === null)!;
    expect((await adminApi.delete(`${base}/${tenantWide.id}`)).statusCode).toBe(403);
    expect((await adminApi.put(`${base}/messaging`, { connectionId: mine })).statusCode).toBe(403);
    const stranger = await signupOwner(t.app);
    expect((await as(t.app, stranger.token).delete(`${base}/${tenantWide.id}`)).statusCode).toBe(
      404,
    );
  });
});
