import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { apiKey, promptUrl, tenantUser } from './support/prompts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;
let admin: Account & { userId: string };
let clientId: string;
let agentId: string;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app, 'Governed Agency');
  admin = await tenantUser(t.app, owner.tenantId, 'admin');
  const api = as(t.app, owner.token);
  clientId = (await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Clinic' })).json<{
    id: string;
  }>().id;
  agentId = (
    await api.post(`/v1/tenants/${owner.tenantId}/clients/${clientId}/agents`, {
      name: 'Front Desk',
      channel: 'voice',
    })
  ).json<{ id: string }>().id;
});
afterAll(async () => {
  await t.close();
});

const settingsUrl = () => `/v1/tenants/${owner.tenantId}/settings`;
const approvalsUrl = (rest = '') => `/v1/tenants/${owner.tenantId}/prompt-approvals${rest}`;

async function promptWith(key: string, contents: string[], client?: string) {
  const api = as(t.app, owner.token);
  const base = client
    ? `/v1/tenants/${owner.tenantId}/clients/${client}/prompts`
    : `/v1/tenants/${owner.tenantId}/prompts`;
  expect((await api.post(base, { key, kind: 'text' })).statusCode).toBe(201);
  for (const content of contents) {
    expect(
      (await api.post(promptUrl(owner.tenantId, key, client, '/versions'), { content })).statusCode,
    ).toBe(201);
  }
}

const rendered = async (key: string, body: object = {}, client?: string) =>
  (
    await as(t.app, owner.token).post(promptUrl(owner.tenantId, key, client, '/render'), body)
  ).json<{
    text: string;
    version: number;
  }>();

describe('approval of protected label moves', () => {
  it('turns a protected move into a request that a second person approves', async () => {
    await promptWith('approve/greeting', ['v1', 'v2', 'v3']);
    const label = promptUrl(owner.tenantId, 'approve/greeting', undefined, '/labels/production');
    // Before the setting: moves are immediate.
    expect((await as(t.app, owner.token).put(label, { version: 1 })).statusCode).toBe(200);
    expect(
      (await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: true }))
        .statusCode,
    ).toBe(200);

    const requested = await as(t.app, owner.token).put(label, { version: 2, note: 'friendlier' });
    expect(requested.statusCode).toBe(202);
    const approval = requested.json<{ id: string }>();
    expect(approval).toMatchObject({
      status: 'pending',
      key: 'approve/greeting',
      label: 'production',
      fromVersion: 1,
      toVersion: 2,
      note: 'friendlier',
      requestedBy: { type: 'user' },
    });
    // Nothing moved yet; unprotected labels still move at once.
    expect((await rendered('approve/greeting')).text).toBe('v1');
    const staging = promptUrl(owner.tenantId, 'approve/greeting', undefined, '/labels/staging');
    expect((await as(t.app, owner.token).put(staging, { version: 3 })).statusCode).toBe(200);

    const own = await as(t.app, owner.token).post(approvalsUrl(`/${approval.id}/approve`), {});
    expect(own.statusCode).toBe(403);
    expect(own.json<{ detail: string }>().detail).toContain('second person');
    const key = await apiKey(t.app, owner, ['prompts:read', 'prompts:write', 'prompts:publish']);
    expect(
      (await as(t.app, key).post(approvalsUrl(`/${approval.id}/approve`), {})).statusCode,
    ).toBe(403);
    const member = await tenantUser(t.app, owner.tenantId, 'member');
    expect(
      (await as(t.app, member.token).post(approvalsUrl(`/${approval.id}/approve`), {})).statusCode,
    ).toBe(403);

    const approved = await as(t.app, admin.token).post(approvalsUrl(`/${approval.id}/approve`), {
      note: 'ok',
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decidedBy: admin.userId });
    expect((await rendered('approve/greeting')).text).toBe('v2');
    expect(
      (await as(t.app, admin.token).post(approvalsUrl(`/${approval.id}/approve`), {})).statusCode,
    ).toBe(409);

    const history = await as(t.app, owner.token).get(
      promptUrl(owner.tenantId, 'approve/greeting', undefined, '/label-history'),
    );
    expect(history.json<{ data: object[] }>().data[0]).toMatchObject({
      label: 'production',
      fromVersion: 1,
      toVersion: 2,
      actorId: admin.userId,
      approvalId: approval.id,
    });
    const audit = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=prompt.approval_approved`,
    );
    expect(audit.json<{ data: { actorId: string }[] }>().data[0]?.actorId).toBe(admin.userId);
  });

  it('lets API keys request, supersedes older requests, rejects, and refuses stale approvals', async () => {
    await promptWith('approve/stale', ['v1', 'v2', 'v3']);
    const label = promptUrl(owner.tenantId, 'approve/stale', undefined, '/labels/production');
    const key = await apiKey(t.app, owner, ['prompts:read', 'prompts:write', 'prompts:publish']);
    const first = (await as(t.app, key).put(label, { version: 1 })).json<{
      id: string;
      requestedBy: object;
    }>();
    expect(first.requestedBy).toMatchObject({ type: 'api_key' });
    const second = await as(t.app, owner.token).put(label, { version: 2 });
    expect(second.statusCode).toBe(202);
    const secondId = second.json<{ id: string }>().id;
    const old = await as(t.app, owner.token).get(approvalsUrl(`/${first.id}`));
    expect(old.json()).toMatchObject({ status: 'superseded' });
    const pending = await as(t.app, owner.token).get(approvalsUrl('?status=pending'));
    expect(pending.json<{ data: { id: string }[] }>().data.map((a) => a.id)).toContain(secondId);
    expect(pending.json<{ data: { id: string }[] }>().data.map((a) => a.id)).not.toContain(
      first.id,
    );

    // The requester withdraws.
    const rejected = await as(t.app, owner.token).post(approvalsUrl(`/${secondId}/reject`), {});
    expect(rejected.json()).toMatchObject({ status: 'rejected' });
    expect(
      (await as(t.app, admin.token).post(approvalsUrl(`/${secondId}/approve`), {})).statusCode,
    ).toBe(409);
    expect(
      (await as(t.app, admin.token).post(approvalsUrl(`/${secondId}/reject`), {})).statusCode,
    ).toBe(409);

    // A request goes stale when the label moved meanwhile (here: with approvals switched off).
    const third = (await as(t.app, owner.token).put(label, { version: 3 })).json<{ id: string }>();
    await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: false });
    expect((await as(t.app, owner.token).put(label, { version: 1 })).statusCode).toBe(200);
    await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: true });
    const stale = await as(t.app, admin.token).post(approvalsUrl(`/${third.id}/approve`), {});
    expect(stale.statusCode).toBe(409);
    expect((await rendered('approve/stale')).text).toBe('v1');
    expect(
      (await as(t.app, owner.token).get(approvalsUrl('/01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f')))
        .statusCode,
    ).toBe(404);
  });

  it('puts removals and rollbacks of protected labels through approval too', async () => {
    await promptWith('approve/remove', ['v1', 'v2']);
    const label = promptUrl(owner.tenantId, 'approve/remove', undefined, '/labels/production');
    await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: false });
    await as(t.app, owner.token).put(label, { version: 1 });
    await as(t.app, owner.token).put(label, { version: 2 });
    await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: true });

    const rollback = await as(t.app, owner.token).post(`${label}/rollback`, { note: 'bad' });
    expect(rollback.statusCode).toBe(202);
    expect(rollback.json()).toMatchObject({ fromVersion: 2, toVersion: 1, note: 'bad' });
    await as(t.app, admin.token).post(
      approvalsUrl(`/${rollback.json<{ id: string }>().id}/approve`),
      {},
    );
    expect((await rendered('approve/remove')).text).toBe('v1');

    // Deleting the prompt is refused while a protected label points into it.
    expect(
      (await as(t.app, owner.token).delete(promptUrl(owner.tenantId, 'approve/remove'))).statusCode,
    ).toBe(409);

    const removal = await as(t.app, owner.token).delete(label);
    expect(removal.statusCode).toBe(202);
    expect(removal.json()).toMatchObject({ toVersion: null });
    const removed = await as(t.app, admin.token).post(
      approvalsUrl(`/${removal.json<{ id: string }>().id}/approve`),
      {},
    );
    expect(removed.json()).toMatchObject({ status: 'approved' });
    expect(
      (
        await as(t.app, owner.token).post(
          promptUrl(owner.tenantId, 'approve/remove', undefined, '/render'),
          {},
        )
      ).statusCode,
    ).toBe(404);
    expect(
      (await as(t.app, owner.token).delete(promptUrl(owner.tenantId, 'approve/remove'))).statusCode,
    ).toBe(204);
  });

  it("shows client users their client's requests only, and lets the client's admin approve them", async () => {
    await promptWith('approve/client', ['c1', 'c2'], clientId);
    const requester = await clientUser(t.app, owner.tenantId, clientId, 'client_admin');
    const approver = await clientUser(t.app, owner.tenantId, clientId, 'client_admin');
    const label = promptUrl(owner.tenantId, 'approve/client', clientId, '/labels/production');
    const request = await as(t.app, requester.token).put(label, { version: 2 });
    expect(request.statusCode).toBe(202);
    const mine = await as(t.app, requester.token).get(approvalsUrl());
    const keys = mine.json<{ data: { key: string; clientId: string }[] }>().data;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((a) => a.clientId === clientId)).toBe(true);
    const tenantWide = await as(t.app, owner.token).get(approvalsUrl('?limit=1'));
    expect(tenantWide.json<{ nextCursor: string | null }>().nextCursor).not.toBeNull();
    // A request on the tenant's library is invisible to the client's users.
    const libraryRequest = (await as(t.app, owner.token).get(approvalsUrl('?status=approved')))
      .json<{ data: { id: string; clientId: string | null }[] }>()
      .data.find((a) => a.clientId === null);
    expect(
      (await as(t.app, requester.token).get(approvalsUrl(`/${libraryRequest?.id ?? ''}`)))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await as(t.app, requester.token).post(
          approvalsUrl(`/${libraryRequest?.id ?? ''}/reject`),
          {},
        )
      ).statusCode,
    ).toBe(404);
    const viewer = await clientUser(t.app, owner.tenantId, clientId, 'client_viewer');
    expect((await as(t.app, viewer.token).get(approvalsUrl())).statusCode).toBe(200);
    const approved = await as(t.app, approver.token).post(
      approvalsUrl(`/${request.json<{ id: string }>().id}/approve`),
      {},
    );
    expect(approved.statusCode).toBe(200);
    expect((await rendered('approve/client', {}, clientId)).text).toBe('c2');
    await as(t.app, owner.token).patch(settingsUrl(), { requirePromptApproval: false });
  });
});

describe("agents' pins", () => {
  it('renders an agent with its pin: a label it follows or an exact version', async () => {
    await promptWith('agent/greeting', ['p1', 'p2', 'p3']);
    const api = as(t.app, owner.token);
    await api.put(promptUrl(owner.tenantId, 'agent/greeting', undefined, '/labels/production'), {
      version: 1,
    });
    await api.put(promptUrl(owner.tenantId, 'agent/greeting', undefined, '/labels/canary'), {
      version: 2,
    });
    const pins = `/v1/tenants/${owner.tenantId}/clients/${clientId}/agents/${agentId}/prompt-pins`;
    const pin = (body: object) => api.put(`${pins}/${encodeURIComponent('agent/greeting')}`, body);
    const asAgent = () => rendered('agent/greeting', { agentId }, clientId);
    expect((await asAgent()).text).toBe('p1');
    expect((await pin({ label: 'canary' })).json()).toMatchObject({
      promptKey: 'agent/greeting',
      label: 'canary',
      version: null,
    });
    expect((await asAgent()).text).toBe('p2');
    // Following a label: its moves reach the agent.
    await api.put(promptUrl(owner.tenantId, 'agent/greeting', undefined, '/labels/canary'), {
      version: 3,
    });
    expect((await asAgent()).text).toBe('p3');
    const v1 = (
      await api.get(promptUrl(owner.tenantId, 'agent/greeting', undefined, '/versions/1'))
    ).json<{ id: string }>();
    expect((await pin({ versionId: v1.id })).json()).toMatchObject({
      versionId: v1.id,
      version: 1,
      label: null,
    });
    expect((await asAgent()).text).toBe('p1');
    const resolved = await api.get(
      promptUrl(owner.tenantId, 'agent/greeting', clientId, `/resolve?agentId=${agentId}`),
    );
    expect(resolved.json()).toMatchObject({ version: 1, versionId: v1.id });
    expect((await api.get(pins)).json()).toEqual({
      data: [
        expect.objectContaining({ promptKey: 'agent/greeting', versionId: v1.id, version: 1 }),
      ],
    });
    // A pinned version keeps its prompt from being deleted.
    expect((await api.delete(promptUrl(owner.tenantId, 'agent/greeting'))).statusCode).toBe(409);
    expect((await api.delete(`${pins}/${encodeURIComponent('agent/greeting')}`)).statusCode).toBe(
      204,
    );
    expect((await asAgent()).text).toBe('p1');
    expect((await api.delete(`${pins}/${encodeURIComponent('agent/greeting')}`)).statusCode).toBe(
      404,
    );
    const audit = await api.get(`/v1/tenants/${owner.tenantId}/audit-events?targetId=${agentId}`);
    expect(audit.json<{ data: { action: string }[] }>().data.map((e) => e.action)).toEqual(
      expect.arrayContaining(['agent.prompt_pinned', 'agent.prompt_unpinned']),
    );
  });

  it('refuses pins without prompts:publish, of other keys, of other clients, or naming both targets', async () => {
    const api = as(t.app, owner.token);
    const pins = `/v1/tenants/${owner.tenantId}/clients/${clientId}/agents/${agentId}/prompt-pins`;
    const url = `${pins}/${encodeURIComponent('agent/greeting')}`;
    const editor = await clientUser(t.app, owner.tenantId, clientId, 'client_editor');
    expect((await as(t.app, editor.token).put(url, { label: 'canary' })).statusCode).toBe(403);
    expect((await as(t.app, editor.token).get(pins)).statusCode).toBe(200);
    const other = (
      await api.get(promptUrl(owner.tenantId, 'approve/greeting', undefined, '/versions/1'))
    ).json<{ id: string }>();
    expect((await api.put(url, { versionId: other.id })).statusCode).toBe(404);
    expect((await api.put(url, { label: 'canary', versionId: other.id })).statusCode).toBe(400);
    expect((await api.put(url, {})).statusCode).toBe(400);
    const elsewhere = (
      await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Elsewhere' })
    ).json<{ id: string }>().id;
    expect(
      (
        await api.put(
          `/v1/tenants/${owner.tenantId}/clients/${elsewhere}/agents/${agentId}/prompt-pins/x`,
          { label: 'canary' },
        )
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await api.get(
          `/v1/tenants/${owner.tenantId}/clients/${elsewhere}/agents/${agentId}/prompt-pins`,
        )
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await api.delete(
          `/v1/tenants/${owner.tenantId}/clients/${elsewhere}/agents/${agentId}/prompt-pins/x`,
        )
      ).statusCode,
    ).toBe(404);
    const render = (body: object, client?: string) =>
      api.post(promptUrl(owner.tenantId, 'agent/greeting', client, '/render'), body);
    expect((await render({ agentId, label: 'canary' }, clientId)).statusCode).toBe(400);
    expect((await render({ agentId })).statusCode).toBe(400);
    expect((await render({ agentId }, elsewhere)).statusCode).toBe(404);
  });
});

describe('governance edges', () => {
  it('answers 404 for unknown requests and pages through requests with a cursor', async () => {
    const unknown = approvalsUrl('/01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f/approve');
    expect((await as(t.app, admin.token).post(unknown, {})).statusCode).toBe(404);
    const first = await as(t.app, owner.token).get(approvalsUrl('?limit=1'));
    const page = first.json<{ data: { id: string }[]; nextCursor: string }>();
    expect(page.nextCursor).toBe(page.data[0]?.id);
    const next = await as(t.app, owner.token).get(
      approvalsUrl(`?limit=1&cursor=${page.nextCursor}`),
    );
    const following = next.json<{ data: { id: string }[] }>().data[0]?.id ?? '';
    expect(following < page.nextCursor).toBe(true);
  });

  it("pins a version of the client's own override, never one of another client's", async () => {
    const api = as(t.app, owner.token);
    const url = `/v1/tenants/${owner.tenantId}/clients/${clientId}/agents/${agentId}/prompt-pins/${encodeURIComponent('agent/greeting')}`;
    const ghost = '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f';
    expect((await api.put(url, { versionId: ghost })).statusCode).toBe(404);
    await promptWith('agent/greeting', ['override'], clientId);
    const own = (
      await api.get(promptUrl(owner.tenantId, 'agent/greeting', clientId, '/versions/1'))
    ).json<{ id: string }>();
    expect((await api.put(url, { versionId: own.id })).json()).toMatchObject({
      version: 1,
      versionId: own.id,
    });
    const rendered = await api.post(
      promptUrl(owner.tenantId, 'agent/greeting', clientId, '/render'),
      {
        agentId,
      },
    );
    expect(rendered.json()).toMatchObject({ text: 'override', scope: 'client' });
    const third = (
      await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Third' })
    ).json<{
      id: string;
    }>().id;
    await promptWith('agent/greeting', ['third'], third);
    const foreign = (
      await api.get(promptUrl(owner.tenantId, 'agent/greeting', third, '/versions/1'))
    ).json<{ id: string }>();
    expect((await api.put(url, { versionId: foreign.id })).statusCode).toBe(404);
    expect((await api.delete(url)).statusCode).toBe(204);
  });
});
