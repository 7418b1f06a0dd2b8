import { randomBytes, randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  jobs,
  openDatabase,
  tenants,
  withSystem,
  type Database,
  type DatabaseHandle,
} from '@maxai/db';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import type { PgInsertValue } from 'drizzle-orm/pg-core';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { MetricsService } from '../src/platform/metrics/metrics.service';
import {
  BullMqTransport,
  QUEUE_NAME,
  type BullMqTransportOptions,
} from '../src/platform/queue/bullmq-transport';
import { JobExecutor } from '../src/platform/queue/job-executor';
import { defineJob, jobEnvelopeSchema, JobRegistry } from '../src/platform/queue/job-registry';
import { JobsRepository } from '../src/platform/queue/jobs.repository';
import { PgJobRunner, type PgJobRunnerOptions } from '../src/platform/queue/pg-job-runner';
import { waitFor } from './support/waiting';

/**
 * The failure and edge paths of both transports: database errors while claiming, relaying or
 * recording an outcome (injected by a repository subclass; everything else is real), poison
 * jobs, lost leases and queue entries, shutdown past the grace period, and start/stop misuse.
 */

interface LogEntry {
  level: number;
  msg: string;
  err?: { message?: string };
  jobId?: string;
  jobs?: string[];
}

const logs: LogEntry[] = [];
const logger = pino(
  { level: 'warn' },
  {
    write: (line: string) => {
      logs.push(JSON.parse(line) as LogEntry);
    },
  },
);
const logged = (msg: string): LogEntry[] => logs.filter((entry) => entry.msg === msg);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// ---- the jobs the tests run, and what they observed --------------------------------------

const tenantId = uuidv7();
const runs = new Map<string, number>();
const signals = new Map<string, AbortSignal>();
let gate = deferred();
let active = 0;
let maxActive = 0;
/** The database the "stolen" job reaches into, to play the worker that took it over. */
let stealFrom: Database | undefined;

const countRun = (key: string): void => {
  runs.set(key, (runs.get(key) ?? 0) + 1);
};

const payload = z.object({ ...jobEnvelopeSchema.shape, key: z.string(), ms: z.number() });
const registry = new JobRegistry();
registry.register(
  defineJob({
    name: 'test.record.v1',
    schema: payload,
    handler: async (p, context) => {
      countRun(p.key);
      signals.set(p.key, context.signal);
    },
  }),
);
registry.register(
  defineJob({
    name: 'test.slow.v1',
    schema: payload,
    handler: async (p) => {
      countRun(p.key);
      await sleep(p.ms);
    },
  }),
);
registry.register(
  defineJob({
    name: 'test.until-aborted.v1',
    schema: payload,
    handler: async (p, { signal }) => {
      countRun(p.key);
      signals.set(p.key, signal);
      await new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted at shutdown')), {
          once: true,
        });
      });
    },
  }),
);
registry.register(
  defineJob({
    name: 'test.gated.v1',
    schema: payload,
    handler: async (p) => {
      countRun(p.key);
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        await gate.promise;
      } finally {
        active -= 1;
      }
    },
  }),
);
registry.register(
  defineJob({
    name: 'test.stolen.v1',
    schema: payload,
    handler: async (p, { jobId }) => {
      countRun(p.key);
      if (!stealFrom) throw new Error('no database to steal the job in');
      // Another worker claimed the job meanwhile (as if this one had stalled past its lease).
      await withSystem(stealFrom, (tx) =>
        tx
          .update(jobs)
          .set({ lockedBy: 'other-worker', lockedUntil: sql`now() + interval '1 hour'` })
          .where(eq(jobs.id, jobId)),
      );
    },
  }),
);

const metrics = new MetricsService(false);
const backoff = { baseMs: 20, maxMs: 100 };
const executor = new JobExecutor(registry, backoff, metrics, logger);

type Operation = 'claim' | 'finish' | 'extendLease' | 'relay' | 'markRunning';

/**
 * A real repository whose next calls of an operation fail, as when the database drops out, or
 * hang until the test lets them through (to act while the transport waits on the database).
 */
class FaultyJobsRepository extends JobsRepository {
  private readonly failures = new Map<Operation, number>();
  private readonly holds = new Map<Operation, { entered: () => void; release: Promise<void> }>();

  failNext(operation: Operation, times = 1): this {
    this.failures.set(operation, times);
    return this;
  }

  pending(operation: Operation): number {
    return this.failures.get(operation) ?? 0;
  }

  /** The next call of `operation` waits for `release()`; `entered` settles once it is waiting. */
  holdNext(operation: Operation): { entered: Promise<void>; release: () => void } {
    const entered = deferred();
    const release = deferred();
    this.holds.set(operation, { entered: entered.resolve, release: release.promise });
    return { entered: entered.promise, release: release.resolve };
  }

  private async trip(operation: Operation): Promise<void> {
    const hold = this.holds.get(operation);
    if (hold) {
      this.holds.delete(operation);
      hold.entered();
      await hold.release;
    }
    const left = this.pending(operation);
    if (left === 0) return;
    this.failures.set(operation, left - 1);
    throw new Error(`connection terminated during ${operation}`);
  }

  override async claim(...args: Parameters<JobsRepository['claim']>) {
    await this.trip('claim');
    return super.claim(...args);
  }

  override async finish(...args: Parameters<JobsRepository['finish']>) {
    await this.trip('finish');
    return super.finish(...args);
  }

  override async extendLease(...args: Parameters<JobsRepository['extendLease']>) {
    // Only a heartbeat that has leases to extend reaches the database.
    if (args[1].length > 0) await this.trip('extendLease');
    return super.extendLease(...args);
  }

  override async relay(...args: Parameters<JobsRepository['relay']>) {
    await this.trip('relay');
    return super.relay(...args);
  }

  override async markRunning(...args: Parameters<JobsRepository['markRunning']>) {
    await this.trip('markRunning');
    return super.markRunning(...args);
  }
}

/** Writes an outbox row directly, in whatever state a test needs to start from. */
async function addJob(
  db: Database,
  name: string,
  key: string,
  fields: Partial<PgInsertValue<typeof jobs>> = {},
): Promise<string> {
  const id = uuidv7();
  await withSystem(db, (tx) =>
    tx.insert(jobs).values({
      id,
      tenantId,
      name,
      payload: { tenantId, correlationId: `c-${key}`, key, ms: 0 },
      correlationId: `c-${key}`,
      maxAttempts: 3,
      ...fields,
    }),
  );
  return id;
}

const staleUpdate = sql`now() - interval '1 minute'`;

async function openTestDatabase(): Promise<{ testDb: TestDatabase; handle: DatabaseHandle }> {
  const testDb = await createTestDatabase();
  const handle = await openDatabase({
    url: testDb.url,
    dataDir: 'memory://',
    poolMax: 4,
    migrate: true,
  });
  await withSystem(handle.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
  return { testDb, handle };
}

beforeEach(() => {
  logs.length = 0;
  runs.clear();
  signals.clear();
  gate = deferred();
  active = 0;
  maxActive = 0;
});

// ---- the in-process PostgreSQL runner -----------------------------------------------------

describe('PgJobRunner failure and edge paths', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let repository: JobsRepository;
  const runners: PgJobRunner[] = [];

  beforeAll(async () => {
    ({ testDb, handle } = await openTestDatabase());
    repository = new JobsRepository(handle.db);
    stealFrom = handle.db;
  });

  afterEach(async () => {
    gate.resolve();
    for (const runner of runners.splice(0)) await runner.stop(2000);
    await withSystem(handle.db, (tx) => tx.delete(jobs));
  });

  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  const newRunner = (
    options: Partial<PgJobRunnerOptions> = {},
    using: JobsRepository = repository,
  ): PgJobRunner => {
    const runner = new PgJobRunner(
      using,
      executor,
      {
        workerId: `runner-${runners.length + 1}`,
        concurrency: 4,
        pollIntervalMs: 20,
        leaseMs: 5000,
        ...options,
      },
      logger,
    );
    runners.push(runner);
    return runner;
  };

  const rowOf = async (id: string) => {
    const row = await repository.findById(id);
    if (!row) throw new Error(`job ${id} vanished`);
    return row;
  };
  const statusOf = async (id: string) => (await rowOf(id)).status;

  it('logs a failed claim, backs off and recovers once the database answers again', async () => {
    const faulty = new FaultyJobsRepository(handle.db).failNext('claim', 3);
    const id = await addJob(handle.db, 'test.record.v1', 'after-claim-failures');
    newRunner({}, faulty).start();

    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    expect(faulty.pending('claim')).toBe(0);
    const errors = logged('claiming jobs failed; retrying');
    expect(errors).toHaveLength(3);
    expect(errors[0]?.err?.message).toBe('connection terminated during claim');
    expect(runs.get('after-claim-failures')).toBe(1);
  });

  it('dead-letters a poison job whose worker was lost on every attempt, without running it', async () => {
    const lost = await addJob(handle.db, 'test.record.v1', 'poison', {
      status: 'running',
      attempts: 3,
      maxAttempts: 3,
      lockedBy: 'crashed-worker',
      lockedUntil: staleUpdate,
    });
    const lostWithError = await addJob(handle.db, 'test.record.v1', 'poison-with-error', {
      status: 'running',
      attempts: 2,
      maxAttempts: 2,
      lockedBy: 'crashed-worker',
      lockedUntil: staleUpdate,
      lastError: 'Error: socket hang up',
    });
    newRunner().start();

    await waitFor(async () => (await statusOf(lost)) === 'dead');
    await waitFor(async () => (await statusOf(lostWithError)) === 'dead');
    const row = await rowOf(lost);
    expect(row.lastError).toBe('worker lost during every attempt');
    expect(row.attempts).toBe(4);
    expect(row.lockedBy).toBeNull();
    expect(row.completedAt).toBeInstanceOf(Date);
    // The last real error is kept rather than replaced.
    expect((await rowOf(lostWithError)).lastError).toBe('Error: socket hang up');
    expect(runs.size).toBe(0);
  });

  it('warns when the lease was lost before the outcome could be recorded', async () => {
    const id = await addJob(handle.db, 'test.stolen.v1', 'stolen');
    newRunner({ workerId: 'first-worker' }).start();

    const warning = await waitFor(async () =>
      logged('job lease lost before it finished').find((entry) => entry.jobId === id),
    );
    expect(warning.level).toBe(40);
    // The outcome was not written over the new owner's claim: the job is still theirs.
    const row = await rowOf(id);
    expect(row.status).toBe('running');
    expect(row.lockedBy).toBe('other-worker');
    expect(await repository.finish(id, 'first-worker', { status: 'succeeded' })).toBe(false);
    expect(await repository.finish(id, 'other-worker', { status: 'succeeded' })).toBe(true);
    expect(runs.get('stolen')).toBe(1);
  });

  it('logs a failure to record an outcome, and reruns the job once its lease lapses', async () => {
    const faulty = new FaultyJobsRepository(handle.db).failNext('finish');
    const id = await addJob(handle.db, 'test.record.v1', 'unrecorded');
    newRunner({ leaseMs: 400 }, faulty).start();

    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    const error = logged('recording a job outcome failed');
    expect(error).toHaveLength(1);
    expect(error[0]?.jobId).toBe(id);
    expect(error[0]?.err?.message).toBe('connection terminated during finish');
    expect(runs.get('unrecorded')).toBe(2);
    expect((await rowOf(id)).attempts).toBe(2);
  });

  it('aborts a job still running when the shutdown grace period is over', async () => {
    const id = await addJob(handle.db, 'test.until-aborted.v1', 'endless');
    const runner = newRunner();
    runner.start();
    const signal = await waitFor(async () => signals.get('endless'));
    expect(signal.aborted).toBe(false);

    await runner.stop(50);
    expect(signal.aborted).toBe(true);
    const warning = logged('shutdown grace period over, aborting jobs');
    expect(warning).toHaveLength(1);
    expect(warning[0]?.jobs).toEqual([id]);
    // The handler gave up on the abort: that attempt failed and the job waits for a retry.
    const row = await waitFor(async () => {
      const current = await rowOf(id);
      return current.lastError?.includes('aborted at shutdown') ? current : undefined;
    });
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(1);
    expect(row.lockedBy).toBeNull();
    expect(runs.get('endless')).toBe(1);
  });

  it('ignores a second start(): one loop, so the concurrency limit still holds', async () => {
    const first = await addJob(handle.db, 'test.gated.v1', 'gated-1');
    const second = await addJob(handle.db, 'test.gated.v1', 'gated-2');
    const runner = newRunner({ concurrency: 1 });
    runner.start();
    runner.start();

    await waitFor(async () => active === 1);
    // Leave a duplicate loop, if there were one, the time to claim the other job.
    await sleep(150);
    expect(active).toBe(1);
    gate.resolve();
    await waitFor(async () => (await statusOf(first)) === 'succeeded');
    await waitFor(async () => (await statusOf(second)) === 'succeeded');
    expect(maxActive).toBe(1);
    expect(runs.get('gated-1')).toBe(1);
    expect(runs.get('gated-2')).toBe(1);
    await runner.stop(1000);
    expect(logged('shutdown grace period over, aborting jobs')).toHaveLength(0);
  });

  it('runs to the end a job it claimed while stop() was waiting for the claim', async () => {
    const slowDatabase = new FaultyJobsRepository(handle.db);
    const claim = slowDatabase.holdNext('claim');
    const id = await addJob(handle.db, 'test.record.v1', 'claimed-while-stopping');
    const runner = newRunner({}, slowDatabase);
    runner.start();
    await claim.entered;

    const stopped = runner.stop(5000);
    claim.release();
    await stopped;
    expect(await statusOf(id)).toBe('succeeded');
    expect(runs.get('claimed-while-stopping')).toBe(1);
    expect(logged('shutdown grace period over, aborting jobs')).toHaveLength(0);
  });

  it('treats wake() and stop() before start() as no-ops', async () => {
    const runner = newRunner();
    runner.wake();
    await runner.stop(0);

    const id = await addJob(handle.db, 'test.record.v1', 'after-early-stop');
    runner.start();
    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    // The early stop() aborted nothing: the job ran with a live signal.
    expect(signals.get('after-early-stop')?.aborted).toBe(false);
    expect(logged('shutdown grace period over, aborting jobs')).toHaveLength(0);
  });

  it('keeps extending the lease of a job longer than the lease, so no other runner takes it', async () => {
    const id = await addJob(handle.db, 'test.slow.v1', 'long', {
      payload: { tenantId, correlationId: 'c-long', key: 'long', ms: 2500 },
    });
    const first = newRunner({ workerId: 'runner-a', leaseMs: 1000 });
    const second = newRunner({ workerId: 'runner-b', leaseMs: 1000 });
    first.start();
    second.start();

    await waitFor(async () => (await statusOf(id)) === 'succeeded', 10_000);
    expect(runs.get('long')).toBe(1);
    expect((await rowOf(id)).attempts).toBe(1);
    expect(logged('job lease lost before it finished')).toHaveLength(0);
  });

  it('logs a failed lease extension and keeps the job with the next one', async () => {
    const faulty = new FaultyJobsRepository(handle.db).failNext('extendLease');
    const id = await addJob(handle.db, 'test.slow.v1', 'heartbeat-hiccup', {
      payload: { tenantId, correlationId: 'c-h', key: 'heartbeat-hiccup', ms: 900 },
    });
    newRunner({ leaseMs: 1000 }, faulty).start();

    await waitFor(async () => (await statusOf(id)) === 'succeeded', 10_000);
    expect(faulty.pending('extendLease')).toBe(0);
    const warning = logged('job lease extension failed');
    expect(warning).toHaveLength(1);
    expect(warning[0]?.err?.message).toBe('connection terminated during extendLease');
    expect(runs.get('heartbeat-hiccup')).toBe(1);
    expect((await rowOf(id)).attempts).toBe(1);
  });
});

// ---- the BullMQ transport -------------------------------------------------------------------

const redisUrl = process.env.REDIS_URL;

/** What the relay puts in a BullMQ job. */
interface QueuedJob {
  id: string;
  generation: number;
}

/** A TCP forwarder to Redis that a test can take down and bring back, as in a network outage. */
class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly host: string,
    private readonly targetPort: number,
    public port: number,
  ) {}

  static async start(host: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(host, targetPort, 0);
    await proxy.up();
    return proxy;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    this.port = address.port;
    this.server = server;
  }

  /** Cuts every connection and refuses new ones. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

function redisConnection(url: string): ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

describe.runIf(Boolean(redisUrl && process.env.DATABASE_URL))(
  'BullMqTransport failure and edge paths',
  () => {
    const url = redisUrl ?? '';
    let testDb: TestDatabase;
    let handle: DatabaseHandle;
    let repository: JobsRepository;
    const transports: BullMqTransport[] = [];
    const queues: Queue[] = [];
    const workers: Worker<QueuedJob>[] = [];
    const proxies: TcpProxy[] = [];

    beforeAll(async () => {
      ({ testDb, handle } = await openTestDatabase());
      repository = new JobsRepository(handle.db);
    });

    afterEach(async () => {
      gate.resolve();
      // A test that failed mid-outage must not leave its transport unable to shut down.
      for (const proxy of proxies) await proxy.up();
      for (const transport of transports.splice(0)) await transport.stop(2000);
      for (const proxy of proxies.splice(0)) await proxy.down();
      for (const worker of workers.splice(0)) await worker.close(true);
      for (const queue of queues.splice(0)) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await withSystem(handle.db, (tx) => tx.delete(jobs));
    });

    afterAll(async () => {
      await handle.close();
      await testDb.drop();
    });

    /** A fresh Redis prefix, and a queue on it to look at (and tamper with) BullMQ's state. */
    const freshQueue = (): { prefix: string; queue: Queue } => {
      const prefix = `maxai-test-${randomBytes(4).toString('hex')}`;
      const queue = new Queue(QUEUE_NAME, { connection: redisConnection(url), prefix });
      queues.push(queue);
      return { prefix, queue };
    };

    const newTransport = (
      prefix: string,
      options: Partial<BullMqTransportOptions> = {},
      using: JobsRepository = repository,
    ): BullMqTransport => {
      const transport = new BullMqTransport(
        using,
        executor,
        {
          redisUrl: url,
          prefix,
          workerId: `bull-${transports.length + 1}`,
          concurrency: 4,
          pollIntervalMs: 20,
          leaseMs: 1000,
          maxAttempts: 5,
          backoff,
          reconcileAfterMs: 200,
          ...options,
        },
        logger,
      );
      transports.push(transport);
      return transport;
    };

    /** Puts a job in Redis as the relay would have published it. */
    const publish = async (queue: Queue, id: string, generation = 0, opts = {}) =>
      queue.add(
        'test.record.v1',
        { id, generation },
        { jobId: `${id}-g${generation}`, attempts: 1, ...opts },
      );

    /** The queue entry once BullMQ has finished with it (state and result are written together). */
    const settled = async (queue: Queue, jobId: string, state: 'completed' | 'failed') => {
      await waitFor(async () => (await queue.getJobState(jobId)) === state);
      const job = await queue.getJob(jobId);
      if (!job) throw new Error(`queue entry ${jobId} vanished`);
      return job;
    };

    const rowOf = async (id: string) => {
      const row = await repository.findById(id);
      if (!row) throw new Error(`job ${id} vanished`);
      return row;
    };
    const statusOf = async (id: string) => (await rowOf(id)).status;

    it('re-relays a row whose queue entry vanished, under a new generation', async () => {
      const { prefix, queue } = freshQueue();
      const lost = await addJob(handle.db, 'test.record.v1', 'lost-in-redis', {
        status: 'relayed',
        updatedAt: staleUpdate,
      });
      // Stale too, but its entry is still waiting in the queue: reconciliation leaves it be.
      const waiting = await addJob(handle.db, 'test.record.v1', 'still-queued', {
        status: 'relayed',
        updatedAt: staleUpdate,
      });
      await publish(queue, waiting, 0, { delay: 60_000 });
      newTransport(prefix).start();

      await waitFor(async () => (await statusOf(lost)) === 'succeeded');
      const row = await rowOf(lost);
      expect(row.generation).toBe(1);
      expect(row.attempts).toBe(1);
      expect(runs.get('lost-in-redis')).toBe(1);
      const warning = logged('queued job missing from Redis; re-relaying it');
      expect(warning.map((entry) => entry.jobId)).toEqual([lost]);
      const requeued = await settled(queue, `${lost}-g1`, 'completed');
      expect(requeued.returnvalue).toBe('succeeded');

      const untouched = await rowOf(waiting);
      expect(untouched.status).toBe('relayed');
      expect(untouched.generation).toBe(0);
      expect(await queue.getJobState(`${waiting}-g0`)).toBe('delayed');
      expect(runs.has('still-queued')).toBe(false);
    });

    it('dead-letters a row whose queue entry BullMQ has given up on', async () => {
      const { prefix, queue } = freshQueue();
      const withReason = await addJob(handle.db, 'test.record.v1', 'failed-in-queue', {
        status: 'relayed',
        updatedAt: staleUpdate,
      });
      const withoutReason = await addJob(handle.db, 'test.record.v1', 'failed-silently', {
        status: 'relayed',
        updatedAt: staleUpdate,
      });
      await publish(queue, withReason);
      await publish(queue, withoutReason);
      // Another worker fetched both and BullMQ failed them for good.
      const other = new Worker<QueuedJob>(QUEUE_NAME, null, {
        connection: redisConnection(url),
        prefix,
        autorun: false,
      });
      workers.push(other);
      const token = randomUUID();
      for (let i = 0; i < 2; i += 1) {
        const job = await other.getNextJob(token);
        if (!job) throw new Error('expected a job to fetch');
        const reason = job.data.id === withReason ? 'Error: provider unreachable' : '';
        await job.moveToFailed(new Error(reason), token);
      }
      expect(await queue.getJobState(`${withReason}-g0`)).toBe('failed');
      expect(await queue.getJobState(`${withoutReason}-g0`)).toBe('failed');
      newTransport(prefix).start();

      await waitFor(async () => (await statusOf(withReason)) === 'dead');
      await waitFor(async () => (await statusOf(withoutReason)) === 'dead');
      expect((await rowOf(withReason)).lastError).toBe('Error: provider unreachable');
      expect((await rowOf(withoutReason)).lastError).toBe('failed in queue');
      expect(runs.size).toBe(0);
    });

    it('skips queue entries whose row is finished, missing or of an older generation', async () => {
      const { prefix, queue } = freshQueue();
      const succeeded = await addJob(handle.db, 'test.record.v1', 'done-already', {
        status: 'succeeded',
      });
      const dead = await addJob(handle.db, 'test.record.v1', 'dead-already', { status: 'dead' });
      const retried = await addJob(handle.db, 'test.record.v1', 'newer-generation', {
        status: 'relayed',
        generation: 1,
      });
      const missing = uuidv7();
      for (const id of [succeeded, dead, retried, missing]) await publish(queue, id, 0);
      // A long reconcile window: the newer generation's lost entry is not this test's subject.
      newTransport(prefix, { reconcileAfterMs: 60_000 }).start();

      for (const id of [succeeded, dead, retried, missing]) {
        const job = await settled(queue, `${id}-g0`, 'completed');
        expect(job.returnvalue).toBe('skipped');
      }
      expect(await statusOf(succeeded)).toBe('succeeded');
      expect(await statusOf(dead)).toBe('dead');
      const newer = await rowOf(retried);
      expect(newer.status).toBe('relayed');
      expect(newer.attempts).toBe(0);
      expect(runs.size).toBe(0);
    });

    it('dead-letters a job whose worker was lost on every attempt, without running it', async () => {
      const { prefix, queue } = freshQueue();
      const lost = await addJob(handle.db, 'test.record.v1', 'stalled', {
        status: 'relayed',
        maxAttempts: 1,
      });
      const lostWithError = await addJob(handle.db, 'test.record.v1', 'stalled-with-error', {
        status: 'relayed',
        maxAttempts: 1,
        lastError: 'Error: socket hang up',
      });
      await publish(queue, lost);
      await publish(queue, lostWithError);
      // A worker takes both and dies: it never renews their locks, so BullMQ sees them stall.
      const crashed = new Worker<QueuedJob>(QUEUE_NAME, null, {
        connection: redisConnection(url),
        prefix,
        autorun: false,
        lockDuration: 200,
      });
      workers.push(crashed);
      const token = randomUUID();
      expect(await crashed.getNextJob(token)).toBeDefined();
      expect(await crashed.getNextJob(token)).toBeDefined();
      await crashed.close(true);
      newTransport(prefix).start();

      await waitFor(async () => (await statusOf(lost)) === 'dead');
      await waitFor(async () => (await statusOf(lostWithError)) === 'dead');
      expect((await rowOf(lost)).lastError).toBe('worker lost during every attempt');
      expect((await rowOf(lostWithError)).lastError).toBe('Error: socket hang up');
      const job = await settled(queue, `${lost}-g0`, 'failed');
      expect(job.failedReason).toBe('worker lost during every attempt');
      expect(job.attemptsStarted).toBe(2);
      expect(runs.size).toBe(0);
    });

    it('force-closes the worker and aborts a job still running after the grace period', async () => {
      const { prefix } = freshQueue();
      const id = await addJob(handle.db, 'test.until-aborted.v1', 'endless');
      const transport = newTransport(prefix);
      transport.start();
      const signal = await waitFor(async () => signals.get('endless'));
      expect(signal.aborted).toBe(false);

      await transport.stop(50);
      expect(signal.aborted).toBe(true);
      expect(logged('shutdown grace period over, aborting jobs')).toHaveLength(1);
      // The handler gave up on the abort: that attempt failed and the job waits for a retry.
      const row = await waitFor(async () => {
        const current = await rowOf(id);
        return current.lastError?.includes('aborted at shutdown') ? current : undefined;
      });
      expect(row.status).toBe('relayed');
      expect(row.attempts).toBe(1);
      expect(runs.get('endless')).toBe(1);
    });

    it('ignores a second start(): one worker, so the concurrency limit still holds', async () => {
      const { prefix } = freshQueue();
      const first = await addJob(handle.db, 'test.gated.v1', 'gated-1');
      const second = await addJob(handle.db, 'test.gated.v1', 'gated-2');
      const transport = newTransport(prefix, { concurrency: 1 });
      transport.start();
      transport.start();

      await waitFor(async () => active === 1);
      // Leave a duplicate worker, if there were one, the time to take the other job.
      await sleep(150);
      expect(active).toBe(1);
      gate.resolve();
      await waitFor(async () => (await statusOf(first)) === 'succeeded');
      await waitFor(async () => (await statusOf(second)) === 'succeeded');
      expect(maxActive).toBe(1);
      expect(runs.get('gated-1')).toBe(1);
      expect(runs.get('gated-2')).toBe(1);
      await transport.stop(1000);
      expect(logged('shutdown grace period over, aborting jobs')).toHaveLength(0);
    });

    it('finishes a relay pass under way at stop(), and the next worker runs the job', async () => {
      const { prefix, queue } = freshQueue();
      const slowDatabase = new FaultyJobsRepository(handle.db);
      const relay = slowDatabase.holdNext('relay');
      const id = await addJob(handle.db, 'test.record.v1', 'relayed-while-stopping');
      const stopping = newTransport(prefix, {}, slowDatabase);
      stopping.start();
      await relay.entered;

      const stopped = stopping.stop(5000);
      relay.release();
      await stopped;
      // Published before the queue closed: waiting in Redis, or already run during the close.
      expect(['waiting', 'completed']).toContain(await queue.getJobState(`${id}-g0`));
      expect(['relayed', 'succeeded']).toContain(await statusOf(id));

      newTransport(prefix).start();
      await waitFor(async () => (await statusOf(id)) === 'succeeded');
      expect((await settled(queue, `${id}-g0`, 'completed')).returnvalue).toBe('succeeded');
      expect(runs.get('relayed-while-stopping')).toBe(1);
    });

    it('treats wake() and stop() before start() as no-ops', async () => {
      const { prefix } = freshQueue();
      const transport = newTransport(prefix);
      transport.wake();
      await transport.stop(0);

      const id = await addJob(handle.db, 'test.record.v1', 'after-early-stop');
      transport.start();
      await waitFor(async () => (await statusOf(id)) === 'succeeded');
      expect(signals.get('after-early-stop')?.aborted).toBe(false);
    });

    it('logs a failed relay and hands the row over on the next pass', async () => {
      const { prefix } = freshQueue();
      const faulty = new FaultyJobsRepository(handle.db).failNext('relay', 2);
      const id = await addJob(handle.db, 'test.record.v1', 'after-relay-failure');
      newTransport(prefix, {}, faulty).start();

      await waitFor(async () => (await statusOf(id)) === 'succeeded');
      const errors = logged('job relay failed; retrying');
      expect(errors).toHaveLength(2);
      expect(errors[0]?.err?.message).toBe('connection terminated during relay');
      expect(runs.get('after-relay-failure')).toBe(1);
    });

    it('lets BullMQ retry, with the configured backoff, an attempt the database broke', async () => {
      const { prefix, queue } = freshQueue();
      const faulty = new FaultyJobsRepository(handle.db).failNext('markRunning');
      const id = await addJob(handle.db, 'test.record.v1', 'after-mark-failure');
      newTransport(prefix, {}, faulty).start();

      await waitFor(async () => (await statusOf(id)) === 'succeeded');
      expect(faulty.pending('markRunning')).toBe(0);
      // The broken attempt never reached the handler; the second one ran it.
      expect(runs.get('after-mark-failure')).toBe(1);
      expect((await rowOf(id)).attempts).toBe(2);
      const job = await settled(queue, `${id}-g0`, 'completed');
      expect(job.attemptsStarted).toBe(2);
      expect(job.returnvalue).toBe('succeeded');
    });

    it('logs Redis errors while Redis is unreachable, and carries on once it is back', async () => {
      const redis = new URL(url);
      const outage = await TcpProxy.start(redis.hostname, Number(redis.port || 6379));
      proxies.push(outage);
      const { prefix } = freshQueue();
      const throughProxy = new URL(url);
      throughProxy.hostname = '127.0.0.1';
      throughProxy.port = String(outage.port);
      newTransport(prefix, { redisUrl: throughProxy.toString() }).start();
      const before = await addJob(handle.db, 'test.record.v1', 'before-outage');
      await waitFor(async () => (await statusOf(before)) === 'succeeded');

      await outage.down();
      await waitFor(async () =>
        ['Redis connection error', 'BullMQ queue error', 'BullMQ worker error'].every(
          (msg) => logged(msg).length > 0,
        ),
      );
      expect(logged('Redis connection error')[0]?.err?.message).toMatch(/ECONNREFUSED|ECONNRESET/);

      await outage.up();
      const after = await addJob(handle.db, 'test.record.v1', 'after-outage');
      await waitFor(async () => (await statusOf(after)) === 'succeeded');
      expect(runs.get('before-outage')).toBe(1);
      expect(runs.get('after-outage')).toBe(1);
    });
  },
);
