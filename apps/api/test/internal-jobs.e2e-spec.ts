import { tenants, withSystem, withTenant, type DatabaseHandle } from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DATABASE } from '../src/platform/database/database.module';
import { defineJob, jobEnvelopeSchema, JobRegistry } from '../src/platform/queue/job-registry';
import type { JobStack } from '../src/platform/queue/job-stack';
import { JOB_STACK } from '../src/platform/queue/queue.tokens';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

const TOKEN = 'internal-token-0123456789abcdef';
let t: TestApp;
let stack: JobStack;
let db: DatabaseHandle;
const tenantId = uuidv7();
let healthy = false;

beforeAll(async () => {
  t = await startTestApp('standalone', {
    INTERNAL_API_TOKEN: TOKEN,
    JOBS_BACKOFF_BASE_MS: '10',
    JOBS_BACKOFF_MAX_MS: '20',
  });
  t.app.get(JobRegistry).register(
    defineJob({
      name: 'test.provider-call.v1',
      schema: z.object({ ...jobEnvelopeSchema.shape }),
      maxAttempts: 2,
      handler: async () => {
        if (!healthy) throw new Error('provider unavailable');
      },
    }),
  );
  stack = t.app.get(JOB_STACK);
  db = t.app.get(DATABASE);
  await withSystem(db.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
});
afterAll(async () => {
  await t.close();
});

const call = (method: 'GET' | 'POST', url: string, token: string | null = TOKEN) =>
  t.app.inject({ method, url, headers: token ? { 'x-internal-token': token } : {} });

describe('internal dead-letter endpoints', () => {
  it('refuses callers without the internal token', async () => {
    expect((await call('GET', '/internal/jobs', null)).statusCode).toBe(401);
    expect((await call('GET', '/internal/jobs', 'wrong-token-0123456789abcdef')).statusCode).toBe(
      401,
    );
  });

  it('lists a dead job, retries it, and pages through results', async () => {
    const { id } = await withTenant(db.db, tenantId, (tx) =>
      stack.queue.enqueue(tx, 'test.provider-call.v1', { tenantId, correlationId: 'corr-dead' }),
    );
    stack.transport.wake();
    await waitFor(async () => (await stack.repository.findById(id))?.status === 'dead');

    const listed = await call('GET', '/internal/jobs?status=dead');
    expect(listed.statusCode).toBe(200);
    const page = listed.json<{ data: { id: string; lastError: string; attempts: number }[] }>();
    const dead = page.data.find((j) => j.id === id)!;
    expect(dead).toMatchObject({
      attempts: 2,
      lastError: expect.stringContaining('provider unavailable'),
    });

    healthy = true;
    const retried = await call('POST', `/internal/jobs/${id}/retry`);
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ id, status: 'pending', attempts: 0, generation: 1 });
    await waitFor(async () => (await stack.repository.findById(id))?.status === 'succeeded');

    const again = await call('POST', `/internal/jobs/${id}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ type: expect.stringContaining('conflict') });
    const missing = await call('POST', `/internal/jobs/${uuidv7()}/retry`);
    expect(missing.statusCode).toBe(404);
    const invalid = await call('POST', '/internal/jobs/not-a-uuid/retry');
    expect(invalid.statusCode).toBe(400);
  });

  it('pages with a cursor', async () => {
    for (let i = 0; i < 3; i += 1) {
      await withTenant(db.db, tenantId, (tx) =>
        stack.queue.enqueue(tx, 'test.provider-call.v1', { tenantId, correlationId: `p${i}` }),
      );
    }
    await waitFor(async () => ((await stack.repository.countByStatus()).succeeded ?? 0) >= 4);
    const first = (await call('GET', '/internal/jobs?status=succeeded&limit=2')).json<{
      data: { id: string }[];
      nextCursor: string;
    }>();
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBe(first.data[1]!.id);
    const second = (
      await call('GET', `/internal/jobs?status=succeeded&limit=2&cursor=${first.nextCursor}`)
    ).json<{
      data: { id: string }[];
      nextCursor: string | null;
    }>();
    expect(second.data[0]!.id > first.nextCursor).toBe(true);
  });
});

describe('internal endpoints without a configured token', () => {
  it('do not exist', async () => {
    const bare = await startTestApp('api');
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/internal/jobs' });
      expect(res.statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
