import {
  clients,
  flows,
  flowVersions,
  openDatabase,
  tenants,
  usageEvents,
  withSystem,
  withTenant,
  type DatabaseHandle,
} from '@maxai/db';
import { eq, sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import {
  RunsRepository,
  type ClaimLimits,
  type NewRunRow,
  type RunRow,
} from '../src/modules/orchestrator/runtime/runs.repository';

/**
 * The run queue's SQL against real PostgreSQL: fair claims between tenants, the per-tenant and
 * global caps under concurrent claimers, leases, timers, cancellation and concurrency keys.
 */

const definition = {
  schemaVersion: 1,
  name: 'claims',
  trigger: { events: ['maxai.test.happened'] },
  steps: [{ id: 'only', type: 'end' }],
};

const generous: ClaimLimits = { limit: 100, leaseMs: 60_000, perTenant: 100, global: 1000 };

describe('flow run claims (runs.repository)', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let repo: RunsRepository;
  const tenantIds = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
  const flowOf = new Map<string, string>();
  const otherFlowOf = new Map<string, string>();
  const clientOf = new Map<string, string>();
  let clock = Date.now() - 3_600_000;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    handle = await openDatabase({
      url: testDb.url,
      dataDir: 'memory://',
      poolMax: 12,
      migrate: true,
    });
    repo = new RunsRepository(handle.db);
    for (const tenantId of tenantIds) {
      const flowId = uuidv7();
      const otherFlowId = uuidv7();
      const clientId = uuidv7();
      flowOf.set(tenantId, flowId);
      otherFlowOf.set(tenantId, otherFlowId);
      clientOf.set(tenantId, clientId);
      await withSystem(handle.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
      await withTenant(handle.db, tenantId, async (tx) => {
        await tx.insert(clients).values({ tenantId, id: clientId, name: 'Clinic' });
        await tx.insert(flows).values([
          { tenantId, id: flowId, name: 'tenant-wide', activeVersion: 1 },
          { tenantId, id: otherFlowId, name: 'for a client', clientId, activeVersion: 1 },
        ]);
        await tx.insert(flowVersions).values([
          { tenantId, flowId, version: 1, definition },
          { tenantId, flowId: otherFlowId, version: 1, definition },
        ]);
      });
    }
  });

  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  beforeEach(async () => {
    // Every test starts from an empty queue (the app role may not delete runs: they end).
    await withSystem(handle.db, (tx) =>
      tx.execute(sql`update flow_runs set status = 'completed', locked_until = null
        where status in ('queued', 'running', 'waiting')`),
    );
  });

  /** A queued run of a tenant, created after every earlier one (time-ordered id and queue time). */
  const queue = async (tenantId: string, extra: Partial<NewRunRow> = {}): Promise<RunRow> => {
    clock += 1000;
    const run = await withTenant(handle.db, tenantId, (tx) =>
      repo.createRun(tx, {
        tenantId,
        id: uuidv7(),
        flowId: flowOf.get(tenantId)!,
        version: 1,
        triggerEventId: uuidv7(),
        triggerEvent: { type: 'maxai.test.happened' },
        cursor: 'only',
        queuedAt: new Date(clock),
        ...extra,
      }),
    );
    return run!;
  };
  const queueMany = async (tenantId: string, n: number) => {
    const runs: RunRow[] = [];
    for (let i = 0; i < n; i += 1) runs.push(await queue(tenantId));
    return runs;
  };
  const update = (run: RunRow, changes: Partial<NewRunRow>) =>
    withTenant(handle.db, run.tenantId, (tx) => repo.updateRun(tx, run.tenantId, run.id, changes));
  const claim = (limits: Partial<ClaimLimits> = {}, worker = 'w1') =>
    repo.claim(worker, { ...generous, ...limits });
  const ids = (runs: RunRow[]) => runs.map((r) => r.id).sort();
  const countBy = (runs: RunRow[]) => {
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r.tenantId, (counts.get(r.tenantId) ?? 0) + 1);
    return counts;
  };
  const [A, B, C, D] = tenantIds as [string, string, string, string];

  it('claims nothing from an empty queue', async () => {
    expect(await claim()).toEqual([]);
  });

  it('takes tenants in turns: a flooding tenant does not starve the others', async () => {
    const flood = await queueMany(A, 10);
    const b = await queueMany(B, 2);
    const c = await queueMany(C, 1);
    // A's runs are all older than B's and C's, still each tenant's oldest comes first.
    const first = await claim({ limit: 3 });
    expect(ids(first)).toEqual(ids([flood[0]!, b[0]!, c[0]!]));
    const second = await claim({ limit: 2 });
    expect(ids(second)).toEqual(ids([flood[1]!, b[1]!]));
    const third = await claim({ limit: 3 });
    expect(ids(third)).toEqual(ids(flood.slice(2, 5)));
    for (const run of [...first, ...second, ...third]) {
      expect(run).toMatchObject({ status: 'running', lockedBy: 'w1' });
      expect(run.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(run.startedAt).not.toBeNull();
    }
  });

  it('keeps a run first started when it is claimed again', async () => {
    const run = await queue(A);
    const [claimed] = await claim();
    await update(run, { status: 'queued', lockedBy: null, lockedUntil: null });
    const [again] = await claim({}, 'w2');
    expect(again!.startedAt).toEqual(claimed!.startedAt);
    expect(again!.lockedBy).toBe('w2');
  });

  it('respects the per-tenant cap across claims, counting live runs', async () => {
    await queueMany(A, 6);
    await queueMany(B, 1);
    const first = await claim({ perTenant: 2 });
    expect(countBy(first)).toEqual(
      new Map([
        [A, 2],
        [B, 1],
      ]),
    );
    expect(await claim({ perTenant: 2 })).toEqual([]);
    // One of A's finishes: one more of A's may start.
    const done = first.find((r) => r.tenantId === A)!;
    await update(done, { status: 'completed', lockedBy: null, lockedUntil: null });
    const next = await claim({ perTenant: 2 });
    expect(next.map((r) => r.tenantId)).toEqual([A]);
  });

  it('respects the global cap, counting every tenant’s live runs', async () => {
    await queueMany(A, 4);
    await queueMany(B, 4);
    const first = await claim({ global: 3 });
    expect(first).toHaveLength(3);
    expect(await claim({ global: 3 })).toEqual([]);
    expect(await claim({ global: 5 })).toHaveLength(2);
  });

  it('holds both caps exactly with many claimers at once', async () => {
    await queueMany(A, 12);
    await queueMany(B, 12);
    await queueMany(C, 3);
    const limits = { limit: 4, perTenant: 3, global: 7 };
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claim(limits, `w${String(i)}`)),
    );
    const all = results.flat();
    expect(all).toHaveLength(7);
    expect(new Set(all.map((r) => r.id)).size).toBe(7);
    for (const n of countBy(all).values()) expect(n).toBeLessThanOrEqual(3);
    // Nothing more while they run.
    expect(await Promise.all([claim(limits, 'x'), claim(limits, 'y')])).toEqual([[], []]);
  });

  it('reclaims a run whose lease expired, never one whose lease is live', async () => {
    const [live, lapsed] = await queueMany(A, 2);
    await update(live!, {
      status: 'running',
      lockedBy: 'dead-or-alive',
      lockedUntil: new Date(Date.now() + 60_000),
    });
    await update(lapsed!, {
      status: 'running',
      lockedBy: 'dead',
      lockedUntil: new Date(Date.now() - 1),
    });
    const claimed = await claim({}, 'w2');
    expect(ids(claimed)).toEqual([lapsed!.id]);
    expect(claimed[0]!.lockedBy).toBe('w2');
  });

  it('claims a waiting run only once its time came, never an ended or cancelled one', async () => {
    const [later, due, cancelled, completed, failed] = await queueMany(A, 5);
    await update(later!, { status: 'waiting', wakeAt: new Date(Date.now() + 60_000) });
    await update(due!, { status: 'waiting', wakeAt: new Date(Date.now() - 1000) });
    await update(cancelled!, { status: 'cancelled', finishedAt: new Date() });
    await update(completed!, { status: 'completed', finishedAt: new Date() });
    await update(failed!, { status: 'failed', finishedAt: new Date() });
    expect(ids(await claim())).toEqual([due!.id]);
    expect(await claim()).toEqual([]);
  });

  it('orders a tenant’s runs by when they became due (wake time, else queue time)', async () => {
    const [older, newer] = await queueMany(A, 2);
    // The older run slept and woke after the newer one was queued.
    await update(older!, { status: 'waiting', wakeAt: new Date(clock + 500) });
    const [first] = await claim({ limit: 1 });
    expect(first!.id).toBe(newer!.id);
  });

  it('renews only its own running run’s lease', async () => {
    const run = await queue(A);
    await claim({ leaseMs: 5000 }, 'w1');
    const renew = (worker: string) =>
      withTenant(handle.db, A, (tx) => repo.renewLease(tx, A, run.id, worker, 90_000));
    expect(await renew('w2')).toBe(false);
    expect(await renew('w1')).toBe(true);
    const renewed = await withTenant(handle.db, A, (tx) => repo.run(tx, A, run.id));
    expect(renewed!.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 80_000);
    await update(run, { status: 'cancelled' });
    expect(await renew('w1')).toBe(false);
  });

  describe('concurrency keys', () => {
    const keyed = (tenantId: string, key: string | null, flowId = flowOf.get(tenantId)!) =>
      queue(tenantId, { concurrencyKey: key, flowId });

    it('runs equal keys of a flow one at a time, in creation order', async () => {
      const x1 = await keyed(A, '"x"');
      const x2 = await keyed(A, '"x"');
      const x3 = await keyed(A, '"x"');
      const y1 = await keyed(A, '"y"');
      const free = await keyed(A, null);
      const elsewhere = await keyed(A, '"x"', otherFlowOf.get(A));
      expect(ids(await claim())).toEqual(ids([x1, y1, free, elsewhere]));
      expect(await claim()).toEqual([]);

      // x1 waits (a delay): it still holds the key.
      await update(x1, { status: 'waiting', wakeAt: new Date(Date.now() + 60_000) });
      expect(await claim()).toEqual([]);
      await update(x1, { status: 'completed', wakeAt: null, lockedBy: null, lockedUntil: null });
      expect(ids(await claim())).toEqual([x2.id]);
      await update(x2, { status: 'failed', lockedBy: null, lockedUntil: null });
      expect(ids(await claim())).toEqual([x3.id]);
    });

    it('lets no earlier run (a rerun) overtake a later one that is executing', async () => {
      const first = await keyed(B, '"+1555"');
      const second = await keyed(B, '"+1555"');
      await update(first, { status: 'failed', finishedAt: new Date() });
      expect(ids(await claim())).toEqual([second.id]);
      // The failed run is rerun while the later one executes: it waits its turn.
      await update(first, { status: 'queued', finishedAt: null });
      expect(await claim()).toEqual([]);
      // The later one's worker died: its lease lapsed, the rerun (earlier) goes first.
      await update(second, { lockedUntil: new Date(Date.now() - 1) });
      expect(ids(await claim())).toEqual([first.id]);
    });

    it('does not let a blocked run take its tenant’s turn', async () => {
      await keyed(C, '"k"');
      const blocked = await keyed(C, '"k"');
      const other = await keyed(C, '"other"');
      const d = await keyed(D, null);
      const claimed = await claim({ limit: 3 });
      expect(claimed.map((r) => r.id)).not.toContain(blocked.id);
      expect(ids(claimed)).toEqual(expect.arrayContaining([other.id, d.id]));
      expect(claimed).toHaveLength(3);
    });
  });

  describe('the rest of the run store', () => {
    it('finds the active flows an event triggers, tenant-wide and for the event’s client', async () => {
      const find = (clientId: string | null, type = 'maxai.test.happened') =>
        withTenant(handle.db, A, (tx) => repo.activeFlowsFor(tx, A, type, clientId));
      expect((await find(null)).map((r) => r.flow.id)).toEqual([flowOf.get(A)]);
      expect((await find(clientOf.get(A)!)).map((r) => r.flow.id).sort()).toEqual(
        [flowOf.get(A), otherFlowOf.get(A)].sort(),
      );
      expect(await find(null, 'maxai.other')).toEqual([]);
      const version = await withTenant(handle.db, A, (tx) =>
        repo.version(tx, A, flowOf.get(A)!, 1),
      );
      expect(version!.definition).toEqual(definition);
    });

    it('creates a run once per flow and event', async () => {
      const run = await queue(A, { triggerEventId: 'evt-1' });
      const again = await withTenant(handle.db, A, (tx) =>
        repo.createRun(tx, {
          tenantId: A,
          flowId: flowOf.get(A)!,
          version: 1,
          triggerEventId: 'evt-1',
          triggerEvent: {},
        }),
      );
      expect(again).toBeUndefined();
      expect((await withTenant(handle.db, A, (tx) => repo.run(tx, A, run.id)))!.id).toBe(run.id);
    });

    it('finds the places runs wait at for an event type, and the runs there with a key', async () => {
      const [waiting, otherKey, otherType] = await queueMany(A, 3);
      const wait = { status: 'waiting' as const, cursor: 'w' };
      await update(waiting!, { ...wait, waitingType: 'maxai.reply', waitingKey: '"k"' });
      await update(otherKey!, { ...wait, waitingType: 'maxai.reply', waitingKey: '"j"' });
      await update(otherType!, { ...wait, waitingType: 'maxai.else', waitingKey: '"k"' });
      const places = await withTenant(handle.db, A, (tx) =>
        repo.waitingPlaces(tx, A, 'maxai.reply'),
      );
      expect(places).toEqual([{ flowId: flowOf.get(A)!, version: 1, cursor: 'w' }]);
      const found = await withTenant(handle.db, A, (tx) =>
        repo.waitingRuns(tx, A, { ...places[0]!, cursor: 'w' }, 'maxai.reply', '"k"'),
      );
      expect(found.map((r) => r.id)).toEqual([waiting!.id]);
    });

    it('records steps, side effects and usage', async () => {
      const run = await queue(A);
      await withTenant(handle.db, A, async (tx) => {
        for (const seq of [2, 1]) {
          await repo.insertStep(tx, {
            tenantId: A,
            runId: run.id,
            seq,
            stepId: `s${String(seq)}`,
            type: 'set_vars',
            status: 'running',
            runnableAt: new Date(),
          });
        }
        await repo.updateStep(tx, A, run.id, 1, { status: 'completed', output: { ok: true } });
        expect(await repo.step(tx, A, run.id, 1)).toMatchObject({
          status: 'completed',
          output: { ok: true },
        });
        expect(await repo.step(tx, A, run.id, 9)).toBeUndefined();
        expect((await repo.steps(tx, A, run.id)).map((s) => s.seq)).toEqual([1, 2]);

        expect(await repo.beginSideEffect(tx, A, 'key-1', run.id, 's1')).toBeUndefined();
        expect(await repo.beginSideEffect(tx, A, 'key-1', run.id, 's1')).toEqual({
          state: 'pending',
          result: null,
        });
        await repo.finishSideEffect(tx, A, 'key-1', { sid: 'SM1' });
        expect(await repo.beginSideEffect(tx, A, 'key-1', run.id, 's1')).toEqual({
          state: 'done',
          result: { sid: 'SM1' },
        });
        await repo.forgetSideEffect(tx, A, 'key-1');
        expect(await repo.beginSideEffect(tx, A, 'key-1', run.id, 's1')).toBeUndefined();

        const usage = {
          tenantId: A,
          runId: run.id,
          stepId: 's1#1',
          kind: 'sms_segments' as const,
          provider: 'twilio',
          operation: 'messaging.send_sms',
          quantity: 1,
        };
        await repo.recordUsage(tx, usage);
        await repo.recordUsage(tx, { ...usage, quantity: 5 });
        const rows = await tx.select().from(usageEvents).where(eq(usageEvents.runId, run.id));
        expect(rows.map((r) => r.quantity)).toEqual([1]);
      });
    });
  });
});
