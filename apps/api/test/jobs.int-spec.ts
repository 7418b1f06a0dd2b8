import { randomBytes } from 'node:crypto';
import { PermanentJobError } from '@maxai/core';
import { openDatabase, tenants, withSystem, withTenant, type DatabaseHandle } from '@maxai/db';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { MetricsService } from '../src/platform/metrics/metrics.service';
import {
  defineJob,
  jobEnvelopeSchema,
  JobRegistry,
  UnknownJobError,
} from '../src/platform/queue/job-registry';
import { createJobStack, type JobStack } from '../src/platform/queue/job-stack';
import { InvalidJobPayloadError } from '../src/platform/queue/outbox-job-queue';
import { waitFor } from './support/waiting';

/** [database, transport]: the embedded pairing always, the production ones when configured. */
const setups: ['pglite' | 'postgres', 'postgres' | 'bullmq'][] = [['pglite', 'postgres']];
if (process.env.DATABASE_URL) setups.push(['postgres', 'postgres']);
if (process.env.DATABASE_URL && process.env.REDIS_URL) setups.push(['postgres', 'bullmq']);

describe.each(setups)('durable jobs on %s over the %s transport', (database, transport) => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  const tenantId = uuidv7();

  beforeAll(async () => {
    testDb = await createTestDatabase(database === 'pglite' ? 'pglite' : 'default');
    handle = await openDatabase({
      url: testDb.url,
      dataDir: 'memory://',
      poolMax: 10,
      migrate: true,
    });
    await withSystem(handle.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
  });

  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  const executions = new Map<string, number>();
  const flakyFailures = new Map<string, number>();
  let stack: JobStack;

  const payload = z.object({ ...jobEnvelopeSchema.shape, key: z.string() });
  const registry = new JobRegistry();
  registry.register(
    defineJob({
      name: 'test.record.v1',
      schema: payload,
      handler: async (p) => {
        executions.set(p.key, (executions.get(p.key) ?? 0) + 1);
      },
    }),
  );
  registry.register(
    defineJob({
      name: 'test.flaky.v1',
      schema: payload,
      maxAttempts: 4,
      handler: async (p) => {
        const failed = flakyFailures.get(p.key) ?? 0;
        if (failed < 2) {
          flakyFailures.set(p.key, failed + 1);
          throw new Error(`transient failure ${failed + 1}`);
        }
        executions.set(p.key, (executions.get(p.key) ?? 0) + 1);
      },
    }),
  );
  registry.register(
    defineJob({
      name: 'test.always-fails.v1',
      schema: payload,
      maxAttempts: 3,
      handler: async () => {
        throw new Error('provider says no');
      },
    }),
  );
  registry.register(
    defineJob({
      name: 'test.permanent.v1',
      schema: payload,
      handler: async () => {
        throw new PermanentJobError('invalid phone number');
      },
    }),
  );

  beforeAll(() => {
    stack = createJobStack({
      db: handle.db,
      registry,
      metrics: new MetricsService(false),
      logger: pino({ level: 'silent' }),
      workerId: `test-${transport}`,
      redisUrl: transport === 'bullmq' ? process.env.REDIS_URL : undefined,
      redisPrefix: `maxai-test-${randomBytes(4).toString('hex')}`,
      concurrency: 16,
      pollIntervalMs: 20,
      leaseMs: 5000,
      maxAttempts: 5,
      backoff: { baseMs: 20, maxMs: 100 },
    });
    stack.transport.start();
  });

  afterAll(async () => {
    await stack.transport.stop(5000);
  });

  afterEach(() => {
    executions.clear();
  });

  const enqueue = (name: string, key: string, options = {}) =>
    withTenant(handle.db, tenantId, (tx) =>
      stack.queue.enqueue(tx, name, { tenantId, correlationId: `c-${key}`, key }, options),
    );

  const statusOf = async (id: string) => (await stack.repository.findById(id))?.status;

  it('runs 1,000 enqueued jobs, each exactly once', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk-${database}-${transport}-${i}`);
    await withTenant(handle.db, tenantId, async (tx) => {
      for (const key of keys) {
        await stack.queue.enqueue(tx, 'test.record.v1', { tenantId, correlationId: 'bulk', key });
      }
    });
    stack.transport.wake();
    await waitFor(async () => executions.size === 1000, 60_000);
    // Give a late duplicate the chance to show up before judging.
    await new Promise((r) => setTimeout(r, 300));
    expect(keys.every((k) => executions.get(k) === 1)).toBe(true);
    const counts = await stack.repository.countByStatus();
    expect(counts.succeeded).toBeGreaterThanOrEqual(1000);
  }, 90_000);

  it('retries a failing job with backoff until it succeeds', async () => {
    const { id } = await enqueue('test.flaky.v1', `flaky-${transport}`);
    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    const row = await stack.repository.findById(id);
    expect(row?.attempts).toBe(3);
    expect(executions.get(`flaky-${transport}`)).toBe(1);
  });

  it('dead-letters a job after its maximum attempts, and a retry runs it again', async () => {
    const { id } = await enqueue('test.always-fails.v1', `dead-${transport}`);
    await waitFor(async () => (await statusOf(id)) === 'dead');
    const dead = await stack.repository.findById(id);
    expect(dead?.attempts).toBe(3);
    expect(dead?.lastError).toContain('provider says no');
    const listed = await stack.repository.list({ status: 'dead', limit: 100 });
    expect(listed.map((r) => r.id)).toContain(id);

    const retried = await stack.repository.retryDead(id);
    expect(retried?.status).toBe('pending');
    expect(retried?.generation).toBe(1);
    stack.transport.wake();
    await waitFor(async () => {
      const row = await stack.repository.findById(id);
      return row?.status === 'dead' && row.generation === 1 && row.attempts === 3;
    });
  });

  it('dead-letters a permanent failure at once', async () => {
    const { id } = await enqueue('test.permanent.v1', `perm-${transport}`);
    await waitFor(async () => (await statusOf(id)) === 'dead');
    const row = await stack.repository.findById(id);
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toContain('invalid phone number');
  });

  it('honours a delay', async () => {
    const before = Date.now();
    const { id } = await enqueue('test.record.v1', `delayed-${transport}`, { delayMs: 400 });
    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    expect(Date.now() - before).toBeGreaterThanOrEqual(400);
  });

  it('enqueues idempotently with a dedupe key', async () => {
    const first = await enqueue('test.record.v1', `dedupe-${transport}`, {
      dedupeKey: `k-${transport}`,
    });
    const second = await enqueue('test.record.v1', `dedupe-${transport}`, {
      dedupeKey: `k-${transport}`,
    });
    expect(second).toEqual({ ...first, deduplicated: true });
    await waitFor(async () => (await statusOf(first.id)) === 'succeeded');
    expect(executions.get(`dedupe-${transport}`)).toBe(1);
  });

  it('writes nothing when the caller rolls back', async () => {
    let jobId = '';
    await expect(
      withTenant(handle.db, tenantId, async (tx) => {
        jobId = (
          await stack.queue.enqueue(tx, 'test.record.v1', {
            tenantId,
            correlationId: 'x',
            key: 'rb',
          })
        ).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await stack.repository.findById(jobId)).toBeUndefined();
  });

  it('refuses an invalid payload or an unknown job at enqueue time', async () => {
    await expect(
      withTenant(handle.db, tenantId, (tx) =>
        stack.queue.enqueue(tx, 'test.record.v1', { tenantId: 'nope', correlationId: '' }),
      ),
    ).rejects.toBeInstanceOf(InvalidJobPayloadError);
    await expect(
      withTenant(handle.db, tenantId, (tx) =>
        stack.queue.enqueue(tx, 'test.unknown.v1', { tenantId, correlationId: 'c' }),
      ),
    ).rejects.toBeInstanceOf(UnknownJobError);
  });

  it('dead-letters a stored job no handler knows', async () => {
    const id = uuidv7();
    await withTenant(handle.db, tenantId, (tx) =>
      stack.repository.insert(tx, {
        id,
        tenantId,
        name: 'test.retired.v1',
        payload: { tenantId, correlationId: 'c' },
        correlationId: 'c',
        maxAttempts: 3,
      }),
    );
    stack.transport.wake();
    await waitFor(async () => (await statusOf(id)) === 'dead');
    expect((await stack.repository.findById(id))?.lastError).toContain('no job named');
  });
});
