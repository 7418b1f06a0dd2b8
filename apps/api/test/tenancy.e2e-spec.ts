import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../src/modules/audit/audit.service';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app);
});
afterAll(async () => {
  await t.close();
});

describe('clients and agents', () => {
  it('creates, reads, updates, lists and deletes, auditing each change', async () => {
    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    const created = await api.post(base, { name: 'Bright Smiles Dental' });
    expect(created.statusCode).toBe(201);
    const client = created.json<{ id: string; name: string; status: string }>();
    expect(client).toMatchObject({ name: 'Bright Smiles Dental', status: 'active' });

    const agentRes = await api.post(`${base}/${client.id}/agents`, {
      name: 'Front Desk',
      channel: 'voice',
      timezone: 'America/New_York',
      settings: { greeting: 'Hello!' },
    });
    expect(agentRes.statusCode).toBe(201);
    const agent = agentRes.json<{ id: string; status: string; clientId: string }>();
    expect(agent).toMatchObject({ status: 'draft', clientId: client.id });

    const patched = await api.patch(`${base}/${client.id}/agents/${agent.id}`, {
      status: 'active',
    });
    expect(patched.json()).toMatchObject({ status: 'active', timezone: 'America/New_York' });
    expect((await api.get(`${base}/${client.id}/agents/${agent.id}`)).statusCode).toBe(200);
    const agents = await api.get(`${base}/${client.id}/agents?limit=10`);
    expect(agents.json<{ data: unknown[] }>().data).toHaveLength(1);
    expect(
      (await api.patch(`${base}/${client.id}`, { name: 'Bright Smiles' })).json(),
    ).toMatchObject({
      name: 'Bright Smiles',
    });
    expect((await api.get(`${base}/${client.id}`)).statusCode).toBe(200);
    expect((await api.delete(`${base}/${client.id}/agents/${agent.id}`)).statusCode).toBe(204);
    expect((await api.get(`${base}/${client.id}/agents/${agent.id}`)).statusCode).toBe(404);
    expect((await api.delete(`${base}/${client.id}`)).statusCode).toBe(204);
    expect((await api.get(`${base}/${client.id}`)).statusCode).toBe(404);

    const verification = await t.app.get(AuditService).verify(owner.tenantId);
    expect(verification).toMatchObject({ valid: true });
    expect(verification.checked).toBeGreaterThanOrEqual(8);
  });

  it('validates input with field-level problems', async () => {
    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    const client = (await api.post(base, { name: 'C' })).json<{ id: string }>();
    const bad = await api.post(`${base}/${client.id}/agents`, {
      name: '',
      channel: 'fax',
      timezone: 'Mars/Olympus',
    });
    expect(bad.statusCode).toBe(400);
    const fields = bad
      .json<{ errors: { field: string }[] }>()
      .errors.map((e) => e.field)
      .sort();
    expect(fields).toEqual(['channel', 'name', 'timezone']);
    expect((await api.patch(`${base}/${client.id}`, {})).statusCode).toBe(400);
    expect((await api.get(`${base}?limit=0`)).statusCode).toBe(400);
  });

  it('pages with a cursor', async () => {
    const other = await signupOwner(t.app);
    const api = as(t.app, other.token);
    const base = `/v1/tenants/${other.tenantId}/clients`;
    for (const name of ['a', 'b', 'c']) await api.post(base, { name });
    const first = (await api.get(`${base}?limit=2`)).json<{
      data: { id: string }[];
      nextCursor: string;
    }>();
    expect(first.data).toHaveLength(2);
    const second = (await api.get(`${base}?limit=2&cursor=${first.nextCursor}`)).json<{
      data: unknown[];
      nextCursor: null;
    }>();
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });
});

describe('client-level users', () => {
  it('reach only the client granted, and only with their role', async () => {
    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}/clients`;
    const mine = (await api.post(base, { name: 'Mine' })).json<{ id: string }>();
    const sibling = (await api.post(base, { name: 'Sibling' })).json<{ id: string }>();
    const siblingAgent = (
      await api.post(`${base}/${sibling.id}/agents`, { name: 'S', channel: 'sms' })
    ).json<{ id: string }>();

    const viewer = as(
      t.app,
      (await clientUser(t.app, owner.tenantId, mine.id, 'client_viewer')).token,
    );
    const listed = (await viewer.get(base)).json<{ data: { id: string }[] }>();
    expect(listed.data.map((c) => c.id)).toEqual([mine.id]);
    expect((await viewer.get(`${base}/${mine.id}/agents`)).statusCode).toBe(200);
    expect(
      (await viewer.post(`${base}/${mine.id}/agents`, { name: 'X', channel: 'chat' })).statusCode,
    ).toBe(403);
    expect((await viewer.get(`${base}/${sibling.id}`)).statusCode).toBe(404);
    expect((await viewer.get(`${base}/${sibling.id}/agents/${siblingAgent.id}`)).statusCode).toBe(
      404,
    );
    // The sibling's agent through my own client's path does not exist either.
    expect((await viewer.get(`${base}/${mine.id}/agents/${siblingAgent.id}`)).statusCode).toBe(404);
    expect((await viewer.post(base, { name: 'New' })).statusCode).toBe(403);

    const editor = as(
      t.app,
      (await clientUser(t.app, owner.tenantId, mine.id, 'client_editor')).token,
    );
    expect(
      (await editor.post(`${base}/${mine.id}/agents`, { name: 'Y', channel: 'chat' })).statusCode,
    ).toBe(201);
    expect((await editor.delete(`${base}/${mine.id}`)).statusCode).toBe(403);
  });
});
