import { randomBytes } from 'node:crypto';
import { flowRuns, tenants, withTenant, type DatabaseHandle } from '@maxai/db';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SimulatorServer,
} from '@maxai/simulators';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ConnectionBudget } from '../src/modules/orchestrator/runtime/connection-budget';
import { OrchestratorMetrics } from '../src/modules/orchestrator/runtime/orchestrator-metrics';
import { PlatformStepServices } from '../src/modules/orchestrator/runtime/platform-step-services';
import {
  RunExecutor,
  type ExecutorOptions,
} from '../src/modules/orchestrator/runtime/run-executor';
import {
  RunsRepository,
  type NewRunRow,
  type RunRow,
} from '../src/modules/orchestrator/runtime/runs.repository';
import { DATABASE } from '../src/platform/database/database.module';
import type { Role } from '../src/platform/config/config.module';
import { as, signupOwner } from './support/accounts';
import { spawnTs, type Spawned } from './support/child-process';
import { freePort } from './support/free-port';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Durable execution, end to end on the simulators: a worker process SIGKILLed mid-run resumes
 * from the last completed step, never repeats one, and never sends a side effect twice (the
 * in-doubt case included); retries only what may pass later; step and run time limits; cancel.
 */

export interface Step {
  seq: number;
  stepId: string;
  status: string;
  attempts: number;
  output: unknown;
  error: string | null;
  errorKind: string | null;
  idempotencyKey: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}
export interface Run {
  id: string;
  triggerEventId: string;
  status: string;
  cursor: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Step[];
}

const OURS = '+15550002222';
const N8N_HEADER = { name: 'x-n8n-key', value: 'n8n-secret-0123456789' };

/** One tenant wired to the simulators: Twilio (messaging) and n8n (workflow) for one client. */
export async function wirePlatform(role: Role, env: Record<string, string> = {}) {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${String(port)}`;
  const sim: SimulatorServer = await createSimulatorServer({
    vendors: allVendorSimulators(),
    publicUrl,
  });
  const simUrl = await sim.listen();
  const shared = {
    PROVIDERS: 'sandbox',
    SIMULATORS_URL: simUrl,
    PUBLIC_URL: publicUrl,
    MASTER_KEY: randomBytes(32).toString('base64'),
    REDIS_KEY_PREFIX: `maxai-durable-${randomBytes(4).toString('hex')}`,
    FLOW_POLL_INTERVAL_MS: '20',
    JOBS_POLL_INTERVAL_MS: '20',
    ...env,
  };
  const t: TestApp = await startTestApp(role, shared);
  await t.app.listen(port, '127.0.0.1');
  const owner = await signupOwner(t.app);
  const api = as(t.app, owner.token);
  const base = `/v1/tenants/${owner.tenantId}`;
  const clientId = (await api.post(`${base}/clients`, { name: 'Clinic' })).json<{ id: string }>()
    .id;

  const control = async (path: string, body: object) => {
    const res = await fetch(`${simUrl}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const account = (await control('twilio/accounts', { numbers: [OURS] })) as {
    accountSid: string;
    authToken: string;
  };
  const connect = async (provider: string, port: string, credentials: object) => {
    const created = await api.post(`${base}/connections`, {
      provider,
      name: provider,
      clientId,
      credentials,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    const bound = await api.put(`${base}/bindings/${port}`, { connectionId: id, clientId });
    expect(bound.statusCode, bound.body).toBe(200);
    return id;
  };
  const twilioConnection = await connect('twilio', 'messaging', {
    accountSid: account.accountSid,
    authToken: account.authToken,
  });
  const n8nConnection = await connect('n8n', 'workflow', {
    headerName: N8N_HEADER.name,
    headerValue: N8N_HEADER.value,
  });
  const endpoint = await api.post(`${base}/webhook-endpoints`, {
    provider: 'twilio',
    name: 'Twilio SMS',
    clientId,
    connectionId: twilioConnection,
  });
  const endpointUrl = endpoint.json<{ url: string }>().url;

  const p = {
    sim,
    simUrl,
    t,
    tenantId: owner.tenantId,
    shared,
    api,
    base,
    clientId,
    twilioConnection,
    n8nConnection,
    control,
    fault: (fault: object) => control('faults', fault),
    /** Twilio holds (latencyMs) or refuses (status) the next SMS sent. */
    smsFault: (fault: { status?: number; latencyMs?: number }) =>
      control('faults', {
        vendor: 'twilio',
        method: 'POST',
        pathIncludes: 'Messages.json',
        remaining: 1,
        ...fault,
      }),
    workflow: (path: string, respond: object = { body: { ok: true } }) =>
      control('n8n/workflows', { path, respond, headerAuth: N8N_HEADER }),
    executions: async (path: string) => {
      const res = await fetch(`${simUrl}/_control/n8n/executions`);
      const all = (await res.json()) as { path: string; headers: Record<string, string> }[];
      return all.filter((e) => e.path === path);
    },
    inboundSms: (body: string, from = '+15557654321') =>
      control('twilio/inbound', { from, to: OURS, body, url: endpointUrl }),
    /** What reached Twilio's Messages endpoint with this body (accepted or refused). */
    smsRequests: (body: string) =>
      sim.context.journal.filter(
        (e) =>
          e.vendor === 'twilio' &&
          e.method === 'POST' &&
          e.path.endsWith('/Messages.json') &&
          (e.body as Record<string, string> | undefined)?.Body === body,
      ),
    createFlow: async (definition: object) => {
      const res = await api.post(`${base}/flows`, { name: 'durable', clientId, definition });
      expect(res.statusCode, res.body).toBe(201);
      const flow = res.json<{ id: string }>();
      const activated = await api.post(`${base}/flows/${flow.id}/activate`, { version: 1 });
      expect(activated.statusCode, activated.body).toBe(200);
      return flow.id;
    },
    deactivate: (flowId: string) => api.post(`${base}/flows/${flowId}/deactivate`, {}),
    runs: async (flowId: string) =>
      (await api.get(`${base}/flow-runs?flowId=${flowId}`)).json<{ data: Run[] }>().data,
    run: async (id: string) => (await api.get(`${base}/flow-runs/${id}`)).json<Run>(),
    /** The one run of the flow, once `ready` holds for it. */
    runWhen: (flowId: string, ready: (run: Run) => boolean, ms = 30_000) =>
      waitFor(async () => {
        const [first] = await p.runs(flowId);
        if (!first) return undefined;
        const detail = await p.run(first.id);
        return ready(detail) ? detail : undefined;
      }, ms),
    db: () => t.app.get<DatabaseHandle>(DATABASE).db,
    close: async () => {
      await t.close();
      await sim.close();
    },
  };
  return p;
}

/** A trigger on inbound SMS whose body starts with `tag`. */
const smsTrigger = (tag: string) => ({
  events: ['maxai.messaging.sms.received'],
  filter: `$substringBefore(event.data.body, ' ') = '${tag}'`,
});
const sms = (id: string, body: string, extra: object = {}) => ({
  id,
  type: 'messaging.send_sms',
  inputs: { to: '=event.data.from', from: '=event.data.to', body },
  ...extra,
});
const stepOf = (run: Run, id: string) => run.steps.find((s) => s.stepId === id);
const fast = { maxAttempts: 3, backoff: { initialMs: 100, maxMs: 1000, multiplier: 2 } };

describe('a worker SIGKILLed mid-run', () => {
  let p: Awaited<ReturnType<typeof wirePlatform>>;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    // The API in this process (it runs no flows); the worker role in a child process.
    p = await wirePlatform('api', { FLOW_LEASE_MS: '1500' });
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await p.close();
  });

  const startWorker = async () => {
    const worker = spawnTs('apps/api/src/worker.ts', {
      ...p.shared,
      DATABASE_URL: p.t.config.DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL ?? '',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SEED_ON_START: 'false',
      SIMULATORS_EMBEDDED: 'false',
      FLOW_LEASE_MS: '1500',
      FLOW_POLL_INTERVAL_MS: '50',
      JOBS_POLL_INTERVAL_MS: '50',
      JOBS_LEASE_MS: '1500',
    });
    workers.push(worker);
    await worker.ready;
    return worker;
  };
  const kill = async (worker: Spawned) => {
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toBeNull();
  };

  it('resumes from the last completed step: each step once, no SMS twice (in doubt included)', async () => {
    await p.workflow('durable-hook');
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'durable',
      trigger: smsTrigger('durable'),
      steps: [
        { id: 'remember', type: 'set_vars', vars: { tag: '=event.data.body' } },
        sms('first', '="first: " & vars.tag', { timeoutSeconds: 20 }),
        {
          id: 'hook',
          type: 'n8n.delegate',
          workflow: 'durable-hook',
          mode: 'sync',
          inputs: { payload: { tag: '=vars.tag' } },
        },
        { id: 'pause', type: 'delay', duration: 'PT1M' },
        sms('second', '="second: " & vars.tag'),
        { id: 'done', type: 'end' },
      ],
    });
    // The provider holds the first SMS for a while: the worker dies with it in flight, after
    // the request reached Twilio (which then accepts it) and before the worker recorded it.
    await p.smsFault({ latencyMs: 4000 });
    const first = await startWorker();
    await p.inboundSms('durable one');
    await waitFor(async () => p.smsRequests('first: durable one').length === 1, 30_000);
    await kill(first);

    // A new worker takes the run over once the dead one's lease lapsed.
    const second = await startWorker();
    const paused = await p.runWhen(flowId, (r) => stepOf(r, 'pause')?.status === 'waiting');
    expect(paused.status).toBe('waiting');
    await kill(second);

    // Time travel past the delay while no worker runs, then a third worker finishes the run.
    await withTenant(p.db(), p.tenantId, (tx) =>
      tx.update(flowRuns).set({ wakeAt: new Date() }).where(eq(flowRuns.id, paused.id)),
    );
    await startWorker();
    const done = await p.runWhen(flowId, (r) => r.status === 'completed');

    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['remember', 'completed'],
      ['first', 'completed'],
      ['hook', 'completed'],
      ['pause', 'completed'],
      ['second', 'completed'],
      ['done', 'completed'],
    ]);
    // The SMS in flight at the crash is in doubt: not sent again.
    expect(stepOf(done, 'first')).toMatchObject({ attempts: 2, output: { inDoubt: true } });
    expect(p.smsRequests('first: durable one')).toHaveLength(1);
    expect(p.smsRequests('second: durable one')).toHaveLength(1);
    for (const id of ['remember', 'hook', 'pause', 'second']) {
      expect(stepOf(done, id)!.attempts, id).toBe(1);
    }
    // n8n honours an idempotency key: it got the step's, once.
    const calls = await p.executions('durable-hook');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers['idempotency-key']).toBe(stepOf(done, 'hook')!.idempotencyKey);
    expect(stepOf(done, 'hook')!.idempotencyKey).toMatch(new RegExp(`^${done.id}:hook:g0:s\\d+$`));
  }, 180_000);
});

describe('retries, time limits, cancel and concurrency keys (in process)', () => {
  let p: Awaited<ReturnType<typeof wirePlatform>>;

  beforeAll(async () => {
    p = await wirePlatform('standalone');
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  it('retries a transient 503 with backoff, then succeeds (attempts 2, one SMS)', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'retry',
      trigger: smsTrigger('retry'),
      steps: [sms('reply', '="retried: " & event.data.body', { retry: fast })],
    });
    await p.smsFault({ status: 503 });
    await p.inboundSms('retry me');
    const run = await p.runWhen(flowId, (r) => r.status === 'completed');
    expect(stepOf(run, 'reply')).toMatchObject({ status: 'completed', attempts: 2, error: null });
    // Two requests reached Twilio: the one it refused (503) and the retry it accepted.
    expect(p.smsRequests('retried: retry me')).toHaveLength(2);
    await p.deactivate(flowId);
  });

  it('fails a step at once on a 400 (invalid): no retry', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'invalid',
      trigger: smsTrigger('invalid'),
      steps: [sms('reply', 'never', { retry: fast }), sms('after', 'not reached')],
    });
    await p.smsFault({ status: 400 });
    await p.inboundSms('invalid input');
    const run = await p.runWhen(flowId, (r) => r.status === 'failed');
    expect(stepOf(run, 'reply')).toMatchObject({
      status: 'failed',
      attempts: 1,
      errorKind: 'invalid',
    });
    expect(run.error).toMatch(/^step reply: /);
    expect(stepOf(run, 'after')).toBeUndefined();
    // The one request Twilio refused (400); no retry.
    expect(p.smsRequests('never')).toHaveLength(1);
    await p.deactivate(flowId);
  });

  it('times a step out; a retry of a timed-out side effect is in doubt, not sent again', async () => {
    await p.workflow('slow-hook');
    const delegate = (retry: object) => ({
      id: 'hook',
      type: 'n8n.delegate',
      workflow: 'slow-hook',
      mode: 'sync',
      timeoutSeconds: 1,
      retry,
    });
    const once = await p.createFlow({
      schemaVersion: 1,
      name: 'timeout',
      trigger: smsTrigger('timeout'),
      steps: [delegate({ maxAttempts: 1, backoff: fast.backoff })],
    });
    await p.fault({ vendor: 'n8n', pathIncludes: 'slow-hook', latencyMs: 2500, remaining: 1 });
    await p.inboundSms('timeout once');
    const failed = await p.runWhen(once, (r) => r.status === 'failed');
    expect(stepOf(failed, 'hook')).toMatchObject({
      status: 'failed',
      attempts: 1,
      errorKind: 'transient',
    });
    expect(stepOf(failed, 'hook')!.error).toMatch(/took longer than 1 s/);
    await p.deactivate(once);

    const retried = await p.createFlow({
      schemaVersion: 1,
      name: 'timeout retried',
      trigger: smsTrigger('doubt'),
      steps: [delegate(fast)],
    });
    await p.fault({ vendor: 'n8n', pathIncludes: 'slow-hook', latencyMs: 2500, remaining: 1 });
    await p.inboundSms('doubt it');
    const doubtful = await p.runWhen(retried, (r) => r.status === 'completed');
    expect(stepOf(doubtful, 'hook')).toMatchObject({ attempts: 2, output: { inDoubt: true } });
    // Each run's timed-out call reached n8n; the retry did not call again.
    await new Promise((r) => setTimeout(r, 300));
    const reached = p.sim.context.journal.filter(
      (e) => e.vendor === 'n8n' && e.path.includes('slow-hook'),
    );
    expect(reached).toHaveLength(2);
    await p.deactivate(retried);
  });

  it('ends a run at its time limit, even while it waits', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'deadline',
      trigger: smsTrigger('deadline'),
      timeoutSeconds: 2,
      steps: [{ id: 'pause', type: 'delay', duration: 'PT1H' }, sms('after', 'too late')],
    });
    await p.inboundSms('deadline now');
    const run = await p.runWhen(flowId, (r) => r.status === 'timed_out', 15_000);
    expect(run.error).toMatch(/time limit/);
    expect(p.smsRequests('too late')).toHaveLength(0);
    await p.deactivate(flowId);
  });

  it('cancels a run mid-step: the step ends cancelled, nothing after it runs', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'cancel',
      trigger: smsTrigger('cancel'),
      steps: [sms('slow', 'slow one'), sms('after', 'after cancel')],
    });
    await p.smsFault({ latencyMs: 1500 });
    await p.inboundSms('cancel me');
    const running = await p.runWhen(flowId, (r) => stepOf(r, 'slow')?.status === 'running');
    const cancelled = await p.api.post(`${p.base}/flow-runs/${running.id}/cancel`, {});
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    expect(stepOf(await p.run(running.id), 'slow')!.status).toBe('cancelled');
    // The provider answers after the cancel: the SMS went out; the step records it, still cancelled.
    const settled = await p.runWhen(flowId, (r) => stepOf(r, 'slow')?.output !== null);
    expect(settled.status).toBe('cancelled');
    expect(stepOf(settled, 'slow')).toMatchObject({
      status: 'cancelled',
      output: { body: 'slow one' },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(stepOf(await p.run(running.id), 'after')).toBeUndefined();
    expect(p.smsRequests('after cancel')).toHaveLength(0);
    await p.deactivate(flowId);
  });

  it('cancels a waiting run: its step ends cancelled too', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'cancel waiting',
      trigger: smsTrigger('park'),
      steps: [{ id: 'pause', type: 'delay', duration: 'PT1H' }],
    });
    await p.inboundSms('park it');
    const waiting = await p.runWhen(flowId, (r) => r.status === 'waiting');
    await p.api.post(`${p.base}/flow-runs/${waiting.id}/cancel`, {});
    expect(stepOf(await p.run(waiting.id), 'pause')).toMatchObject({ status: 'cancelled' });
    await p.deactivate(flowId);
  });

  it('runs a sender’s messages one at a time, in order (concurrencyKey)', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'in order',
      trigger: smsTrigger('order'),
      concurrencyKey: 'event.data.from',
      steps: [sms('reply', '="answer to " & event.data.body')],
    });
    // The first answer is slow: without the key the second would overtake it.
    await p.smsFault({ latencyMs: 1000 });
    await p.inboundSms('order 1', '+15550100001');
    await waitFor(async () => (await p.runs(flowId)).length === 1);
    await p.inboundSms('order 2', '+15550100001');
    const runs = await waitFor(async () => {
      const list = await p.runs(flowId);
      return list.length === 2 && list.every((r) => r.status === 'completed') ? list : undefined;
    });
    const answers = p.sim.context.journal
      .filter((e) => e.vendor === 'twilio' && e.method === 'POST')
      .map((e) => (e.body as Record<string, string> | undefined)?.Body)
      .filter((b) => b?.startsWith('answer to order'));
    expect(answers).toEqual(['answer to order 1', 'answer to order 2']);
    const [later, earlier] = runs; // newest first
    expect(Date.parse(later!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(earlier!.finishedAt!));
    await p.deactivate(flowId);
  });

  it('skips, branches, times a wait out, wakes from a delay, fails invalid input', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'shapes',
      trigger: smsTrigger('shapes'),
      steps: [
        { ...sms('skipped', 'never sent'), when: 'false' },
        {
          id: 'route',
          type: 'branch',
          conditions: [{ when: "event.data.body = 'shapes one'", next: 'reply_wait' }],
          otherwise: 'broken',
        },
        {
          id: 'reply_wait',
          type: 'wait_for_event',
          event: 'maxai.test.never',
          correlate: { eventKey: 'event.data.none', runKey: 'event.data.none' },
          timeoutSeconds: 1,
          onTimeout: 'pause',
        },
        { id: 'unreached', type: 'end', status: 'cancelled' },
        { id: 'pause', type: 'delay', duration: 'PT1M', next: 'done' },
        sms('broken', '=vars.nothing'),
        { id: 'done', type: 'end' },
      ],
    });
    await p.inboundSms('shapes one');
    const paused = await p.runWhen(flowId, (r) => stepOf(r, 'pause')?.status === 'waiting');
    // Time travel past the delay.
    await withTenant(p.db(), p.tenantId, (tx) =>
      tx.update(flowRuns).set({ wakeAt: new Date() }).where(eq(flowRuns.id, paused.id)),
    );
    const done = await waitFor(async () => {
      const r = await p.run(paused.id);
      return r.status === 'completed' ? r : undefined;
    });
    expect(done.steps.map((s) => [s.stepId, s.status, s.attempts])).toEqual([
      ['skipped', 'skipped', 1],
      ['route', 'completed', 1],
      ['reply_wait', 'completed', 1],
      ['pause', 'completed', 1],
      ['done', 'completed', 1],
    ]);
    expect(stepOf(done, 'route')!.output).toMatchObject({ next: 'reply_wait' });

    await p.inboundSms('shapes two');
    const invalid = await waitFor(async () => {
      const r = (await p.runs(flowId)).find((x) => x.id !== paused.id && x.status === 'failed');
      return r && p.run(r.id);
    });
    expect(stepOf(invalid, 'broken')).toMatchObject({ status: 'failed', errorKind: 'invalid' });
    await p.deactivate(flowId);
  });

  it('retries with the default policy, and what is not a provider error (a refused connection)', async () => {
    await withTenant(p.db(), p.tenantId, (tx) =>
      tx
        .update(tenants)
        .set({ flowHttpAllowlist: ['127.0.0.1'] })
        .where(eq(tenants.id, p.tenantId)),
    );
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'defaults',
      trigger: smsTrigger('defaults'),
      steps: [
        sms('plain', 'default retry'),
        { id: 'url', type: 'set_vars', vars: { url: 'http://127.0.0.1:1/refused' } },
        {
          id: 'call',
          type: 'http.request',
          inputs: { method: 'GET', url: '=vars.url' },
          retry: { maxAttempts: 2, backoff: { initialMs: 50, maxMs: 50, multiplier: 1 } },
        },
      ],
    });
    await p.smsFault({ status: 503 });
    await p.inboundSms('defaults please');
    const run = await p.runWhen(flowId, (r) => r.status === 'completed', 20_000);
    expect(stepOf(run, 'plain')).toMatchObject({ status: 'completed', attempts: 2 });
    // A dropped connection cannot tell whether the request was acted on: in doubt on retry.
    expect(stepOf(run, 'call')).toMatchObject({ attempts: 2, output: { inDoubt: true } });
    await p.deactivate(flowId);
  });

  it('cancels a run while a failing call is in flight: the step ends cancelled, no retry', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'cancel failing',
      trigger: smsTrigger('cancelfail'),
      steps: [sms('flaky', 'flaky one', { retry: fast })],
    });
    await p.smsFault({ latencyMs: 1000, status: 503 });
    await p.inboundSms('cancelfail now');
    const running = await p.runWhen(flowId, (r) => stepOf(r, 'flaky')?.status === 'running');
    await p.api.post(`${p.base}/flow-runs/${running.id}/cancel`, {});
    await new Promise((r) => setTimeout(r, 1500));
    const after = await p.run(running.id);
    expect(after.status).toBe('cancelled');
    expect(stepOf(after, 'flaky')).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      output: null,
    });
    // The one attempt Twilio refused; none after the cancel.
    expect(p.smsRequests('flaky one')).toHaveLength(1);
    await p.deactivate(flowId);
  });

  it('fails at once on a 401 and marks the connection needs_reauth', async () => {
    const flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'auth',
      trigger: smsTrigger('auth'),
      steps: [sms('reply', 'unauthorized', { retry: fast })],
    });
    await p.smsFault({ status: 401 });
    await p.inboundSms('auth please');
    const run = await p.runWhen(flowId, (r) => r.status === 'failed');
    expect(stepOf(run, 'reply')).toMatchObject({ attempts: 1, errorKind: 'auth' });
    const connection = await p.api.get(`${p.base}/connections/${p.twilioConnection}`);
    expect(connection.json()).toMatchObject({ status: 'needs_reauth' });
    await p.deactivate(flowId);

    // The same for a workflow call (n8n).
    await p.workflow('auth-hook');
    const hookFlow = await p.createFlow({
      schemaVersion: 1,
      name: 'auth hook',
      trigger: { events: ['maxai.integrations.connection.needs_reauth'] },
      steps: [{ id: 'hook', type: 'n8n.delegate', workflow: 'auth-hook', mode: 'sync' }],
    });
    await p.fault({ vendor: 'n8n', pathIncludes: 'auth-hook', status: 401, remaining: 1 });
    // Marking Twilio emitted the trigger event above before this flow existed: replay it.
    const events = (
      await p.api.get(`${p.base}/events?type=maxai.integrations.connection.needs_reauth`)
    ).json<{ data: { id: string }[] }>();
    const twilioRefused = events.data[0]!.id;
    await p.api.post(`${p.base}/events/${twilioRefused}/replay`, {});
    // (Marking n8n emits another such event: a second run, which finds n8n unusable.)
    const hookRun = await waitFor(async () => {
      const mine = (await p.runs(hookFlow)).find(
        (r) => r.triggerEventId === twilioRefused && r.status === 'failed',
      );
      return mine && p.run(mine.id);
    });
    expect(stepOf(hookRun, 'hook'), JSON.stringify(hookRun)).toMatchObject({
      attempts: 1,
      errorKind: 'auth',
    });
    const n8n = await p.api.get(`${p.base}/connections/${p.n8nConnection}`);
    expect(n8n.json()).toMatchObject({ status: 'needs_reauth' });
  });
});

describe('the executor, driven directly (in process)', () => {
  let p: Awaited<ReturnType<typeof wirePlatform>>;
  let repository: RunsRepository;
  let flowId: string;
  const WORKER = 'direct-worker';

  const executor = (options: Partial<ExecutorOptions> = {}, perSecond = 1000) =>
    new RunExecutor(
      p.db(),
      repository,
      p.t.app.get(PlatformStepServices),
      new ConnectionBudget(null, 'direct', perSecond),
      p.t.app.get(OrchestratorMetrics),
      pino({ level: 'silent' }),
      {
        workerId: WORKER,
        leaseMs: 60_000,
        maxStepsPerSlice: 50,
        defaultStepTimeoutS: 5,
        ...options,
      },
    );
  /** A run of the test flow already held by this worker (the app's scheduler leaves it alone). */
  const held = async (changes: Partial<NewRunRow> = {}) => {
    const run = await withTenant(p.db(), p.tenantId, (tx) =>
      repository.createRun(tx, {
        tenantId: p.tenantId,
        flowId,
        version: 1,
        clientId: p.clientId,
        triggerEventId: randomBytes(8).toString('hex'),
        triggerEvent: { type: 'maxai.test', data: { from: '+15557654321', to: OURS } },
        status: 'running',
        cursor: 'a',
        lockedBy: WORKER,
        lockedUntil: new Date(Date.now() + 60_000),
        ...changes,
      }),
    );
    return run!;
  };
  const reload = (run: RunRow) =>
    withTenant(p.db(), p.tenantId, (tx) => repository.run(tx, p.tenantId, run.id));
  const stepsOf = (run: RunRow) =>
    withTenant(p.db(), p.tenantId, (tx) => repository.steps(tx, p.tenantId, run.id));

  beforeAll(async () => {
    p = await wirePlatform('standalone');
    repository = p.t.app.get(RunsRepository);
    flowId = await p.createFlow({
      schemaVersion: 1,
      name: 'driven',
      trigger: smsTrigger('never-triggered'),
      steps: [
        { id: 'a', type: 'set_vars', vars: { one: 1 } },
        { id: 'b', type: 'set_vars', vars: { two: 2 } },
        sms('c', 'from c'),
        sms('d', 'from d'),
        { id: 'e', type: 'end' },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  it('completes a run with no step left, and fails one whose step is unknown', async () => {
    const finished = await held({ cursor: null });
    await executor().execute(finished);
    expect(await reload(finished)).toMatchObject({ status: 'completed', lockedBy: null });
    const lost = await held({ cursor: 'ghost' });
    await executor().execute(lost);
    expect(await reload(lost)).toMatchObject({ status: 'failed', error: 'unknown step ghost' });
  });

  it('refuses a run whose flow version is missing', async () => {
    const orphan = await held({ version: 99 });
    await expect(executor().execute(orphan)).rejects.toThrow(/flow version .* is missing/);
  });

  it('yields the worker after a slice of steps: the run goes back in the queue', async () => {
    const run = await held();
    await executor({ maxStepsPerSlice: 2 }).execute(run);
    const after = await reload(run);
    expect(after!.lockedBy).not.toBe(WORKER);
    expect(after!.cursor).toBe('c');
    // The app's own worker picks it up and finishes it.
    const done = await waitFor(async () => {
      const r = await reload(run);
      return r?.status === 'completed' ? r : undefined;
    });
    expect(done.vars).toEqual({ one: 1, two: 2 });
  });

  it('leaves a run cancelled after it was claimed: no step starts, nothing is closed', async () => {
    const run = await held({ deadlineAt: new Date(Date.now() + 60_000) });
    await withTenant(p.db(), p.tenantId, (tx) =>
      repository.updateRun(tx, p.tenantId, run.id, { status: 'cancelled', lockedBy: null }),
    );
    await executor().execute(run);
    expect(await stepsOf(run)).toEqual([]);
    // Past its deadline too: still not reclosed as timed out.
    await executor().execute({ ...run, deadlineAt: new Date(Date.now() - 1) });
    expect(await reload(run)).toMatchObject({ status: 'cancelled', error: null });
  });

  it('parks a step when the connection’s budget is spent, without counting an attempt', async () => {
    const run = await held({ cursor: 'c' });
    await executor({}, 1).execute(run);
    const parked = await reload(run);
    expect(parked).toMatchObject({ status: 'waiting', cursor: 'd' });
    const d = (await stepsOf(run)).find((s) => s.stepId === 'd');
    expect(d).toMatchObject({ status: 'waiting', attempts: 1, error: null });
    const done = await waitFor(async () => {
      const r = await reload(run);
      return r?.status === 'completed' ? r : undefined;
    });
    expect(done.finishedAt).not.toBeNull();
    expect((await stepsOf(run)).find((s) => s.stepId === 'd')).toMatchObject({
      status: 'completed',
      attempts: 1,
    });
  });

  it('leaves the step to the worker that took the run over while it ran', async () => {
    const run = await held({ cursor: 'c' });
    await p.smsFault({ latencyMs: 800 });
    const sentBefore = p.smsRequests('from c').length;
    const executing = executor().execute(run);
    await waitFor(async () => (await stepsOf(run)).some((s) => s.stepId === 'c'));
    await withTenant(p.db(), p.tenantId, (tx) =>
      repository.updateRun(tx, p.tenantId, run.id, {
        lockedBy: 'another-worker',
        lockedUntil: new Date(Date.now() + 60_000),
      }),
    );
    await executing;
    expect((await stepsOf(run)).find((s) => s.stepId === 'c')).toMatchObject({
      status: 'running',
    });
    expect(await reload(run)).toMatchObject({ status: 'running', lockedBy: 'another-worker' });
    // The other worker "dies": its lease lapses, the app's worker resumes the step and finds
    // the SMS recorded in the side-effect ledger: its result, not a second SMS.
    await withTenant(p.db(), p.tenantId, (tx) =>
      repository.updateRun(tx, p.tenantId, run.id, { lockedUntil: new Date(Date.now() - 1) }),
    );
    await waitFor(async () => (await reload(run))?.status === 'completed');
    expect((await stepsOf(run)).find((s) => s.stepId === 'c')).toMatchObject({
      status: 'completed',
      attempts: 2,
      output: { body: 'from c', status: 'queued' },
    });
    expect(p.smsRequests('from c').length - sentBefore).toBe(1);
  });
});
