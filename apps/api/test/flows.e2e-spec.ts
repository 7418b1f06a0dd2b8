import { usageEvents, withTenant, type DatabaseHandle } from '@maxai/db';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SimulatorServer,
} from '@maxai/simulators';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE } from '../src/platform/database/database.module';
import { as, signupOwner, type Account } from './support/accounts';
import { freePort } from './support/free-port';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

interface Run {
  id: string;
  status: string;
  version: number;
  error: string | null;
  attemptGroup: number;
  steps: {
    stepId: string;
    status: string;
    attempts: number;
    output: unknown;
    idempotencyKey: string | null;
  }[];
}

const OURS = '+15550001111';
const CALLER = '+15557654321';

describe('flows, end to end from a signed webhook to the providers', () => {
  let sim: SimulatorServer;
  let simUrl: string;
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let clientId: string;
  let endpointUrl: string;

  const control = async (path: string, body: object) => {
    const res = await fetch(`${simUrl}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const inboundSms = (body: string, from = CALLER) =>
    control('twilio/inbound', { from, to: OURS, body, url: endpointUrl });
  const sentSms = () =>
    sim.context.journal
      .filter(
        (e) => e.vendor === 'twilio' && e.method === 'POST' && e.path.endsWith('/Messages.json'),
      )
      .map((e) => e.body as Record<string, string>);
  const runs = async (flowId: string) =>
    (await api.get(`${base}/flow-runs?flowId=${flowId}`)).json<{ data: Run[] }>().data;
  const run = async (id: string) => (await api.get(`${base}/flow-runs/${id}`)).json<Run>();
  const settled = (flowId: string, count: number, status = 'completed') =>
    waitFor(async () => {
      const list = await runs(flowId);
      return list.length >= count && list.every((r) => r.status === status) ? list : undefined;
    });
  const createFlow = async (definition: object, activate = true) => {
    const res = await api.post(`${base}/flows`, { name: 'test flow', clientId, definition });
    expect(res.statusCode, res.body).toBe(201);
    const flow = res.json<{ id: string }>();
    if (activate) {
      const activated = await api.post(`${base}/flows/${flow.id}/activate`, { version: 1 });
      expect(activated.statusCode, activated.body).toBe(200);
    }
    return flow.id;
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${String(port)}`;
    sim = await createSimulatorServer({ vendors: allVendorSimulators(), publicUrl });
    simUrl = await sim.listen();
    t = await startTestApp('standalone', {
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      PUBLIC_URL: publicUrl,
      FLOW_POLL_INTERVAL_MS: '20',
      JOBS_POLL_INTERVAL_MS: '20',
    });
    await t.app.listen(port, '127.0.0.1');
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}`;
    clientId = (await api.post(`${base}/clients`, { name: 'Clinic' })).json<{ id: string }>().id;
    const account = (await control('twilio/accounts', { numbers: [OURS] })) as {
      accountSid: string;
      authToken: string;
    };
    const connection = (
      await api.post(`${base}/connections`, {
        provider: 'twilio',
        name: 'Twilio',
        clientId,
        credentials: { accountSid: account.accountSid, authToken: account.authToken },
      })
    ).json<{ id: string }>();
    expect(
      (await api.put(`${base}/bindings/messaging`, { connectionId: connection.id, clientId }))
        .statusCode,
    ).toBe(200);
    const endpoint = await api.post(`${base}/webhook-endpoints`, {
      provider: 'twilio',
      name: 'Twilio SMS',
      clientId,
      connectionId: connection.id,
    });
    endpointUrl = endpoint.json<{ url: string }>().url;
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  it('answers an inbound SMS through the flow, once per event, recording steps and usage', async () => {
    const flowId = await createFlow({
      schemaVersion: 1,
      name: 'echo',
      trigger: {
        events: ['maxai.messaging.sms.received'],
        filter: "event.data.body != 'ignore me'",
      },
      steps: [
        { id: 'remember', type: 'set_vars', vars: { caller: '=event.data.from' } },
        {
          id: 'reply',
          type: 'messaging.send_sms',
          inputs: {
            to: '=vars.caller',
            from: '=event.data.to',
            body: '="Got it: " & event.data.body',
          },
        },
        { id: 'done', type: 'end' },
      ],
    });
    await inboundSms('Can I book Tuesday?');
    await inboundSms('ignore me');
    const [finished] = await settled(flowId, 1);
    expect(sentSms().filter((m) => m.Body === 'Got it: Can I book Tuesday?')).toHaveLength(1);
    const detail = await run(finished!.id);
    expect(detail.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['remember', 'completed'],
      ['reply', 'completed'],
      ['done', 'completed'],
    ]);
    expect(detail.steps[1]!.idempotencyKey).toMatch(new RegExp(`^${finished!.id}:reply:g0:`));
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const usage = await withTenant(db, owner.tenantId, (tx) =>
      tx.select().from(usageEvents).where(eq(usageEvents.runId, finished!.id)),
    );
    expect(usage).toMatchObject([
      { kind: 'sms_segments', provider: 'twilio', quantity: 1, clientId, flowId },
    ]);

    // Redelivering (replaying) the triggering event starts nothing new.
    const events = (await api.get(`${base}/events?type=maxai.messaging.sms.received`)).json<{
      data: { id: string; data: { body: string } }[];
    }>();
    const trigger = events.data.find((e) => e.data.body === 'Can I book Tuesday?')!;
    await api.post(`${base}/events/${trigger.id}/replay`, {});
    await new Promise((r) => setTimeout(r, 500));
    expect(await runs(flowId)).toHaveLength(1);
    expect(sentSms().filter((m) => m.Body === 'Got it: Can I book Tuesday?')).toHaveLength(1);
    await api.post(`${base}/flows/${flowId}/deactivate`, {});
  });

  it('keeps a run on its version, fails fast on invalid input, reruns from the failed step', async () => {
    const definition = (body: string) => ({
      schemaVersion: 1,
      name: 'versioned',
      trigger: {
        events: ['maxai.messaging.sms.received'],
        filter: "$contains(event.data.body, 'v-test')",
      },
      steps: [
        {
          id: 'reply',
          type: 'messaging.send_sms',
          inputs: { to: '=event.data.from', from: '=event.data.to', body },
        },
      ],
    });
    const flowId = await createFlow(definition('version one'));
    await inboundSms('v-test 1');
    await settled(flowId, 1);
    const v2 = await api.post(`${base}/flows/${flowId}/versions`, {
      definition: definition('version two'),
      changeNote: 'new words',
    });
    expect(v2.json<{ version: number }>().version).toBe(2);
    await inboundSms('v-test 2');
    await settled(flowId, 2);
    expect(sentSms().filter((m) => m.Body === 'version two')).toHaveLength(0);
    await api.post(`${base}/flows/${flowId}/activate`, { version: 2 });
    await inboundSms('v-test 3');
    const all = await settled(flowId, 3);
    expect(all.map((r) => r.version).sort()).toEqual([1, 1, 2]);
    expect(sentSms().filter((m) => m.Body === 'version two')).toHaveLength(1);
    await api.post(`${base}/flows/${flowId}/deactivate`, {});

    // Twilio refuses a number that is not ours as From: `invalid`, failed at once, no retry.
    const failing = await createFlow({
      schemaVersion: 1,
      name: 'failing',
      trigger: {
        events: ['maxai.messaging.sms.received'],
        filter: "event.data.body = 'fail please'",
      },
      steps: [
        {
          id: 'reply',
          type: 'messaging.send_sms',
          inputs: { to: '=event.data.from', from: '+15559990000', body: 'x' },
        },
      ],
    });
    await inboundSms('fail please');
    const [failed] = await settled(failing, 1, 'failed');
    const detail = await run(failed!.id);
    expect(detail.error).toMatch(/reply/);
    expect(detail.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
    const rerun = await api.post(`${base}/flow-runs/${failed!.id}/rerun`, {});
    expect(rerun.json()).toMatchObject({ status: 'queued', attemptGroup: 1 });
    await waitFor(async () => ((await run(failed!.id)).status === 'failed' ? true : undefined));
    expect((await api.post(`${base}/flow-runs/${failed!.id}/cancel`, {})).statusCode).toBe(409);
  });

  it('waits durably (delay, wait_for_event with timeout path) and can be cancelled', async () => {
    const flowId = await createFlow({
      schemaVersion: 1,
      name: 'waiting',
      trigger: {
        events: ['maxai.messaging.sms.received'],
        filter: "event.data.body = 'start waiting'",
      },
      steps: [
        {
          id: 'await_reply',
          type: 'wait_for_event',
          event: 'maxai.messaging.sms.received',
          correlate: { eventKey: 'event.data.from', runKey: 'event.data.from' },
          timeoutSeconds: 120,
          onTimeout: 'too_late',
        },
        {
          id: 'thanks',
          type: 'messaging.send_sms',
          inputs: {
            to: '=event.data.from',
            from: '=event.data.to',
            body: '="You said: " & steps.await_reply.output.event.data.body',
          },
          next: 'finish',
        },
        { id: 'too_late', type: 'end', status: 'cancelled' },
        { id: 'finish', type: 'end' },
      ],
    });
    const waiter = '+15551112222';
    await inboundSms('start waiting', waiter);
    const [waiting] = await settled(flowId, 1, 'waiting');
    await inboundSms('my answer', waiter);
    await settled(flowId, 1);
    expect(
      sentSms().filter((m) => m.Body === 'You said: my answer' && m.To === waiter),
    ).toHaveLength(1);
    expect((await run(waiting!.id)).steps.map((s) => s.stepId)).toEqual([
      'await_reply',
      'thanks',
      'finish',
    ]);

    const other = '+15553334444';
    await inboundSms('start waiting', other);
    const parked = await waitFor(async () => {
      const list = await runs(flowId);
      return list.find((r) => r.status === 'waiting');
    });
    const cancelled = await api.post(`${base}/flow-runs/${parked.id}/cancel`, {});
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    await inboundSms('late answer', other);
    await new Promise((r) => setTimeout(r, 400));
    expect(sentSms().filter((m) => m.To === other)).toHaveLength(0);
    await api.post(`${base}/flows/${flowId}/deactivate`, {});
  });

  it('validates definitions with pointers, simulates them, and lists templates', async () => {
    const post = (steps: object[]) =>
      api.post(`${base}/flows`, {
        name: 'bad',
        definition: {
          schemaVersion: 1,
          name: 'bad',
          trigger: { events: ['maxai.messaging.sms.received'] },
          steps,
        },
      });
    const fieldsOf = async (res: ReturnType<typeof api.post>) => {
      const answered = await res;
      expect(answered.statusCode).toBe(422);
      return answered.json<{ errors: { field: string }[] }>().errors.map((e) => e.field);
    };
    expect(await fieldsOf(post([{ id: 'a', type: 'teleport' }]))).toContain('/steps/0/type');
    expect(
      await fieldsOf(post([{ id: 'b', type: 'set_vars', vars: { x: 1 }, next: 'nowhere' }])),
    ).toContain('/steps/0/next');
    expect(await fieldsOf(post([{ id: 'c', type: 'set_vars', vars: { x: '=$$$(' } }]))).toContain(
      '/steps/0/vars/x',
    );

    const yamlError = await api.post(`${base}/flows`, {
      name: 'yaml',
      source: 'steps: [\n  - {',
      format: 'yaml',
    });
    expect(yamlError.statusCode).toBe(422);
    expect(yamlError.json<{ errors: { line?: number }[] }>().errors[0]!.line).toBeGreaterThan(0);

    const dry = await api.post(`${base}/flows/dry-run`, {
      definition: {
        schemaVersion: 1,
        name: 'dry',
        trigger: { events: ['maxai.messaging.sms.received'] },
        steps: [
          {
            id: 'reply',
            type: 'messaging.send_sms',
            inputs: { to: '=event.data.from', from: OURS, body: 'hi' },
          },
        ],
      },
      event: { type: 'maxai.messaging.sms.received', data: { from: CALLER, to: OURS, body: 'x' } },
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({
      matched: true,
      steps: [{ id: 'reply', resolvedInputs: { to: CALLER, from: OURS, body: 'hi' } }],
    });

    const templates = (await api.get('/v1/flow-templates')).json<{ data: { id: string }[] }>();
    expect(templates.data.map((d) => d.id).sort()).toEqual([
      'appointment-booking',
      'inbound-sms-ai-reply',
      'missed-call-text-back',
    ]);
    const missingPort = await api.post(
      `${base}/clients/${clientId}/flow-templates/missed-call-text-back/install`,
      { parameters: { fromNumber: OURS } },
    );
    // Installing activates, which needs the crm and llm ports bound: refused with pointers.
    expect(missingPort.statusCode).toBe(422);
  });
});
