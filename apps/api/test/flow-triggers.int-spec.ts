import { randomUUID } from 'node:crypto';
import { flowRuns, withTenant, type DatabaseHandle } from '@maxai/db';
import { and, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../src/modules/events/events.service';
import { FlowTriggers } from '../src/modules/orchestrator/runtime/flow-triggers';
import { DATABASE } from '../src/platform/database/database.module';
import { as, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

interface Run {
  id: string;
  status: string;
  clientId: string | null;
  agentId: string | null;
  error: string | null;
  triggerEventId: string;
  steps: { stepId: string; status: string; output: unknown }[];
}

/**
 * The orchestrator's event subscriber (FlowTriggers) on the real application: which flows an
 * event starts, exactly once per flow and event, and which waiting runs it resumes. Events are
 * handed to it directly, as the outbox dispatcher does; the standalone role's workers run the
 * runs it queues.
 */
describe('flow triggers', () => {
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let triggers: FlowTriggers;
  let db: DatabaseHandle['db'];
  let clientA: string;
  let clientB: string;

  const definition = (type: string, steps: object[], extra: object = {}) => ({
    schemaVersion: 1,
    name: type,
    trigger: { events: [type] },
    steps,
    ...extra,
  });
  const createFlow = async (
    def: object,
    options: { clientId?: string; activate?: boolean } = {},
  ): Promise<string> => {
    const res = await api.post(`${base}/flows`, {
      name: 'trigger test',
      definition: def,
      ...(options.clientId ? { clientId: options.clientId } : {}),
    });
    expect(res.statusCode, res.body).toBe(201);
    const { id } = res.json<{ id: string }>();
    if (options.activate !== false) {
      const activated = await api.post(`${base}/flows/${id}/activate`, { version: 1 });
      expect(activated.statusCode, activated.body).toBe(200);
    }
    return id;
  };
  const event = (type: string, data: unknown, extra: Partial<CloudEvent> = {}): CloudEvent =>
    ({
      specversion: '1.0',
      id: randomUUID(),
      type,
      source: '/test',
      subject: null,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      tenantid: owner.tenantId,
      clientid: null,
      agentid: null,
      correlationid: null,
      data,
      ...extra,
    }) as unknown as CloudEvent;
  const runs = async (flowId: string) =>
    (await api.get(`${base}/flow-runs?flowId=${flowId}`)).json<{ data: Run[] }>().data;
  const run = async (id: string) => (await api.get(`${base}/flow-runs/${id}`)).json<Run>();
  const settled = (flowId: string, status: string) =>
    waitFor(async () => {
      const [first] = await runs(flowId);
      return first?.status === status ? first : undefined;
    });
  const stored = async (runId: string) => {
    const [row] = await withTenant(db, owner.tenantId, (tx) =>
      tx
        .select()
        .from(flowRuns)
        .where(and(eq(flowRuns.tenantId, owner.tenantId), eq(flowRuns.id, runId))),
    );
    return row!;
  };
  const set = (runId: string, changes: Partial<typeof flowRuns.$inferInsert>) =>
    withTenant(db, owner.tenantId, (tx) =>
      tx
        .update(flowRuns)
        .set(changes)
        .where(and(eq(flowRuns.tenantId, owner.tenantId), eq(flowRuns.id, runId))),
    );

  beforeAll(async () => {
    t = await startTestApp('standalone', { FLOW_POLL_INTERVAL_MS: '20' });
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}`;
    triggers = t.app.get(FlowTriggers);
    db = t.app.get<DatabaseHandle>(DATABASE).db;
    clientA = (await api.post(`${base}/clients`, { name: 'A' })).json<{ id: string }>().id;
    clientB = (await api.post(`${base}/clients`, { name: 'B' })).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('starting runs', () => {
    const TYPE = 'maxai.test.filtered';
    const note = [{ id: 'note', type: 'set_vars', vars: { seen: '=event.data.body' } }];

    it('starts the active flows whose filter holds; a failing filter skips that flow only', async () => {
      const go = await createFlow(definition(TYPE, note, {}), {});
      await api.post(`${base}/flows/${go}/versions`, {
        definition: {
          ...definition(TYPE, note),
          trigger: { events: [TYPE], filter: "event.data.body = 'go'" },
        },
      });
      await api.post(`${base}/flows/${go}/activate`, { version: 2 });
      const numeric = await createFlow({
        ...definition(TYPE, note),
        trigger: { events: [TYPE], filter: '$number(event.data.body) > 1' },
      });
      const draft = await createFlow(definition(TYPE, note), { activate: false });
      const retired = await createFlow(definition(TYPE, note));
      await api.post(`${base}/flows/${retired}/deactivate`, {});

      // 'go' passes the first filter; the second cannot read it as a number (an error).
      expect(await triggers.handle(event(TYPE, { body: 'go' }))).toBe(1);
      expect(await triggers.handle(event(TYPE, { body: '5' }))).toBe(1);
      expect(await triggers.handle(event(TYPE, { body: 'stop' }))).toBe(0);
      expect(await runs(go)).toHaveLength(1);
      expect(await runs(numeric)).toHaveLength(1);
      expect(await runs(draft)).toEqual([]);
      expect(await runs(retired)).toEqual([]);
      expect((await stored((await settled(go, 'completed')).id)).deadlineAt).toBeNull();
    });

    it('starts a flow once per event, however often the event is delivered', async () => {
      const type = 'maxai.test.redelivered';
      const flowId = await createFlow(definition(type, note));
      const once = event(type, { body: 'x' });
      expect(await triggers.handle(once)).toBe(1);
      expect(await triggers.handle(once)).toBe(0);
      await Promise.all([triggers.handle(once), triggers.handle(once)]);
      const [only, ...others] = await runs(flowId);
      expect(others).toEqual([]);
      expect(only).toMatchObject({ triggerEventId: once.id });
    });

    it("starts a client's flow only for that client's events; a tenant flow for anyone's", async () => {
      const type = 'maxai.test.scoped';
      const forA = await createFlow(definition(type, note), { clientId: clientA });
      const everyone = await createFlow(definition(type, note, { timeoutSeconds: 600 }));
      const agentId = randomUUID();
      expect(await triggers.handle(event(type, { body: 'b' }, { clientid: clientB }))).toBe(1);
      expect(await runs(forA)).toEqual([]);
      const [forB] = await runs(everyone);
      expect(forB).toMatchObject({ clientId: clientB });
      const { deadlineAt } = await stored(forB!.id);
      expect(deadlineAt!.getTime()).toBeGreaterThan(Date.now() + 500_000);

      expect(
        await triggers.handle(event(type, { body: 'a' }, { clientid: clientA, agentid: agentId })),
      ).toBe(2);
      expect(await runs(forA)).toEqual([expect.objectContaining({ clientId: clientA, agentId })]);
    });

    // Rewrites a stored version as the database owner (the embedded database has no URL for one).
    it.runIf(process.env.DATABASE_URL)(
      'completes at once a run of a flow without steps',
      async () => {
        const type = 'maxai.test.empty';
        const flowId = await createFlow(definition(type, note));
        // Validation refuses an empty flow; one stored before that rule still must not hang.
        // (Versions are immutable to the application: changed as the database owner.)
        const admin = new pg.Client({ connectionString: t.config.DATABASE_URL });
        await admin.connect();
        try {
          await admin.query(
            'update flow_versions set definition = $1 where tenant_id = $2 and flow_id = $3',
            [definition(type, []), owner.tenantId, flowId],
          );
        } finally {
          await admin.end();
        }
        expect(await triggers.handle(event(type, {}))).toBe(1);
        const [created] = await runs(flowId);
        expect(created).toMatchObject({ status: 'completed' });
      },
    );
  });

  describe('resuming waiting runs', () => {
    const waitStep = (event: string, extra: object = {}) => ({
      id: 'await',
      type: 'wait_for_event',
      event,
      correlate: { eventKey: 'event.data.from', runKey: 'event.data.from' },
      timeoutSeconds: 600,
      onTimeout: 'late',
      ...extra,
    });
    const late = { id: 'late', type: 'end', status: 'cancelled' };

    it('resumes the run whose correlation key matches, with the event as the output', async () => {
      const flowId = await createFlow(
        definition('maxai.test.start', [
          waitStep('maxai.test.reply'),
          {
            id: 'thanks',
            type: 'set_vars',
            vars: { said: '=steps.await.output.event.data.body' },
            next: 'finish',
          },
          late,
          { id: 'finish', type: 'end' },
        ]),
      );
      await triggers.handle(event('maxai.test.start', { from: '+15550000001' }));
      const waiting = await settled(flowId, 'waiting');
      await triggers.handle(event('maxai.test.reply', { from: '+15550000002', body: 'not me' }));
      await triggers.handle(event('maxai.test.reply', { body: 'from nobody' }));
      expect((await run(waiting.id)).status).toBe('waiting');
      const reply = event('maxai.test.reply', { from: '+15550000001', body: 'yes' });
      await triggers.handle(reply);
      await settled(flowId, 'completed');
      const detail = await run(waiting.id);
      expect(detail.steps.map((s) => [s.stepId, s.status])).toEqual([
        ['await', 'completed'],
        ['thanks', 'completed'],
        ['finish', 'completed'],
      ]);
      expect(detail.steps[0]!.output).toMatchObject({ event: { id: reply.id } });
      expect(detail.steps[1]!.output).toEqual({ said: 'yes' });
      // Delivered again: the run no longer waits for it.
      await triggers.handle(reply);
      expect((await run(waiting.id)).steps).toHaveLength(3);
    });

    it('ends the run when the wait was its last step, or fails it when a loop is spent', async () => {
      const last = await createFlow(
        definition('maxai.test.start-last', [
          { id: 'begin', type: 'set_vars', vars: { n: 1 }, next: 'await' },
          late,
          waitStep('maxai.test.last'),
        ]),
      );
      const looping = await createFlow(
        definition('maxai.test.start-loop', [
          { id: 'loop', type: 'set_vars', vars: { n: 1 }, maxIterations: 1 },
          waitStep('maxai.test.loop', { next: 'loop' }),
          late,
        ]),
      );
      await triggers.handle(event('maxai.test.start-last', { from: '+15550000003' }));
      await triggers.handle(event('maxai.test.start-loop', { from: '+15550000004' }));
      await settled(last, 'waiting');
      await settled(looping, 'waiting');
      await triggers.handle(event('maxai.test.last', { from: '+15550000003' }));
      await settled(last, 'completed');
      await triggers.handle(event('maxai.test.loop', { from: '+15550000004' }));
      const failed = await settled(looping, 'failed');
      expect(failed.error).toMatch(/"loop" would start a 2th time/);
    });

    it('skips candidates whose key cannot be computed, and runs that lost their step', async () => {
      const flowId = await createFlow(
        definition('maxai.test.start-n', [
          waitStep('maxai.test.n', {
            correlate: { eventKey: '$number(event.data.n)', runKey: 'event.data.n' },
          }),
          late,
        ]),
      );
      await triggers.handle(event('maxai.test.start-n', { n: 7 }));
      const waiting = await settled(flowId, 'waiting');
      await triggers.handle(event('maxai.test.n', { n: 'seven' }));
      expect((await run(waiting.id)).status).toBe('waiting');

      // A run pointing at a step or a version that is not there is left alone.
      await set(waiting.id, { cursor: 'ghost' });
      await triggers.handle(event('maxai.test.n', { n: '7' }));
      expect((await run(waiting.id)).status).toBe('waiting');
      await set(waiting.id, { cursor: 'await', version: 99 });
      await triggers.handle(event('maxai.test.n', { n: '7' }));
      expect((await run(waiting.id)).status).toBe('waiting');

      await set(waiting.id, { version: 1 });
      await triggers.handle(event('maxai.test.n', { n: '7' }));
      await settled(flowId, 'cancelled');
    });
  });
});
