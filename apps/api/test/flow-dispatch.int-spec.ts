import { flowRuns, tenants, withSystem, withTenant, type DatabaseHandle } from '@maxai/db';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsService, type CloudEvent } from '../src/modules/events/events.service';
import { ConnectionBudget } from '../src/modules/orchestrator/runtime/connection-budget';
import { FlowTriggers } from '../src/modules/orchestrator/runtime/flow-triggers';
import { OrchestratorMetrics } from '../src/modules/orchestrator/runtime/orchestrator-metrics';
import { PlatformStepServices } from '../src/modules/orchestrator/runtime/platform-step-services';
import { RunExecutor } from '../src/modules/orchestrator/runtime/run-executor';
import { N8N_CALLBACK_EVENT } from '../src/modules/orchestrator/runtime/step-calls';
import { CallbackArrivals } from '../src/modules/orchestrator/runtime/wait-resume';
import type { FlowDefinition } from '../src/modules/orchestrator/definition/flow-types';
import {
  RunsRepository,
  type NewRunRow,
  type RunRow,
} from '../src/modules/orchestrator/runtime/runs.repository';
import { DATABASE } from '../src/platform/database/database.module';
import { ROOT_LOGGER } from '../src/platform/logging/logging.module';
import { as, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

const WORKER = 'dispatch-test-worker';
const LIMITS = { limit: 1, leaseMs: 30_000, perTenant: 10, global: 100 };

/**
 * The executor's way from one step to the next, driven by hand (the `api` role runs no
 * scheduler): claims and slices are this test's, the executor and repository the platform's.
 */
describe('step dispatch: claim, begin, end and the next begin', () => {
  let t: TestApp;
  let owner: Account;
  let db: DatabaseHandle['db'];
  let repository: RunsRepository;
  let executor: RunExecutor;

  const flow = async (name: string, steps: object[]) => {
    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}`;
    const created = await api.post(`${base}/flows`, {
      name,
      definition: {
        schemaVersion: 1,
        name,
        trigger: {
          events: ['maxai.messaging.sms.received'],
          filter: `event.data.case = '${name}'`,
        },
        steps,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    const activated = await api.post(`${base}/flows/${id}/activate`, { version: 1 });
    expect(activated.statusCode, activated.body).toBe(200);
  };

  /** Starts the flow `name` (one run) and claims it, after `change` to the queued run. */
  const claimed = async (name: string, change: Partial<NewRunRow> = {}): Promise<RunRow> => {
    const event = {
      specversion: '1.0',
      id: uuidv7(),
      type: 'maxai.messaging.sms.received',
      source: '/maxai/test',
      subject: null,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      tenantid: owner.tenantId,
      clientid: null,
      agentid: null,
      correlationid: null,
      data: { case: name },
    } satisfies CloudEvent;
    expect(await t.app.get(FlowTriggers).handle(event)).toBe(1);
    if (Object.keys(change).length > 0) {
      await withSystem(db, (tx) =>
        tx.update(flowRuns).set(change).where(eq(flowRuns.triggerEventId, event.id)),
      );
    }
    return claimNext();
  };

  const claimNext = async (): Promise<RunRow> => {
    const [run] = await repository.claim(WORKER, LIMITS);
    expect(run).toBeDefined();
    return run!;
  };

  const state = (run: RunRow) =>
    withTenant(db, owner.tenantId, async (tx) => ({
      run: (await repository.run(tx, owner.tenantId, run.id))!,
      steps: await repository.steps(tx, owner.tenantId, run.id),
    }));

  beforeAll(async () => {
    t = await startTestApp('api');
    owner = await signupOwner(t.app);
    db = t.app.get<DatabaseHandle>(DATABASE).db;
    repository = t.app.get(RunsRepository);
    executor = new RunExecutor(
      db,
      repository,
      t.app.get(PlatformStepServices),
      new ConnectionBudget(null, 'dispatch-test', 100),
      t.app.get(OrchestratorMetrics),
      t.app.get<Logger>(ROOT_LOGGER),
      {
        workerId: WORKER,
        leaseMs: 30_000,
        maxStepsPerSlice: 2,
        defaultStepTimeoutS: 30,
        // One parsed version at a time: the flows below take turns evicting each other.
        definitionsKept: 1,
      },
    );
    await flow('three', [
      { id: 'a', type: 'set_vars', vars: { a: 1 } },
      { id: 'b', type: 'set_vars', vars: { b: 2 } },
      { id: 'c', type: 'set_vars', vars: { c: 3 } },
    ]);
    await flow('pause', [
      { id: 'wait', type: 'delay', duration: 'PT1M' },
      { id: 'after', type: 'set_vars', vars: { done: true } },
    ]);
    await flow('one', [{ id: 'only', type: 'set_vars', vars: { x: 1 } }]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('begins the next step as the last one ends (runnable at its end), and yields after a slice', async () => {
    const run = await claimed('three');
    await executor.execute(run);
    const sliced = await state(run);
    // Two steps a slice: back in the queue, no one's, at the third step.
    expect(sliced.run).toMatchObject({ status: 'queued', lockedBy: null, cursor: 'c', stepSeq: 2 });
    expect(sliced.steps.map((s) => [s.seq, s.stepId, s.status])).toEqual([
      [1, 'a', 'completed'],
      [2, 'b', 'completed'],
    ]);
    expect(sliced.steps[1]!.runnableAt).toEqual(sliced.steps[0]!.finishedAt);

    await executor.execute(await claimNext());
    const done = await state(run);
    expect(done.run).toMatchObject({ status: 'completed', vars: { a: 1, b: 2, c: 3 } });
    expect(done.steps.map((s) => [s.seq, s.stepId, s.attempts])).toEqual([
      [1, 'a', 1],
      [2, 'b', 1],
      [3, 'c', 1],
    ]);
  });

  it('resumes a suspended step in its own row, then goes on', async () => {
    const run = await claimed('pause');
    await executor.execute(run);
    const waiting = await state(run);
    expect(waiting.run).toMatchObject({ status: 'waiting', lockedBy: null, stepSeq: 1 });
    expect(waiting.steps).toMatchObject([{ seq: 1, stepId: 'wait', status: 'waiting' }]);

    // Its time has come.
    await withSystem(db, (tx) =>
      tx
        .update(flowRuns)
        .set({ wakeAt: new Date(Date.now() - 1000) })
        .where(eq(flowRuns.id, run.id)),
    );
    await executor.execute(await claimNext());
    const done = await state(run);
    expect(done.run).toMatchObject({ status: 'completed', stepSeq: 2 });
    expect(done.steps.map((s) => [s.seq, s.stepId, s.status, s.attempts])).toEqual([
      // The delay's end continues its attempt, in its row.
      [1, 'wait', 'completed', 1],
      [2, 'after', 'completed', 1],
    ]);
  });

  it('keeps its lease through a step that outlasts it, so no other worker takes the run', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const called = new Promise<void>((r) => (reached = r));
    const slow = createServer((_request, response) => {
      reached();
      void held.then(() => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const port = (slow.address() as AddressInfo).port;
    await withSystem(db, (tx) =>
      tx
        .update(tenants)
        .set({ flowHttpAllowlist: ['127.0.0.1'] })
        .where(eq(tenants.id, owner.tenantId)),
    );
    await flow('slow', [
      { id: 'call', type: 'http.request', inputs: { url: `http://127.0.0.1:${String(port)}/` } },
    ]);
    const shortLease = new RunExecutor(
      db,
      repository,
      t.app.get(PlatformStepServices),
      new ConnectionBudget(null, 'dispatch-test', 100),
      t.app.get(OrchestratorMetrics),
      t.app.get<Logger>(ROOT_LOGGER),
      { workerId: WORKER, leaseMs: 1000, maxStepsPerSlice: 5, defaultStepTimeoutS: 30 },
    );
    const run = await claimed('slow');
    const executing = shortLease.execute(run);
    await called;
    // Three leases' worth of time in the call: without renewals it would be up for grabs.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await repository.claim('another-worker', LIMITS)).toEqual([]);
    expect((await state(run)).run.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    release();
    await executing;
    slow.close();
    expect((await state(run)).run).toMatchObject({ status: 'completed', lockedBy: null });
  });

  it('goes on at once when the n8n callback it starts waiting for is already in', async () => {
    const arrivals = new CallbackArrivals(repository, t.app.get(OrchestratorMetrics));
    const events = t.app.get(EventsService);
    const definition = {
      steps: [
        { id: 'a', type: 'set_vars', vars: { a: 1 } },
        { id: 'b', type: 'set_vars', vars: { b: 2 } },
      ],
    } as unknown as FlowDefinition;
    const step = definition.steps[0]!;
    const waitFor = async (key: string, type = N8N_CALLBACK_EVENT) => {
      const run = await claimed('three');
      await withSystem(db, (tx) =>
        tx
          .update(flowRuns)
          .set({
            status: 'waiting',
            cursor: 'a',
            waitingType: type,
            waitingKey: JSON.stringify(key),
          })
          .where(eq(flowRuns.id, run.id)),
      );
      return (await state(run)).run;
    };
    // Out of the next claims' way.
    const cancel = (run: RunRow) =>
      withSystem(db, (tx) =>
        tx.update(flowRuns).set({ status: 'cancelled' }).where(eq(flowRuns.id, run.id)),
      );
    const settle = (run: RunRow) =>
      withTenant(db, owner.tenantId, (tx) => arrivals.settle(tx, definition, run, step));

    const early = await waitFor('corr-early');
    await withTenant(db, owner.tenantId, (tx) =>
      events.emit(tx, {
        tenantId: owner.tenantId,
        type: N8N_CALLBACK_EVENT,
        source: '/maxai/webhooks/n8n',
        subject: 'corr-early',
        data: { correlationId: 'corr-early', status: 'succeeded', output: { score: 3 } },
      }),
    );
    expect(await settle(early)).toBe(true);
    const resumed = await state(early);
    expect(resumed.run).toMatchObject({ status: 'queued', cursor: 'b', waitingType: null });
    expect(resumed.run.outputs).toMatchObject({
      a: { status: 'completed', output: { correlationId: 'corr-early', output: { score: 3 } } },
    });
    await cancel(early);

    // Nothing in yet, or not a callback wait: it keeps waiting.
    const pending = await waitFor('corr-none');
    expect(await settle(pending)).toBe(false);
    expect((await state(pending)).run.status).toBe('waiting');
    const other = await waitFor('corr-early', 'maxai.messaging.sms.received');
    expect(await settle(other)).toBe(false);
    await cancel(pending);
    await cancel(other);
  });

  it('starts no step of a run that stopped being its worker’s after the claim', async () => {
    const run = await claimed('one');
    await withSystem(db, (tx) =>
      tx.update(flowRuns).set({ status: 'cancelled' }).where(eq(flowRuns.id, run.id)),
    );
    await executor.execute(run);
    const after = await state(run);
    expect(after.run.status).toBe('cancelled');
    expect(after.steps).toEqual([]);
  });

  it('closes a run past its deadline, with no step left, or at a step its version lacks', async () => {
    const late = await claimed('one', { deadlineAt: new Date(Date.now() - 1000) });
    await executor.execute(late);
    expect((await state(late)).run).toMatchObject({
      status: 'timed_out',
      error: 'the run exceeded its time limit',
    });

    const finished = await claimed('one', { cursor: null });
    await executor.execute(finished);
    expect((await state(finished)).run).toMatchObject({ status: 'completed', error: null });

    const lost = await claimed('one', { cursor: 'nowhere' });
    await executor.execute(lost);
    expect((await state(lost)).run).toMatchObject({
      status: 'failed',
      error: 'unknown step nowhere',
    });
    expect((await state(lost)).steps).toEqual([]);
  });

  it('renews a lease only for the worker holding the run, numbering the next step on request', async () => {
    const run = await claimed('one');
    await withTenant(db, owner.tenantId, async (tx) => {
      expect(await repository.renewLease(tx, owner.tenantId, run.id, WORKER, 60_000)).toBe(true);
      expect(await repository.renewLease(tx, owner.tenantId, run.id, 'someone-else', 1)).toBe(
        false,
      );
      const held = await repository.holdRun(tx, owner.tenantId, run.id, WORKER, 60_000, true);
      expect(held).toMatchObject({ stepSeq: 1, lockedBy: WORKER });
      expect(held!.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 30_000);
      const again = await repository.holdRun(tx, owner.tenantId, run.id, WORKER, 60_000, false);
      expect(again?.stepSeq).toBe(1);
    });
  });
});
