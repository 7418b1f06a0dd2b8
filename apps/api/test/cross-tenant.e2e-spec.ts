import { signN8nCallback } from '@maxai/integrations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowTriggers } from '../src/modules/orchestrator/runtime/flow-triggers';
import { buildOpenApiDocument } from '../src/platform/openapi/openapi';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * Every route of the OpenAPI document that takes an id is called with one principal's token on
 * another's objects. New routes are covered automatically: a path parameter this test cannot
 * fill makes it fail, so whoever adds one extends the fixture.
 */
let t: TestApp;
let attacker: Account;
let victim: Account;
let victimIds: Record<string, string>;
let attackerIds: Record<string, string>;
const SECRET_NAMES = ['Victim Clinic', 'Victim Agent'];

interface Operation {
  method: string;
  path: string;
  params: string[];
}

function operations(): Operation[] {
  const document = buildOpenApiDocument(t.app) as unknown as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
    })),
  );
}

async function seed(account: Account, clientName: string, agentName: string) {
  const api = as(t.app, account.token);
  const client = (
    await api.post(`/v1/tenants/${account.tenantId}/clients`, { name: clientName })
  ).json<{ id: string }>();
  const agent = (
    await api.post(`/v1/tenants/${account.tenantId}/clients/${client.id}/agents`, {
      name: agentName,
      channel: 'voice',
    })
  ).json<{ id: string }>();
  const key = (
    await api.post(`/v1/tenants/${account.tenantId}/api-keys`, {
      name: `${clientName} key`,
      permissions: ['clients:read'],
    })
  ).json<{ id: string }>();
  const invitation = (
    await api.post(`/v1/tenants/${account.tenantId}/invitations`, {
      email: `invitee-${clientName.length}@example.com`,
      role: 'member',
    })
  ).json<{ id: string }>();
  const connection = (
    await api.post(`/v1/tenants/${account.tenantId}/connections`, {
      provider: 'retell',
      name: `${clientName} voice`,
      clientId: client.id,
      credentials: { apiKey: `key_${clientName.length}_secret_value` },
    })
  ).json<{ id: string }>();
  const binding = (
    await api.put(`/v1/tenants/${account.tenantId}/bindings/voice`, {
      connectionId: connection.id,
      clientId: client.id,
    })
  ).json<{ id: string }>();
  // A prompt in the library and a client override, with a version, a label, a pinned agent and
  // a pending approval (the tenant requires approvals while it is requested).
  const tenantPrompts = `/v1/tenants/${account.tenantId}/prompts`;
  const clientPrompts = `/v1/tenants/${account.tenantId}/clients/${client.id}/prompts`;
  for (const base of [tenantPrompts, clientPrompts]) {
    await api.post(base, { key: 'greeting/main', kind: 'text' });
    await api.post(`${base}/greeting%2Fmain/versions`, { content: `Hello from ${clientName}` });
    await api.put(`${base}/greeting%2Fmain/labels/production`, { version: 1 });
  }
  await api.put(
    `/v1/tenants/${account.tenantId}/clients/${client.id}/agents/${agent.id}/prompt-pins/greeting%2Fmain`,
    { label: 'production' },
  );
  await api.patch(`/v1/tenants/${account.tenantId}/settings`, { requirePromptApproval: true });
  await api.post(`${tenantPrompts}/greeting%2Fmain/versions`, { content: 'second' });
  const pending = await api.put(`${tenantPrompts}/greeting%2Fmain/labels/production`, {
    version: 2,
  });
  expect(pending.statusCode).toBe(202);
  await api.patch(`/v1/tenants/${account.tenantId}/settings`, { requirePromptApproval: false });
  const me = (await api.get('/v1/me')).json<{ user: { id: string } }>();
  const endpoint = (
    await api.post(`/v1/tenants/${account.tenantId}/webhook-endpoints`, {
      provider: 'n8n',
      name: `${clientName} callbacks`,
      clientId: client.id,
    })
  ).json<{ id: string; setup: { secret: string } }>();
  const mapping = (
    await api.post(`/v1/tenants/${account.tenantId}/external-ids`, {
      provider: 'retell',
      kind: 'voice_agent',
      externalId: `agent_${clientName.length}`,
      clientId: client.id,
      agentId: agent.id,
    })
  ).json<{ id: string }>();
  const callback = JSON.stringify({
    correlationId: `run-${clientName}:delegate:g0:s1`,
    executionId: `exec-${clientName}`,
    status: 'success',
    output: { note: clientName },
  });
  await t.app.inject({
    method: 'POST',
    url: `/webhooks/n8n/${endpoint.id}`,
    headers: {
      'content-type': 'application/json',
      'x-maxai-signature': signN8nCallback(endpoint.setup.secret, callback),
    },
    payload: callback,
  });
  const flow = (
    await api.post(`/v1/tenants/${account.tenantId}/flows`, {
      name: `${clientName} flow`,
      clientId: client.id,
      definition: {
        schemaVersion: 1,
        name: 'noop',
        trigger: { events: ['maxai.test.ping'] },
        steps: [{ id: 'note', type: 'set_vars', vars: { secret: clientName } }],
      },
    })
  ).json<{ id: string }>();
  await api.post(`/v1/tenants/${account.tenantId}/flows/${flow.id}/activate`, { version: 1 });
  await t.app.get(FlowTriggers).handle({
    specversion: '1.0',
    id: crypto.randomUUID(),
    type: 'maxai.test.ping',
    source: '/test',
    subject: null,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    tenantid: account.tenantId,
    clientid: client.id,
    agentid: null,
    correlationid: null,
    data: {},
  });
  const run = (await api.get(`/v1/tenants/${account.tenantId}/flow-runs?flowId=${flow.id}`)).json<{
    data: { id: string }[];
  }>().data[0];
  const deliveries = (await api.get(`/v1/tenants/${account.tenantId}/webhook-deliveries`)).json<{
    data: { id: string; events: { id: string }[] }[];
  }>();
  const delivery = deliveries.data[0];
  return {
    flowId: flow.id,
    runId: run?.id ?? '00000000-0000-4000-8000-000000000003',
    templateId: 'missed-call-text-back',
    endpointId: endpoint.id,
    mappingId: mapping.id,
    deliveryId: delivery?.id ?? '00000000-0000-4000-8000-000000000001',
    eventId: delivery?.events[0]?.id ?? '00000000-0000-4000-8000-000000000002',
    promptKey: 'greeting%2Fmain',
    version: '1',
    label: 'production',
    approvalId: pending.json<{ id: string }>().id,
    bindingId: binding.id,
    port: 'voice',
    connectionId: connection.id,
    provider: 'google',
    path: 'v2/list-calls',
    tenantId: account.tenantId,
    clientId: client.id,
    agentId: agent.id,
    keyId: key.id,
    invitationId: invitation.id,
    userId: me.user.id,
  };
}

const fill = (path: string, ids: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const id = ids[name];
    if (!id)
      throw new Error(`no fixture id for path parameter {${name}} in ${path}: extend this test`);
    return id;
  });

async function call(token: string, method: string, url: string) {
  const payloads: Record<string, object> = {
    // One body valid for every POST route (a client, an agent, a prompt and its version, a
    // render, an import), so a foreign id is what answers, not validation.
    POST: {
      name: 'x',
      channel: 'voice',
      locationId: 'loc',
      key: 'x',
      kind: 'text',
      content: 'x',
      prompts: [],
    },
    PATCH: { name: 'x', role: 'member' },
    PUT: { version: 1, label: 'production' },
  };
  return t.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payloads[method] ? { payload: payloads[method] } : {}),
  });
}

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  attacker = await signupOwner(t.app, 'Attacker Inc');
  victim = await signupOwner(t.app, 'Victim Group');
  victimIds = await seed(victim, SECRET_NAMES[0]!, SECRET_NAMES[1]!);
  attackerIds = await seed(attacker, 'Mine', 'My Agent');
});
afterAll(async () => {
  await t.close();
});

describe('cross-tenant access', () => {
  it('has id-taking routes to check', () => {
    expect(operations().filter((o) => o.params.length > 0).length).toBeGreaterThanOrEqual(8);
  });

  it("answers 404/403 on every route for another tenant's objects, leaking nothing", async () => {
    const scenarios: Record<string, string>[] = [
      victimIds,
      // My own tenant, the other tenant's client and agent.
      { ...victimIds, tenantId: attackerIds.tenantId! },
      // My own tenant and client, the other tenant's agent.
      { ...victimIds, tenantId: attackerIds.tenantId!, clientId: attackerIds.clientId! },
    ];
    const checked: string[] = [];
    for (const op of operations().filter((o) => o.params.includes('tenantId'))) {
      for (const ids of scenarios) {
        const url = fill(op.path, ids);
        // Only ids can be foreign: a constant parameter (a port name) is the same for both.
        const foreign = (p: string) => ids[p] === victimIds[p] && attackerIds[p] !== victimIds[p];
        if (ids !== victimIds && !op.params.some(foreign)) continue;
        const res = await call(attacker.token, op.method, url);
        checked.push(`${op.method} ${url} -> ${res.statusCode}`);
        expect([403, 404], `${op.method} ${url}`).toContain(res.statusCode);
        for (const secret of SECRET_NAMES) expect(res.body).not.toContain(secret);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(10);
    // The victim's data is intact.
    const still = await as(t.app, victim.token).get(
      `/v1/tenants/${victimIds.tenantId}/clients/${victimIds.clientId}/agents/${victimIds.agentId}`,
    );
    expect(still.json()).toMatchObject({ name: SECRET_NAMES[1] });
  });

  it('answers 404 on every route for a sibling client of a client-level user', async () => {
    const sibling = await seed(victim, 'Sibling Clinic', 'Sibling Agent');
    const narrow = await clientUser(t.app, victim.tenantId, victimIds.clientId!, 'client_admin');
    for (const op of operations().filter((o) => o.params.includes('clientId'))) {
      const url = fill(op.path, sibling);
      const res = await call(narrow.token, op.method, url);
      expect([403, 404], `${op.method} ${url}`).toContain(res.statusCode);
      expect(res.body).not.toContain('Sibling');
    }
  });
});
