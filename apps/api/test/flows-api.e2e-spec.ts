import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowTriggers } from '../src/modules/orchestrator/runtime/flow-triggers';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

interface Run {
  id: string;
  status: string;
  clientId: string | null;
  deadlineAt: string | null;
  attemptGroup: number;
}
interface Flow {
  id: string;
  name: string;
  clientId: string | null;
  activeVersion: number | null;
  versions?: { version: number; changeNote: string | null }[];
}

const PING = 'maxai.test.ping';
const definition = (steps: object[], extra: object = {}) => ({
  schemaVersion: 1,
  name: 'api test',
  trigger: { events: [PING] },
  steps,
  ...extra,
});
const quick = definition([{ id: 'note', type: 'set_vars', vars: { seen: '=event.data.n' } }]);

/** The flows API around the engine: lifecycle, listing, access by client, and its refusals. */
describe('flows API', () => {
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let clientId: string;
  let otherClientId: string;

  const emit = (data: Record<string, unknown>, client: string | null = clientId) =>
    t.app.get(FlowTriggers).handle({
      specversion: '1.0',
      id: crypto.randomUUID(),
      type: PING,
      source: '/test',
      subject: null,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      tenantid: owner.tenantId,
      clientid: client,
      agentid: null,
      correlationid: null,
      data,
    });
  const runsOf = async (query: string) =>
    (await api.get(`${base}/flow-runs?${query}`)).json<{
      data: Run[];
      nextCursor: string | null;
    }>();
  const create = async (body: object) => {
    const res = await api.post(`${base}/flows`, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Flow>();
  };

  beforeAll(async () => {
    t = await startTestApp('standalone', { FLOW_POLL_INTERVAL_MS: '20' });
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}`;
    clientId = (await api.post(`${base}/clients`, { name: 'Clinic' })).json<{ id: string }>().id;
    otherClientId = (await api.post(`${base}/clients`, { name: 'Garage' })).json<{ id: string }>()
      .id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes a tenant-wide flow from YAML through versions, renaming, activation and deletion', async () => {
    const flow = await create({
      name: 'Tenant flow',
      format: 'yaml',
      source: [
        'schemaVersion: 1',
        'name: yaml flow',
        `trigger: { events: [${PING}] }`,
        'steps:',
        '  - { id: note, type: set_vars, vars: { seen: "=event.data.n" } }',
      ].join('\n'),
    });
    expect(flow).toMatchObject({ clientId: null, activeVersion: null });
    const flowUrl = `${base}/flows/${flow.id}`;

    const neither = await api.post(`${flowUrl}/versions`, { changeNote: 'nothing' });
    expect(neither.statusCode).toBe(422);
    expect(neither.json<{ errors: { field: string }[] }>().errors[0]!.field).toBe(
      'body.definition',
    );
    const broken = await api.post(`${flowUrl}/versions`, {
      definition: definition([{ id: 'x', type: 'set_vars', vars: { a: 1 }, next: 'missing' }]),
    });
    expect(broken.statusCode).toBe(422);
    expect(broken.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(
      '/steps/0/next',
    );
    const parked = definition([{ id: 'later', type: 'delay', duration: 'P1D' }]);
    expect(
      (await api.post(`${flowUrl}/versions`, { definition: parked, changeNote: 'park' }))
        .statusCode,
    ).toBe(201);
    expect((await api.post(`${flowUrl}/versions`, { definition: parked })).statusCode).toBe(201);
    const detail = (await api.get(flowUrl)).json<Flow>();
    expect(detail.versions!.map((v) => [v.version, v.changeNote])).toEqual([
      [3, null],
      [2, 'park'],
      [1, null],
    ]);

    expect((await api.post(`${flowUrl}/activate`, { version: 9 })).statusCode).toBe(404);
    const active = await api.post(`${flowUrl}/activate`, {});
    expect(active.json<Flow>().activeVersion).toBe(3);

    const renamed = await api.patch(flowUrl, { name: '  Parked flow ' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json<Flow>().name).toBe('Parked flow');
    expect((await api.patch(flowUrl, { name: '' })).statusCode).toBe(400);

    const activeDelete = await api.delete(flowUrl);
    expect(activeDelete.statusCode).toBe(409);
    expect(activeDelete.headers['content-type']).toContain('application/problem+json');

    await emit({ n: 1 }, null);
    const [waiting] = await waitFor(async () => {
      const { data } = await runsOf(`flowId=${flow.id}&status=waiting`);
      return data.length === 1 ? data : undefined;
    });
    expect(waiting!.clientId).toBeNull();
    expect((await api.post(`${flowUrl}/deactivate`, {})).json<Flow>().activeVersion).toBeNull();
    expect((await api.delete(flowUrl)).statusCode).toBe(409);

    expect((await api.post(`${base}/flow-runs/${waiting!.id}/cancel`, {})).statusCode).toBe(200);
    expect((await api.delete(flowUrl)).statusCode).toBe(204);
    expect((await api.get(flowUrl)).statusCode).toBe(404);
    expect((await api.get(`${base}/flow-runs/${waiting!.id}`)).statusCode).toBe(404);
    expect((await api.delete(flowUrl)).statusCode).toBe(404);
    const audit = (await api.get(`${base}/audit-events?action=flow.deleted`)).json<{
      data: { targetId: string; changes: { name: string } }[];
    }>();
    expect(audit.data).toContainEqual(
      expect.objectContaining({ targetId: flow.id, changes: { name: 'Parked flow' } }),
    );
  });

  it('lists runs by flow, status, client and time, page by page', async () => {
    const flow = await create({ name: 'Counter', clientId, definition: quick });
    await api.post(`${base}/flows/${flow.id}/activate`, { version: 1 });
    const before = new Date(Date.now() - 1000).toISOString();
    for (const n of [1, 2, 3]) await emit({ n });
    await waitFor(async () => {
      const { data } = await runsOf(`flowId=${flow.id}&status=completed`);
      return data.length === 3 ? data : undefined;
    });

    const first = await runsOf(`flowId=${flow.id}&limit=2`);
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBe(first.data[1]!.id);
    const second = await runsOf(`flowId=${flow.id}&limit=2&cursor=${first.nextCursor!}`);
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(second.data[0]!.id < first.data[1]!.id).toBe(true);

    expect((await runsOf(`flowId=${flow.id}&status=failed`)).data).toHaveLength(0);
    expect((await runsOf(`flowId=${flow.id}&clientId=${clientId}`)).data).toHaveLength(3);
    expect((await runsOf(`flowId=${flow.id}&clientId=${otherClientId}`)).data).toHaveLength(0);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await runsOf(`flowId=${flow.id}&from=${before}&to=${future}`)).data).toHaveLength(3);
    expect((await runsOf(`flowId=${flow.id}&from=${future}`)).data).toHaveLength(0);
    expect((await runsOf(`flowId=${flow.id}&to=${before}`)).data).toHaveLength(0);
    expect((await api.get(`${base}/flow-runs?status=sleeping`)).statusCode).toBe(400);

    const done = first.data[0]!;
    const rerun = await api.post(`${base}/flow-runs/${done.id}/rerun`, {});
    expect(rerun.statusCode).toBe(409);
    expect(rerun.json<{ type: string }>().type).toContain('conflict');
    await api.post(`${base}/flows/${flow.id}/deactivate`, {});
  });

  it('reruns a failed run under its flow’s run timeout, in a new attempt group', async () => {
    const flow = await create({
      name: 'Fails',
      clientId,
      definition: definition([{ id: 'boom', type: 'set_vars', vars: { x: '=$error("no")' } }], {
        timeoutSeconds: 120,
      }),
    });
    await api.post(`${base}/flows/${flow.id}/activate`, { version: 1 });
    await emit({ n: 1 });
    const [failed] = await waitFor(async () => {
      const { data } = await runsOf(`flowId=${flow.id}&status=failed`);
      return data.length === 1 ? data : undefined;
    });
    const rerun = await api.post(`${base}/flow-runs/${failed!.id}/rerun`, {});
    expect(rerun.statusCode, rerun.body).toBe(200);
    const again = rerun.json<Run>();
    expect(again.attemptGroup).toBe(failed!.attemptGroup + 1);
    expect(Date.parse(again.deadlineAt!)).toBeGreaterThan(Date.now() + 100_000);
    await waitFor(async () => {
      const run = (await api.get(`${base}/flow-runs/${failed!.id}`)).json<Run>();
      return run.status === 'failed' ? run : undefined;
    });
    await api.post(`${base}/flows/${flow.id}/deactivate`, {});

    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const sample = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? Number.NaN);
    expect(sample(/^flow_runs_started_total\{trigger="event"\} (\d+)/m)).toBeGreaterThan(0);
    expect(sample(/^flow_runs_finished_total\{status="failed"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(sample(/^flow_runs_finished_total\{status="completed"\} (\d+)/m)).toBeGreaterThan(0);
    expect(metrics).toMatch(
      /^flow_step_duration_seconds_count\{type="set_vars",outcome="\w+"\} \d+/m,
    );
    expect(metrics).toMatch(/^flow_step_dispatch_seconds_count\{type="set_vars"\} \d+/m);
    expect(metrics).toContain(`flow_run_queue_wait_seconds_count{tenant="${owner.tenantId}"}`);
  });

  it('shows a client’s user only that client’s flows and runs', async () => {
    const mine = await create({ name: 'Mine', clientId, definition: quick });
    const theirs = await create({ name: 'Theirs', clientId: otherClientId, definition: quick });
    const tenantWide = await create({ name: 'Everyone', definition: quick });
    await api.post(`${base}/flows/${mine.id}/activate`, {});
    await api.post(`${base}/flows/${theirs.id}/activate`, {});
    await emit({ n: 1 });
    await emit({ n: 2 }, otherClientId);
    await waitFor(async () => {
      const { data } = await runsOf(`flowId=${theirs.id}&status=completed`);
      return data.length === 1 ? data : undefined;
    });

    const editor = as(
      t.app,
      (await clientUser(t.app, owner.tenantId, clientId, 'client_editor')).token,
    );
    const listed = (await editor.get(`${base}/flows`)).json<{ data: Flow[] }>().data;
    expect(listed.map((f) => f.id)).toContain(mine.id);
    expect(listed.map((f) => f.id)).not.toContain(theirs.id);
    expect(listed.map((f) => f.id)).not.toContain(tenantWide.id);
    expect((await editor.get(`${base}/flows/${theirs.id}`)).statusCode).toBe(404);
    expect((await editor.get(`${base}/flows/${mine.id}`)).statusCode).toBe(200);
    const runs = (await editor.get(`${base}/flow-runs`)).json<{ data: Run[] }>().data;
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.clientId === clientId)).toBe(true);
    expect((await editor.post(`${base}/flows/${mine.id}/activate`, {})).statusCode).toBe(403);

    await api.post(`${base}/flows/${mine.id}/deactivate`, {});
    await api.post(`${base}/flows/${theirs.id}/deactivate`, {});
  });

  it('dry-runs with and without stubs, refuses an invalid one, and installs a template without activating it', async () => {
    const dry = await api.post(`${base}/flows/dry-run`, {
      definition: quick,
      event: { type: PING, data: { n: 7 } },
    });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ matched: true });
    const stubbed = await api.post(`${base}/flows/dry-run`, {
      clientId,
      definition: definition([
        { id: 'look', type: 'crm.get_contact', inputs: { contactId: '=event.data.contact' } },
        { id: 'use', type: 'set_vars', vars: { name: '=steps.look.output.name' } },
      ]),
      event: { type: PING, data: { contact: 'c-1' } },
      stubs: { look: { name: 'Ada' } },
    });
    expect(stubbed.statusCode, stubbed.body).toBe(200);
    expect(stubbed.json()).toMatchObject({
      steps: [{ id: 'look', output: { name: 'Ada' } }, { id: 'use' }],
      warnings: [expect.objectContaining({ pointer: expect.stringContaining('/steps/0') })],
    });
    // The README's example, as written there.
    const readme = await api.post(`${base}/flows/dry-run`, {
      format: 'yaml',
      source: [
        'schemaVersion: 1',
        'name: thanks',
        `trigger: { events: [maxai.messaging.sms.received], filter: "$not($contains(event.data.body, 'STOP'))" }`,
        'concurrencyKey: event.data.from',
        'steps:',
        '  - { id: reply, type: messaging.send_sms, inputs: { from: =event.data.to, to: =event.data.from, body: Thanks! } }',
      ].join('\n'),
      event: {
        type: 'maxai.messaging.sms.received',
        data: { from: '+15557654321', to: '+15550001111', body: 'hi' },
      },
    });
    expect(readme.statusCode, readme.body).toBe(200);
    expect(readme.json()).toMatchObject({
      matched: true,
      steps: [
        {
          id: 'reply',
          resolvedInputs: { from: '+15550001111', to: '+15557654321', body: 'Thanks!' },
        },
      ],
    });
    const invalidDry = await api.post(`${base}/flows/dry-run`, {
      definition: definition([{ id: 'x', type: 'warp' }]),
      event: { type: PING, data: {} },
    });
    expect(invalidDry.statusCode).toBe(422);

    // http.request reaches only hosts on the tenant's allowlist (a setting): checked at activation.
    const caller = await create({
      name: 'Calls out',
      definition: definition([
        { id: 'hook', type: 'http.request', inputs: { url: 'https://api.partner.example/x' } },
      ]),
    });
    const refused = await api.post(`${base}/flows/${caller.id}/activate`, {});
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('allowlist');
    await api.patch(`${base}/settings`, { flowHttpAllowlist: ['*.partner.example'] });
    expect((await api.post(`${base}/flows/${caller.id}/activate`, {})).statusCode).toBe(200);
    await api.post(`${base}/flows/${caller.id}/deactivate`, {});

    const install = (template: string, body: object) =>
      api.post(`${base}/clients/${clientId}/flow-templates/${template}/install`, body);
    expect((await install('no-such-template', { parameters: {} })).statusCode).toBe(404);
    const badParameters = await install('missed-call-text-back', { parameters: { nope: 1 } });
    expect(badParameters.statusCode).toBe(422);
    const installed = await install('missed-call-text-back', {
      name: 'Text back (draft)',
      parameters: { fromNumber: '+15550001111' },
      activate: false,
    });
    expect(installed.statusCode, installed.body).toBe(201);
    expect(installed.json<Flow & { template: string }>()).toMatchObject({
      name: 'Text back (draft)',
      clientId,
      template: 'missed-call-text-back',
      activeVersion: null,
    });
  });
});
