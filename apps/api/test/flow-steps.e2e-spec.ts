import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderError } from '@maxai/core';
import {
  connections,
  sideEffects,
  tenants,
  usageEvents,
  withTenant,
  type DatabaseHandle,
} from '@maxai/db';
import {
  allVendorSimulators,
  createSimulatorServer,
  RETELL_SIM_WORKSPACE,
  TWILIO_SIM_ACCOUNT,
  type SimulatorServer,
} from '@maxai/simulators';
import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FlowDefinition, FlowStep } from '../src/modules/orchestrator/definition/flow-types';
import { planStep } from '../src/modules/orchestrator/definition/step-plan';
import { ConnectionBudget } from '../src/modules/orchestrator/runtime/connection-budget';
import { PlatformStepServices } from '../src/modules/orchestrator/runtime/platform-step-services';
import { scopeOf } from '../src/modules/orchestrator/runtime/run-executor';
import { RunsRepository, type RunRow } from '../src/modules/orchestrator/runtime/runs.repository';
import { FlowTriggers } from '../src/modules/orchestrator/runtime/flow-triggers';
import type { CloudEvent } from '../src/modules/events/events.service';
import { PrincipalCache } from '../src/modules/iam/principal-cache';
import {
  executeCall,
  PermanentStepError,
  type CallResult,
} from '../src/modules/orchestrator/runtime/step-calls';
import { DATABASE } from '../src/platform/database/database.module';
import { REDIS } from '../src/platform/redis/redis.module';
import { as, signupOwner, type Account } from './support/accounts';
import {
  bind,
  keyedConnection,
  oauthConnect,
  retellAgent,
  simControl,
  TWILIO_CREDENTIALS,
} from './support/flow-providers';
import { freePort } from './support/free-port';
import { promptUrl } from './support/prompts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Every kind of call step, executed by the runtime's `executeCall` with the platform's own
 * services (bindings → adapters → the provider simulators, the prompt service, the side-effect
 * ledger in PostgreSQL, connection budgets in Redis).
 */
describe('flow call steps against the provider simulators', () => {
  let sim: SimulatorServer;
  let simUrl: string;
  let control: ReturnType<typeof simControl>;
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let db: DatabaseHandle['db'];
  let redis: Redis | null;
  let clientId: string;
  let agentId: string;
  let flowId: string;
  let retellAgentId: string;
  const ids: Record<string, string> = {};
  let budget: ConnectionBudget;
  let http: Server;
  let httpUrl: string;

  const journal = (vendor: string, path: string) =>
    sim.context.journal.filter((e) => e.vendor === vendor && e.path.includes(path));

  const newRun = async (scope: { clientId?: string | null; agentId?: string | null } = {}) =>
    withTenant(db, owner.tenantId, async (tx) => {
      const id = randomUUID();
      const run = await t.app.get(RunsRepository).createRun(tx, {
        tenantId: owner.tenantId,
        flowId,
        version: 1,
        clientId: scope.clientId === undefined ? clientId : scope.clientId,
        agentId: scope.agentId === undefined ? null : scope.agentId,
        triggerEventId: id,
        triggerEvent: { id, type: 'maxai.test.kick', data: { from: '+15550001111' } },
        // Not the scheduler's: these runs exist for their side-effect ledger and scope.
        status: 'completed',
      });
      return run!;
    });

  async function call(
    step: FlowStep,
    options: { run?: RunRow; key?: string; timeoutMs?: number; budget?: ConnectionBudget } = {},
  ): Promise<CallResult> {
    const run = options.run ?? (await newRun());
    const definition = {
      schemaVersion: 1,
      name: 'steps',
      trigger: { events: ['maxai.test.kick'] },
      steps: [step],
    } as FlowDefinition;
    const plan = await planStep(definition, step.id, scopeOf(run));
    if (plan.action !== 'call') throw new Error(`planned ${plan.action}: ${JSON.stringify(plan)}`);
    return executeCall({
      db,
      repository: t.app.get(RunsRepository),
      services: t.app.get(PlatformStepServices),
      budget: options.budget ?? budget,
      run,
      step,
      plan,
      idempotencyKey: options.key ?? `${run.id}:${step.id}:g0:s1`,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
  }
  const done = async (step: FlowStep, options: Parameters<typeof call>[1] = {}) => {
    const result = await call(step, options);
    if (result.kind !== 'done') throw new Error(`not done: ${JSON.stringify(result)}`);
    return result;
  };
  const step = (type: string, inputs: Record<string, unknown>, extra: object = {}) =>
    ({ id: type.replace('.', '_'), type, inputs, ...extra }) as unknown as FlowStep;
  const ledger = (key: string) =>
    withTenant(db, owner.tenantId, (tx) =>
      tx
        .select()
        .from(sideEffects)
        .where(and(eq(sideEffects.tenantId, owner.tenantId), eq(sideEffects.idempotencyKey, key))),
    );
  /** As stored in jsonb (undefined fields dropped). */
  const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
  const rejection = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection');
  };

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${String(port)}`;
    sim = await createSimulatorServer({ vendors: allVendorSimulators(), publicUrl });
    simUrl = await sim.listen();
    control = simControl(simUrl);
    t = await startTestApp('standalone', {
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      PUBLIC_URL: publicUrl,
      PORTAL_URL: 'http://portal.test',
      FLOW_POLL_INTERVAL_MS: '20',
    });
    await t.app.listen(port, '127.0.0.1');
    db = t.app.get<DatabaseHandle>(DATABASE).db;
    redis = t.app.get<Redis | null>(REDIS);
    budget = new ConnectionBudget(redis, `${t.config.REDIS_KEY_PREFIX}:wide`, 10_000);
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}`;
    clientId = (await api.post(`${base}/clients`, { name: 'Clinic' })).json<{ id: string }>().id;
    agentId = (
      await api.post(`${base}/clients/${clientId}/agents`, { name: 'Desk', channel: 'voice' })
    ).json<{ id: string }>().id;
    ids.crm = await oauthConnect(t, owner, 'gohighlevel');
    ids.calendar = await oauthConnect(t, owner, 'google');
    ids.messaging = await keyedConnection(t, owner, 'twilio', TWILIO_CREDENTIALS);
    ids.voice = await keyedConnection(t, owner, 'retell', { apiKey: RETELL_SIM_WORKSPACE.apiKey });
    ids.llm = await keyedConnection(t, owner, 'openrouter', { apiKey: 'sk-or-v1-simulator' });
    ids.workflow = await keyedConnection(t, owner, 'n8n', {
      headerName: 'x-n8n-key',
      headerValue: 'n8n-secret',
    });
    for (const [port, id] of Object.entries(ids)) await bind(t, owner, port, id);
    retellAgentId = await retellAgent(simUrl);
    const created = await api.post(`${base}/flows`, {
      name: 'host of runs',
      definition: {
        schemaVersion: 1,
        name: 'host',
        trigger: { events: ['maxai.test.kick'] },
        steps: [{ id: 'only', type: 'end' }],
      },
    });
    flowId = created.json<{ id: string }>().id;

    http = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        if (path === '/busy') res.writeHead(429).end('slow down');
        else if (path === '/broken') res.writeHead(503).end('down');
        else if (path === '/text') res.writeHead(200, { 'content-type': 'text/plain' }).end('hi');
        else if (path === '/slow') setTimeout(() => res.writeHead(200).end('{}'), 2000);
        else {
          res.writeHead(201, { 'content-type': 'application/json', 'x-seen': 'yes' }).end(
            JSON.stringify({
              method: req.method,
              contentType: req.headers['content-type'] ?? null,
              idempotencyKey: req.headers['idempotency-key'],
              custom: req.headers['x-custom'] ?? null,
              body: body === '' ? null : (JSON.parse(body) as unknown),
            }),
          );
        }
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpUrl = `http://127.0.0.1:${String((http.address() as AddressInfo).port)}`;
  });
  afterEach(() => {
    sim.context.faults.clear();
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await t.close();
    await sim.close();
  });

  describe('port steps', () => {
    it('runs every CRM step against GoHighLevel; side effects carry their key', async () => {
      const upserted = await done(
        step('crm.upsert_contact', { email: 'ana@example.com', firstName: 'Ana', tags: ['new'] }),
      );
      expect(upserted.idempotencyKey).toMatch(/:crm_upsert_contact:g0:s1$/);
      expect(upserted.input).toMatchObject({ email: 'ana@example.com' });
      const contactId = (upserted.output as { contact: { id: string } }).contact.id;
      const got = await done(step('crm.get_contact', { contactId }));
      expect(got).toMatchObject({ idempotencyKey: null, output: { email: 'ana@example.com' } });
      const found = await done(step('crm.search_contacts', { email: 'ana@example.com' }));
      expect(found.output).toEqual([expect.objectContaining({ id: contactId })]);
      expect((await done(step('crm.add_note', { contactId, body: 'Called.' }))).output).toEqual({
        id: expect.any(String),
      });
      expect(
        (await done(step('crm.add_tags', { contactId, tags: ['vip', 'new'] }))).output,
      ).toEqual(expect.arrayContaining(['vip', 'new']));
      expect((await done(step('crm.remove_tags', { contactId, tags: ['new'] }))).output).toEqual([
        'vip',
      ]);
      const opened = await done(
        step('crm.create_opportunity', {
          contactId,
          pipelineId: 'pipeline_sandbox',
          stageId: 'stage_new',
          name: 'Cleaning',
          monetaryValue: 120,
        }),
      );
      const opportunityId = (opened.output as { id: string }).id;
      const moved = await done(
        step('crm.update_opportunity', { opportunityId, status: 'won', monetaryValue: 150 }),
      );
      expect(moved.output).toMatchObject({ id: opportunityId, status: 'won' });
    });

    it('runs every calendar step against Google, and the pure slot finder without a call', async () => {
      const range = { start: '2030-03-04T14:00:00Z', end: '2030-03-04T18:00:00Z' };
      const created = await done(
        step('calendar.create_event', {
          calendarId: 'primary',
          title: 'Cleaning',
          timeZone: 'America/New_York',
          start: '2030-03-04T15:00:00Z',
          end: '2030-03-04T15:30:00Z',
          attendees: [{ email: 'ana@example.com' }],
        }),
      );
      const eventId = (created.output as { id: string }).id;
      const busy = await done(
        step('calendar.free_busy', {
          ...range,
          calendarIds: ['primary'],
          timeZone: 'America/New_York',
        }),
      );
      expect(busy.output).toEqual({ primary: [expect.objectContaining({})] });
      const listed = await done(step('calendar.list_events', { ...range, calendarId: 'primary' }));
      expect(listed.output).toEqual([expect.objectContaining({ id: eventId })]);
      const cancelled = await done(
        step('calendar.cancel_event', { calendarId: 'primary', eventId }),
      );
      expect(cancelled.idempotencyKey).not.toBeNull();
      const before = sim.context.journal.length;
      const slot = await done(
        step('calendar.next_free_slot', {
          from: '2030-03-04T15:00:00Z',
          until: '2030-03-05T15:00:00Z',
          durationMinutes: 30,
          busy: [{ start: '2030-03-04T15:00:00Z', end: '2030-03-04T15:30:00Z' }],
          timeZone: 'America/New_York',
        }),
      );
      expect(slot).toMatchObject({
        idempotencyKey: null,
        output: { found: true, available: false, start: '2030-03-04T15:30:00.000Z' },
      });
      expect(sim.context.journal.length).toBe(before);
    });

    it('sends, reads and lists SMS through Twilio, recording segments as usage', async () => {
      const sent = await done(
        step('messaging.send_sms', {
          from: TWILIO_SIM_ACCOUNT.phoneNumber,
          to: '+14155550123',
          body: 'Your appointment is confirmed.',
        }),
      );
      expect(sent.usage).toEqual([
        expect.objectContaining({ kind: 'sms_segments', provider: 'twilio', quantity: 1 }),
      ]);
      const messageId = (sent.output as { id: string }).id;
      expect((await done(step('messaging.get_message', { messageId }))).output).toMatchObject({
        id: messageId,
      });
      const listed = await done(step('messaging.list_messages', { with: '+14155550123' }));
      expect(listed.output).toEqual([expect.objectContaining({ id: messageId })]);
    });

    it('starts and reads a voice call through Retell', async () => {
      const started = await done(
        step('voice.start_call', {
          agentId: retellAgentId,
          fromNumber: RETELL_SIM_WORKSPACE.phoneNumber,
          toNumber: '+14155550123',
          metadata: { reason: 'missed call' },
        }),
      );
      expect(started.idempotencyKey).not.toBeNull();
      const callId = (started.output as { id: string }).id;
      expect((await done(step('voice.get_call', { callId }))).output).toMatchObject({
        id: callId,
        toNumber: '+14155550123',
      });
    });

    it('passes a failed token refresh through as the provider’s (retryable) error', async () => {
      await withTenant(db, owner.tenantId, (tx) =>
        tx
          .update(connections)
          .set({ accessExpiresAt: new Date(Date.now() - 1000) })
          .where(eq(connections.id, ids.calendar!)),
      );
      await t.app.get(PrincipalCache).invalidate('all');
      sim.context.faults.add({ vendor: 'google', pathIncludes: '/token', status: 503 });
      const services = t.app.get(PlatformStepServices);
      const scope = { tenantId: owner.tenantId };
      const error = await rejection(services.ports(scope, ['calendar']));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'transient', retryable: true });
      sim.context.faults.clear();
      expect((await services.ports(scope, ['calendar'])).bound).toEqual([
        { connectionId: ids.calendar, provider: 'calendar' },
      ]);
    });

    it('refuses a step whose port has no binding at the run’s scope, at once', async () => {
      const other = await signupOwner(t.app, 'Unbound Agency');
      const services = t.app.get(PlatformStepServices);
      const error = await rejection(services.ports({ tenantId: other.tenantId }, ['crm']));
      expect(error).toBeInstanceOf(PermanentStepError);
      expect(error.message).toBe('no connection is bound to the crm port');
    });
  });

  describe('the side-effect ledger', () => {
    const sms = (body: string) =>
      step('messaging.send_sms', {
        from: TWILIO_SIM_ACCOUNT.phoneNumber,
        to: '+14155550199',
        body,
      });
    const sentBodies = (body: string) =>
      journal('twilio', '/Messages.json').filter(
        (e) => e.method === 'POST' && (e.body as { Body?: string }).Body === body,
      );

    it('writes the intent, then the result; a retry finding the result reuses it', async () => {
      const run = await newRun();
      const first = await done(sms('ledger reuse'), { run });
      expect(await ledger(first.idempotencyKey!)).toMatchObject([
        { state: 'done', result: json(first.output), runId: run.id, stepId: 'messaging_send_sms' },
      ]);
      const again = await done(sms('ledger reuse'), { run });
      expect(again).toMatchObject({ output: json(first.output), usage: [] });
      expect(sentBodies('ledger reuse')).toHaveLength(1);
    });

    it('a retry finding only the intent reports the step in doubt and does not send again', async () => {
      const run = await newRun();
      const key = `${run.id}:messaging_send_sms:g0:s1`;
      // A worker crashed between the provider accepting and the result being recorded.
      await withTenant(db, owner.tenantId, (tx) =>
        t.app
          .get(RunsRepository)
          .beginSideEffect(tx, owner.tenantId, key, run.id, 'messaging_send_sms'),
      );
      const result = await done(sms('in doubt'), { run, key });
      expect(result).toMatchObject({ output: { inDoubt: true }, idempotencyKey: key });
      expect(sentBodies('in doubt')).toHaveLength(0);
    });

    it('forgets the intent when the provider answered an error: a retry sends', async () => {
      const run = await newRun();
      // 503 on every attempt the adapter makes (it retries a keyed POST itself).
      sim.context.faults.add({ vendor: 'twilio', pathIncludes: 'Messages.json', status: 503 });
      const error = await rejection(done(sms('after a 503'), { run }));
      expect(error).toMatchObject({ kind: 'transient', status: 503, retryable: true });
      const key = `${run.id}:messaging_send_sms:g0:s1`;
      expect(await ledger(key)).toEqual([]);
      sim.context.faults.clear();
      sim.context.faults.add({
        vendor: 'twilio',
        pathIncludes: 'Messages.json',
        status: 429,
        retryAfterS: 0,
      });
      expect(await rejection(done(sms('after a 503'), { run }))).toMatchObject({
        kind: 'rate_limited',
        retryable: true,
      });
      sim.context.faults.clear();
      sim.context.faults.add({
        vendor: 'twilio',
        pathIncludes: 'Messages.json',
        status: 400,
        remaining: 1,
      });
      expect(await rejection(done(sms('after a 503'), { run }))).toMatchObject({
        kind: 'invalid',
        retryable: false,
      });
      expect(await ledger(key)).toEqual([]);
      const sent = await done(sms('after a 503'), { run });
      expect(await ledger(key)).toMatchObject([{ state: 'done', result: json(sent.output) }]);
    });

    it('keeps the intent after a timeout (the provider may have acted): the retry is in doubt', async () => {
      const run = await newRun();
      sim.context.faults.add({
        vendor: 'twilio',
        pathIncludes: 'Messages.json',
        latencyMs: 1500,
        remaining: 1,
      });
      const error = await rejection(done(sms('too slow'), { run, timeoutMs: 200 }));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'transient', status: undefined });
      expect(error.message).toBe('the step took longer than 0.2 s');
      const key = `${run.id}:messaging_send_sms:g0:s1`;
      expect(await ledger(key)).toMatchObject([{ state: 'pending' }]);
      expect(await done(sms('too slow'), { run })).toMatchObject({ output: { inDoubt: true } });
    });

    it('reads without a ledger entry or a key', async () => {
      const run = await newRun();
      const listed = await done(step('messaging.list_messages', { with: '+14155550199' }), {
        run,
      });
      expect(listed.idempotencyKey).toBeNull();
      expect(await ledger(`${run.id}:messaging_list_messages:g0:s1`)).toEqual([]);
    });
  });

  describe('connection budgets and provider failures', () => {
    it('throttles instead of failing when the connection’s budget is spent', async () => {
      const tight = new ConnectionBudget(redis, `${t.config.REDIS_KEY_PREFIX}:tight`, 1);
      const read = step('messaging.list_messages', { with: '+14155550188' });
      expect((await call(read, { budget: tight })).kind).toBe('done');
      const before = journal('twilio', '/Messages.json').length;
      const throttled = await call(read, { budget: tight });
      expect(throttled).toMatchObject({ kind: 'throttled' });
      expect((throttled as { waitMs: number }).waitMs).toBeGreaterThan(0);
      expect((throttled as { waitMs: number }).waitMs).toBeLessThanOrEqual(1000);
      expect(journal('twilio', '/Messages.json')).toHaveLength(before);
    });

    it('maps not_found to a failing error and auth to a connection needing re-authorization', async () => {
      expect(
        await rejection(done(step('crm.get_contact', { contactId: 'no-such-contact' }))),
      ).toMatchObject({ kind: 'not_found', retryable: false });

      // A client of its own, with its own Twilio connection (client bindings come first).
      const other = (await api.post(`${base}/clients`, { name: 'Other' })).json<{ id: string }>()
        .id;
      const connectionId = await keyedConnection(t, owner, 'twilio', TWILIO_CREDENTIALS, other);
      await bind(t, owner, 'messaging', connectionId, other);
      const run = await newRun({ clientId: other });
      sim.context.faults.add({ vendor: 'twilio', status: 401 });
      const refused = await rejection(
        done(step('messaging.list_messages', { with: '+14155550177' }), { run }),
      );
      expect(refused).toMatchObject({ kind: 'auth', retryable: false });
      const [row] = await withTenant(db, owner.tenantId, (tx) =>
        tx.select().from(connections).where(eq(connections.id, connectionId)),
      );
      expect(row).toMatchObject({ status: 'needs_reauth' });
      // Until someone reconnects it, steps on it fail at once (no retry can help).
      sim.context.faults.clear();
      const blocked = await rejection(
        done(step('messaging.list_messages', { with: '+14155550177' }), { run }),
      );
      expect(blocked).toBeInstanceOf(PermanentStepError);
      // The tenant's connection was not touched.
      const [tenantWide] = await withTenant(db, owner.tenantId, (tx) =>
        tx.select().from(connections).where(eq(connections.id, ids.messaging!)),
      );
      expect(tenantWide).toMatchObject({ status: 'active' });
    });
  });

  describe('llm.generate through the prompt service', () => {
    const versionId = async (key: string, version: number) =>
      (
        await api.get(promptUrl(owner.tenantId, key, undefined, `/versions/${String(version)}`))
      ).json<{
        id: string;
      }>().id;

    beforeAll(async () => {
      const prompts = `${base}/prompts`;
      expect((await api.post(prompts, { key: 'desk/reply', kind: 'text' })).statusCode).toBe(201);
      const versions = [
        { content: 'v1 for {{ name }}', modelSettings: { model: 'openai/gpt-4o-mini' } },
        {
          content: 'v2 for {{ name }}',
          modelSettings: { model: 'openai/gpt-4o', temperature: 0.2, maxTokens: 50 },
        },
        { content: 'v3 for {{ name }}', modelSettings: { model: 'openai/gpt-4o-mini' } },
      ];
      for (const v of versions) {
        const res = await api.post(
          promptUrl(owner.tenantId, 'desk/reply', undefined, '/versions'),
          v,
        );
        expect(res.statusCode, res.body).toBe(201);
      }
      await api.put(promptUrl(owner.tenantId, 'desk/reply', undefined, '/labels/production'), {
        version: 1,
      });
      await api.put(promptUrl(owner.tenantId, 'desk/reply', undefined, '/labels/canary'), {
        version: 2,
      });
      expect((await api.post(prompts, { key: 'desk/chat', kind: 'chat' })).statusCode).toBe(201);
      await api.post(promptUrl(owner.tenantId, 'desk/chat', undefined, '/versions'), {
        messages: [
          { role: 'system', content: 'You are the desk.' },
          { role: 'user', content: 'Hello {{ name }}' },
        ],
      });
      await api.put(promptUrl(owner.tenantId, 'desk/chat', undefined, '/labels/production'), {
        version: 1,
      });
      const pins = `${base}/clients/${clientId}/agents/${agentId}/prompt-pins`;
      const pinned = await api.put(`${pins}/${encodeURIComponent('desk/reply')}`, {
        versionId: await versionId('desk/reply', 3),
      });
      expect(pinned.statusCode, pinned.body).toBe(200);
    });

    const generate = (prompt: object, extra: object = {}) =>
      ({
        id: 'write',
        type: 'llm.generate',
        prompt,
        variables: { name: '=event.data.from' },
        ...extra,
      }) as unknown as FlowStep;

    it('renders by label, records the resolved version and the tokens', async () => {
      const result = await done(generate({ key: 'desk/reply', label: 'canary' }));
      const v2 = await versionId('desk/reply', 2);
      expect(result).toMatchObject({
        promptVersionId: v2,
        idempotencyKey: null,
        output: {
          model: 'openai/gpt-4o',
          prompt: { key: 'desk/reply', label: 'canary', versionId: v2 },
          finishReason: 'stop',
        },
      });
      expect((result.output as { text: string }).text).toContain('v2 for +15550001111');
      const [usage] = result.usage;
      expect(usage).toMatchObject({ kind: 'llm_tokens', provider: 'openrouter' });
      expect(usage!.quantity).toBe(
        (result.output as { tokens: { totalTokens: number } }).tokens.totalTokens,
      );
      const sent = journal('openrouter', 'chat/completions').at(-1)!.body as {
        temperature?: number;
        max_tokens?: number;
        messages: { role: string; content: string }[];
      };
      expect(sent).toMatchObject({ temperature: 0.2, max_tokens: 50 });
      expect(sent.messages).toEqual([{ role: 'user', content: 'v2 for +15550001111' }]);
    });

    it('renders an exact version; the step’s model settings win over the prompt’s', async () => {
      const result = await done(
        generate(
          { key: 'desk/reply', version: 2 },
          { model: { id: 'openai/gpt-4o-mini', temperature: 1, maxTokens: 20 } },
        ),
      );
      expect(result.promptVersionId).toBe(await versionId('desk/reply', 2));
      expect(result.output).toMatchObject({ model: 'openai/gpt-4o-mini' });
      expect(journal('openrouter', 'chat/completions').at(-1)!.body).toMatchObject({
        model: 'openai/gpt-4o-mini',
        temperature: 1,
        max_tokens: 20,
      });
    });

    it("uses the agent's pin when the step names no label or version, else production", async () => {
      const run = await newRun({ agentId });
      const pinned = await done(generate({ key: 'desk/reply' }), { run });
      expect(pinned.promptVersionId).toBe(await versionId('desk/reply', 3));
      const tenantRun = await newRun({ clientId: null, agentId });
      const production = await done(generate({ key: 'desk/reply' }), { run: tenantRun });
      expect(production.promptVersionId).toBe(await versionId('desk/reply', 1));
    });

    it('sends a chat prompt as its messages', async () => {
      await done(generate({ key: 'desk/chat' }, { model: { id: 'openai/gpt-4o-mini' } }));
      expect(journal('openrouter', 'chat/completions').at(-1)!.body).toMatchObject({
        messages: [
          { role: 'system', content: 'You are the desk.' },
          { role: 'user', content: 'Hello +15550001111' },
        ],
      });
    });

    it('fails at once when no model is named, the prompt is unknown or its variables do not fit', async () => {
      const noModel = await rejection(done(generate({ key: 'desk/chat' })));
      expect(noModel).toBeInstanceOf(PermanentStepError);
      expect(noModel.message).toBe('the prompt names no model and the step gives none');
      const unknown = await rejection(done(generate({ key: 'desk/nothing' })));
      expect(unknown).toBeInstanceOf(PermanentStepError);
      const missingVariable = await rejection(
        done({ ...generate({ key: 'desk/reply' }), variables: {} } as FlowStep),
      );
      expect(missingVariable).toBeInstanceOf(PermanentStepError);
    });

    it('throttles on a spent budget before calling the model', async () => {
      const tight = new ConnectionBudget(redis, `${t.config.REDIS_KEY_PREFIX}:llm`, 1);
      expect((await call(generate({ key: 'desk/reply' }), { budget: tight })).kind).toBe('done');
      const before = journal('openrouter', 'chat/completions').length;
      expect(await call(generate({ key: 'desk/reply' }), { budget: tight })).toMatchObject({
        kind: 'throttled',
      });
      expect(journal('openrouter', 'chat/completions')).toHaveLength(before);
    });
  });

  describe('http.request', () => {
    const request = (inputs: Record<string, unknown>) =>
      ({ id: 'hook', type: 'http.request', inputs }) as unknown as FlowStep;

    beforeAll(async () => {
      await withTenant(db, owner.tenantId, (tx) =>
        tx
          .update(tenants)
          .set({ flowHttpAllowlist: ['127.0.0.1', '*.example.org'] })
          .where(eq(tenants.id, owner.tenantId)),
      );
    });

    it('calls an allowlisted host with the idempotency key and JSON, keeping the answer', async () => {
      const result = await done(
        request({
          method: 'POST',
          url: `${httpUrl}/orders`,
          headers: { 'x-custom': 'yes' },
          body: { n: 1 },
        }),
      );
      expect(result.output).toMatchObject({
        status: 201,
        headers: { 'x-seen': 'yes' },
        body: {
          method: 'POST',
          contentType: 'application/json',
          idempotencyKey: result.idempotencyKey,
          custom: 'yes',
          body: { n: 1 },
        },
      });
      const bare = await done(request({ url: `${httpUrl}/orders` }));
      expect(bare.output).toMatchObject({
        body: { method: 'GET', contentType: null, custom: null, body: null },
      });
      expect((await done(request({ url: `${httpUrl}/text` }))).output).toMatchObject({
        status: 200,
        body: 'hi',
      });
    });

    it('refuses a host that is not allowlisted, before any request', async () => {
      const error = await rejection(done(request({ url: 'https://api.example.com/x' })));
      expect(error).toBeInstanceOf(PermanentStepError);
      expect(error.message).toBe("api.example.com is not on this organization's HTTP allowlist");
    });

    it('maps 5xx to transient and 429 to rate_limited; a timeout leaves the step in doubt', async () => {
      expect(await rejection(done(request({ url: `${httpUrl}/broken` })))).toMatchObject({
        kind: 'transient',
        status: 503,
        message: `GET 127.0.0.1 answered 503`,
      });
      expect(await rejection(done(request({ url: `${httpUrl}/busy` })))).toMatchObject({
        kind: 'rate_limited',
        status: 429,
      });
      const run = await newRun();
      const slow = await rejection(
        done(request({ url: `${httpUrl}/slow` }), { run, timeoutMs: 100 }),
      );
      expect(slow).toMatchObject({ kind: 'transient', status: undefined });
      expect(await done(request({ url: `${httpUrl}/slow` }), { run })).toMatchObject({
        output: { inDoubt: true },
      });
    });
  });

  describe('n8n.delegate', () => {
    const delegate = (mode: 'sync' | 'callback', workflow: string, extra: object = {}) =>
      ({
        id: 'delegate',
        type: 'n8n.delegate',
        workflow,
        mode,
        inputs: { payload: { lead: '=event.data.from' } },
        ...extra,
      }) as unknown as FlowStep;
    const executions = async () =>
      (await (await fetch(`${simUrl}/_control/n8n/executions`)).json()) as {
        path: string;
        payload: Record<string, unknown>;
        headers: Record<string, string>;
      }[];

    it('sync: takes the workflow’s answer as the output, once', async () => {
      await control('n8n/workflows', {
        path: 'score',
        respond: { body: { score: 87, executionId: 'e-1' } },
        headerAuth: { name: 'x-n8n-key', value: 'n8n-secret' },
      });
      const run = await newRun();
      const result = await done(delegate('sync', 'score'), { run });
      expect(result.output).toEqual({
        status: 'succeeded',
        executionId: 'e-1',
        output: { score: 87, executionId: 'e-1' },
      });
      expect(result.usage).toEqual([
        expect.objectContaining({ kind: 'provider_call', provider: 'n8n', reference: 'e-1' }),
      ]);
      const [execution] = (await executions()).filter((e) => e.path === 'score');
      expect(execution!.payload).toEqual({ lead: '+15550001111', maxaiRunId: run.id });
      expect(execution!.headers['idempotency-key']).toBe(result.idempotencyKey);
      await done(delegate('sync', 'score'), { run });
      expect((await executions()).filter((e) => e.path === 'score')).toHaveLength(1);
    });

    it('callback: needs an n8n webhook endpoint, then waits for the callback naming its correlation id', async () => {
      await control('n8n/workflows', {
        path: 'enrich',
        async: { output: { enriched: true }, delayMs: 60_000 },
      });
      // Another provider's endpoint and a disabled n8n one do not count.
      const twilioEndpoint = await api.post(`${base}/webhook-endpoints`, {
        provider: 'twilio',
        name: 'sms',
        connectionId: ids.messaging,
      });
      expect(twilioEndpoint.statusCode, twilioEndpoint.body).toBe(201);
      const disabled = await api.post(`${base}/webhook-endpoints`, {
        provider: 'n8n',
        name: 'old',
      });
      const patched = await api.patch(
        `${base}/webhook-endpoints/${disabled.json<{ id: string }>().id}`,
        { status: 'disabled' },
      );
      expect(patched.statusCode, patched.body).toBe(200);
      const missing = await rejection(done(delegate('callback', 'enrich')));
      expect(missing).toBeInstanceOf(PermanentStepError);
      expect(missing.message).toMatch(/need an n8n webhook endpoint/);
      const endpoint = await api.post(`${base}/webhook-endpoints`, {
        provider: 'n8n',
        name: 'n8n callbacks',
        secrets: { secret: 'callback-secret-0123456789' },
      });
      expect(endpoint.statusCode, endpoint.body).toBe(201);
      const { id: endpointId } = endpoint.json<{ id: string }>();
      const run = await newRun();
      const key = `${run.id}:delegate:g0:s1`;
      const waiting = await call(delegate('callback', 'enrich', { timeoutSeconds: 600 }), {
        run,
        key,
      });
      // The correlation id is the step's idempotency key: unique per delegation.
      expect(waiting).toEqual({
        kind: 'waiting',
        event: 'maxai.workflow.callback.received',
        key,
        timeoutSeconds: 600,
        // What sending it did, for the step's record (n8n's answer named no execution).
        call: {
          kind: 'done',
          input: { workflow: 'enrich', mode: 'callback', payload: { lead: '+15550001111' } },
          output: { status: 'accepted', executionId: undefined },
          idempotencyKey: key,
          promptVersionId: null,
          usage: [
            expect.objectContaining({ kind: 'provider_call', provider: 'n8n', reference: null }),
          ],
        },
      });
      const [execution] = (await executions()).filter((e) => e.path === 'enrich');
      expect(execution!.payload).toEqual({
        lead: '+15550001111',
        maxaiRunId: run.id,
        callbackUrl: `${t.config.PUBLIC_URL}/webhooks/n8n/${endpointId}`,
        correlationId: key,
      });
      expect(execution!.headers['idempotency-key']).toBe(key);
      expect(await call(delegate('callback', 'enrich'))).toMatchObject({ timeoutSeconds: 3600 });
    });

    it('callback: a workflow answering only "Workflow was started" is awaited; a retry waits for the same callback without sending again', async () => {
      await control('n8n/workflows', { path: 'fire-and-forget', async: { delayMs: 60_000 } });
      const run = await newRun();
      const key = `${run.id}:delegate:g0:s1`;
      const waitingFor = (k: string, output: unknown, usage: number) => ({
        kind: 'waiting',
        key: k,
        call: { output, idempotencyKey: k, usage: new Array(usage).fill(expect.anything()) },
      });
      const first = await call(delegate('callback', 'fire-and-forget'), { run, key });
      expect(first).toMatchObject(waitingFor(key, { status: 'accepted' }, 1));
      expect(await ledger(key)).toMatchObject([{ state: 'done', result: { status: 'accepted' } }]);
      // A worker crashed after n8n accepted: the retry finds the ledger's result (usage counted
      // once, by the first).
      expect(await call(delegate('callback', 'fire-and-forget'), { run, key })).toMatchObject(
        waitingFor(key, { status: 'accepted' }, 0),
      );
      // …or only the intent (in doubt): n8n may have started it, so its callback is awaited.
      const inDoubt = `${run.id}:delegate:g0:s2`;
      await withTenant(db, owner.tenantId, (tx) =>
        t.app.get(RunsRepository).beginSideEffect(tx, owner.tenantId, inDoubt, run.id, 'delegate'),
      );
      expect(
        await call(delegate('callback', 'fire-and-forget'), { run, key: inDoubt }),
      ).toMatchObject(waitingFor(inDoubt, { inDoubt: true }, 0));
      expect((await executions()).filter((e) => e.path === 'fire-and-forget')).toHaveLength(1);
    });

    it('callback, end to end: the run waits, n8n’s signed callback resumes it with the result', async () => {
      // "Respond: Immediately": n8n answers no execution id, the callback echoes ours.
      await control('n8n/workflows', {
        path: 'enrich-e2e',
        async: { output: { score: 87 }, delayMs: 1500 },
        callbackSecret: 'callback-secret-0123456789',
      });
      const created = await api.post(`${base}/flows`, {
        name: 'n8n callback',
        definition: {
          schemaVersion: 1,
          name: 'n8n callback',
          trigger: { events: ['maxai.test.enrich'] },
          steps: [
            {
              id: 'delegate',
              type: 'n8n.delegate',
              workflow: 'enrich-e2e',
              mode: 'callback',
              timeoutSeconds: 600,
              inputs: { payload: { lead: '=event.data.from' } },
            },
            {
              id: 'keep',
              type: 'set_vars',
              vars: { score: '=steps.delegate.output.output.score' },
            },
          ],
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json<{ id: string }>().id;
      expect((await api.post(`${base}/flows/${id}/activate`, { version: 1 })).statusCode).toBe(200);
      const triggers = t.app.get(FlowTriggers);
      const kick = (type: string, data?: unknown) =>
        triggers.handle({
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
        } as unknown as CloudEvent);
      expect(await kick('maxai.test.enrich', { from: '+15550001111' })).toBe(1);
      const runOf = async () =>
        (await api.get(`${base}/flow-runs?flowId=${id}`)).json<{
          data: { id: string; status: string }[];
        }>().data[0];
      const waiting = await waitFor(async () => {
        const found = await runOf();
        return found?.status === 'waiting' ? found : undefined;
      });
      const [execution] = (await executions()).filter((e) => e.path === 'enrich-e2e');
      expect(execution!.payload.correlationId).toMatch(
        new RegExp(`^${waiting.id}:delegate:g0:s\\d+$`),
      );
      // Callbacks of other delegations (or naming only an execution, or without a body) do not
      // resume it.
      await kick('maxai.workflow.callback.received', { correlationId: 'someone-else' });
      await kick('maxai.workflow.callback.received', { executionId: 'someone-else' });
      await kick('maxai.workflow.callback.received');
      expect((await runOf())!.status).toBe('waiting');
      await waitFor(async () => ((await runOf())!.status === 'completed' ? true : undefined));
      const detail = (await api.get(`${base}/flow-runs/${waiting.id}`)).json<{
        steps: { stepId: string; output: unknown }[];
      }>();
      expect(detail.steps).toEqual([
        expect.objectContaining({
          stepId: 'delegate',
          status: 'completed',
          // Kept when the trigger was sent, not lost to the wait.
          idempotencyKey: execution!.payload.correlationId,
          input: { workflow: 'enrich-e2e', mode: 'callback', payload: { lead: '+15550001111' } },
          output: {
            provider: 'n8n',
            correlationId: execution!.payload.correlationId,
            executionId: expect.stringMatching(/^\d+$/),
            status: 'succeeded',
            output: { score: 87 },
          },
        }),
        expect.objectContaining({ stepId: 'keep', output: { score: 87 } }),
      ]);
      const usage = await withTenant(db, owner.tenantId, (tx) =>
        tx.select().from(usageEvents).where(eq(usageEvents.runId, waiting.id)),
      );
      expect(usage).toEqual([
        expect.objectContaining({
          kind: 'provider_call',
          provider: 'n8n',
          operation: 'workflow.trigger',
          quantity: 1,
          stepId: expect.stringMatching(/^delegate#\d+$/),
        }),
      ]);
      await api.post(`${base}/flows/${id}/deactivate`, {});
    });

    it('callback that never comes: the step times out and the run fails, the trigger’s record kept', async () => {
      await control('n8n/workflows', { path: 'never', async: { delayMs: 60_000 } });
      const created = await api.post(`${base}/flows`, {
        name: 'n8n silence',
        definition: {
          schemaVersion: 1,
          name: 'n8n silence',
          trigger: { events: ['maxai.test.silence'] },
          steps: [
            {
              id: 'delegate',
              type: 'n8n.delegate',
              workflow: 'never',
              mode: 'callback',
              timeoutSeconds: 1,
            },
          ],
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json<{ id: string }>().id;
      expect((await api.post(`${base}/flows/${id}/activate`, { version: 1 })).statusCode).toBe(200);
      const started = await t.app.get(FlowTriggers).handle({
        specversion: '1.0',
        id: randomUUID(),
        type: 'maxai.test.silence',
        source: '/test',
        subject: null,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        tenantid: owner.tenantId,
        clientid: null,
        agentid: null,
        correlationid: null,
        data: {},
      } as unknown as CloudEvent);
      expect(started).toBe(1);
      const failed = await waitFor(async () => {
        const [found] = (await api.get(`${base}/flow-runs?flowId=${id}`)).json<{
          data: { id: string; status: string; error: string | null }[];
        }>().data;
        return found?.status === 'failed' ? found : undefined;
      });
      expect(failed.error).toBe('step "delegate" timed out');
      const detail = (await api.get(`${base}/flow-runs/${failed.id}`)).json<{
        steps: { stepId: string; idempotencyKey: string | null; output: unknown }[];
      }>();
      const [execution] = (await executions()).filter((e) => e.path === 'never');
      expect(detail.steps).toEqual([
        expect.objectContaining({
          stepId: 'delegate',
          idempotencyKey: execution!.payload.correlationId,
          output: null,
        }),
      ]);
      await api.post(`${base}/flows/${id}/deactivate`, {});
    });
  });
});
