import { Writable } from 'node:stream';
import { type JobContext, PermanentJobError } from '@maxai/core';
import { pino } from 'pino';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../http/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { type ExecutableJob, JobExecutor, JobTimeoutError } from './job-executor';
import { defineJob, type JobDefinition, jobEnvelopeSchema, JobRegistry } from './job-registry';

const TENANT = '0190a5b4-7c3e-7d2a-9f1b-3c4d5e6f7a8b';
const BACKOFF = { baseMs: 100, maxMs: 1000 };

const payloadSchema = z.object({ ...jobEnvelopeSchema.shape, count: z.coerce.number().int() });
type Payload = z.infer<typeof payloadSchema>;

function jobOf(overrides: Partial<ExecutableJob> = {}): ExecutableJob {
  return {
    id: 'job-1',
    name: 'test.run.v1',
    tenantId: TENANT,
    correlationId: 'corr-abc',
    payload: { tenantId: TENANT, correlationId: 'corr-abc', count: 1 },
    attempt: 1,
    maxAttempts: 5,
    ...overrides,
  };
}

function setup(
  handler: JobDefinition<Payload>['handler'],
  extra: Partial<JobDefinition<Payload>> = {},
  logger: pino.Logger = pino({ level: 'silent' }),
) {
  const registry = new JobRegistry();
  registry.register(defineJob({ name: 'test.run.v1', schema: payloadSchema, handler, ...extra }));
  const metrics = new MetricsService(false);
  const executor = new JobExecutor(registry, BACKOFF, metrics, logger);
  return { registry, metrics, executor };
}

const signal = (): AbortSignal => new AbortController().signal;

const processed = (metrics: MetricsService): Promise<string> =>
  metrics.registry.getSingleMetricAsString('jobs_processed_total');

describe('JobExecutor', () => {
  it('runs the handler with the parsed payload and its context, and reports success', async () => {
    const calls: { payload: Payload; context: JobContext }[] = [];
    const { executor, metrics } = setup(async (payload, context) => {
      calls.push({ payload, context });
    });
    const abort = new AbortController();

    const result = await executor.execute(
      jobOf({
        id: 'job-42',
        attempt: 2,
        maxAttempts: 7,
        payload: { tenantId: TENANT, correlationId: 'corr-abc', count: '3', ignored: true },
      }),
      abort.signal,
    );

    expect(result).toEqual({ status: 'succeeded' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.payload).toEqual({ tenantId: TENANT, correlationId: 'corr-abc', count: 3 });
    expect(calls[0]!.context).toEqual({
      jobId: 'job-42',
      name: 'test.run.v1',
      tenantId: TENANT,
      correlationId: 'corr-abc',
      attempt: 2,
      maxAttempts: 7,
      signal: expect.any(AbortSignal),
    });
    expect(await processed(metrics)).toContain(
      'jobs_processed_total{job="test.run.v1",outcome="succeeded"} 1',
    );
  });

  it('runs the handler inside the job correlation id context, and leaves it afterwards', async () => {
    const seen: (string | undefined)[] = [];
    const { executor } = setup(async () => {
      seen.push(requestContext.correlationId());
      await Promise.resolve();
      seen.push(requestContext.current()?.correlationId);
    });

    await executor.execute(jobOf({ correlationId: 'corr-from-job' }), signal());

    expect(seen).toEqual(['corr-from-job', 'corr-from-job']);
    expect(requestContext.current()).toBeUndefined();
  });

  it('retries a job whose name is not registered (version skew), dead-lettering it on its last attempt', async () => {
    let ran = false;
    const { executor, metrics } = setup(async () => {
      ran = true;
    });

    const early = await executor.execute(
      jobOf({ name: 'test.missing.v1', attempt: 1, maxAttempts: 3 }),
      signal(),
    );
    expect(early).toMatchObject({
      status: 'retry',
      error: 'no job named "test.missing.v1" is registered',
    });
    const result = await executor.execute(
      jobOf({ name: 'test.missing.v1', attempt: 3, maxAttempts: 3 }),
      signal(),
    );

    expect(result).toEqual({
      status: 'dead',
      error: 'no job named "test.missing.v1" is registered',
    });
    expect(ran).toBe(false);
    expect(await processed(metrics)).toContain(
      'jobs_processed_total{job="test.missing.v1",outcome="dead"} 1',
    );
  });

  it('lets an unexpected registry failure propagate', async () => {
    class BrokenRegistry extends JobRegistry {
      override get(): JobDefinition {
        throw new Error('registry unavailable');
      }
    }
    const metrics = new MetricsService(false);
    const executor = new JobExecutor(
      new BrokenRegistry(),
      BACKOFF,
      metrics,
      pino({ level: 'silent' }),
    );

    await expect(executor.execute(jobOf(), signal())).rejects.toThrow('registry unavailable');
    expect(await processed(metrics)).not.toContain('test.run.v1');
  });

  it('dead-letters an invalid payload, listing each offending field', async () => {
    let ran = false;
    const { executor, metrics } = setup(async () => {
      ran = true;
    });

    const result = await executor.execute(
      jobOf({ payload: { tenantId: 'not-a-uuid', correlationId: 'corr-abc', count: 'many' } }),
      signal(),
    );

    expect(result.status).toBe('dead');
    const error = (result as { error: string }).error;
    expect(error).toMatch(/^invalid payload: tenantId: .+; count: .+$/);
    expect(error.split('; ')).toHaveLength(2);
    expect(ran).toBe(false);
    expect(await processed(metrics)).toContain(
      'jobs_processed_total{job="test.run.v1",outcome="dead"} 1',
    );
  });

  it('names a payload problem that is not tied to a field "(root)"', async () => {
    const registry = new JobRegistry();
    registry.register(
      defineJob({
        name: 'test.range.v1',
        schema: z
          .object({ ...jobEnvelopeSchema.shape, from: z.number(), to: z.number() })
          .refine((p) => p.from < p.to, { error: 'from must precede to' }),
        handler: async () => undefined,
      }),
    );
    const executor = new JobExecutor(
      registry,
      BACKOFF,
      new MetricsService(false),
      pino({ level: 'silent' }),
    );

    const result = await executor.execute(
      jobOf({
        name: 'test.range.v1',
        payload: { tenantId: TENANT, correlationId: 'c', from: 5, to: 1 },
      }),
      signal(),
    );

    expect(result).toEqual({
      status: 'dead',
      error: 'invalid payload: (root): from must precede to',
    });
  });

  it('schedules a retry within the backoff bounds when the handler fails before its last attempt', async () => {
    const { executor, metrics } = setup(async () => {
      throw new Error('provider says no');
    });

    for (const attempt of [1, 2, 3, 4]) {
      const result = await executor.execute(jobOf({ attempt, maxAttempts: 5 }), signal());
      expect(result.status).toBe('retry');
      const { delayMs, error } = result as { delayMs: number; error: string };
      expect(error).toBe('Error: provider says no');
      const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (attempt - 1));
      expect(delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delayMs).toBeLessThanOrEqual(ceiling);
      expect(Number.isInteger(delayMs)).toBe(true);
    }
    expect(await processed(metrics)).toContain(
      'jobs_processed_total{job="test.run.v1",outcome="retry"} 4',
    );
  });

  it('caps the retry delay at maxMs', async () => {
    const { executor } = setup(async () => {
      throw new Error('still failing');
    });

    const result = await executor.execute(jobOf({ attempt: 20, maxAttempts: 50 }), signal());

    expect(result.status).toBe('retry');
    const { delayMs } = result as { delayMs: number };
    expect(delayMs).toBeGreaterThanOrEqual(BACKOFF.maxMs / 2);
    expect(delayMs).toBeLessThanOrEqual(BACKOFF.maxMs);
  });

  it.each([
    [5, 5],
    [6, 5],
    [1, 1],
  ])('dead-letters a failure on attempt %i of %i', async (attempt, maxAttempts) => {
    const { executor, metrics } = setup(async () => {
      throw new TypeError('bad response');
    });

    const result = await executor.execute(jobOf({ attempt, maxAttempts }), signal());

    expect(result).toEqual({ status: 'dead', error: 'TypeError: bad response' });
    expect(await processed(metrics)).toContain(
      'jobs_processed_total{job="test.run.v1",outcome="dead"} 1',
    );
  });

  it('dead-letters a PermanentJobError at once, even with attempts left', async () => {
    const { executor } = setup(async () => {
      throw new PermanentJobError('invalid phone number', { cause: new Error('E.164') });
    });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 10 }), signal());

    expect(result).toEqual({ status: 'dead', error: 'PermanentJobError: invalid phone number' });
  });

  it('also catches a handler that throws synchronously', async () => {
    const { executor } = setup(() => {
      throw new RangeError('sync failure');
    });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 2 }), signal());

    expect(result.status).toBe('retry');
    expect((result as { error: string }).error).toBe('RangeError: sync failure');
  });

  it('fails an attempt that exceeds its time limit and retries it', async () => {
    const { executor } = setup(() => new Promise<void>(() => undefined), { timeoutMs: 20 });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 3 }), signal());

    expect(result.status).toBe('retry');
    expect((result as { error: string }).error).toBe(
      `JobTimeoutError: ${new JobTimeoutError(20).message}`,
    );
    expect((result as { error: string }).error).toBe(
      'JobTimeoutError: attempt exceeded its 20 ms time limit',
    );
    const { delayMs } = result as { delayMs: number };
    expect(delayMs).toBeGreaterThanOrEqual(BACKOFF.baseMs / 2);
    expect(delayMs).toBeLessThanOrEqual(BACKOFF.baseMs);
  });

  it('aborts the signal of an attempt that timed out', async () => {
    let seen: AbortSignal | undefined;
    const { executor } = setup(
      (_payload, context) => {
        seen = context.signal;
        return new Promise<void>(() => undefined);
      },
      { timeoutMs: 10 },
    );
    const worker = new AbortController();
    await executor.execute(jobOf({ attempt: 1, maxAttempts: 3 }), worker.signal);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(JobTimeoutError);
    expect(worker.signal.aborted).toBe(false);
  });

  it("passes on the worker's abort to the handler", async () => {
    const worker = new AbortController();
    let aborted = false;
    const { executor } = setup((_payload, context) => {
      context.signal.addEventListener('abort', () => {
        aborted = true;
      });
      worker.abort();
      return Promise.resolve();
    });
    await executor.execute(jobOf({ attempt: 1, maxAttempts: 3 }), worker.signal);
    expect(aborted).toBe(true);
  });

  it('dead-letters a timed-out final attempt', async () => {
    const { executor } = setup(() => new Promise<void>(() => undefined), { timeoutMs: 10 });

    const result = await executor.execute(jobOf({ attempt: 3, maxAttempts: 3 }), signal());

    expect(result).toEqual({
      status: 'dead',
      error: 'JobTimeoutError: attempt exceeded its 10 ms time limit',
    });
  });

  it('succeeds when the handler finishes within its time limit', async () => {
    let ran = false;
    const { executor } = setup(
      async () => {
        await Promise.resolve();
        ran = true;
      },
      { timeoutMs: 60_000 },
    );

    expect(await executor.execute(jobOf(), signal())).toEqual({ status: 'succeeded' });
    expect(ran).toBe(true);
  });

  it('reports a handler failure within its time limit as that failure, not a timeout', async () => {
    const { executor } = setup(
      async () => {
        throw new Error('quick failure');
      },
      { timeoutMs: 60_000 },
    );

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 2 }), signal());

    expect(result.status).toBe('retry');
    expect((result as { error: string }).error).toBe('Error: quick failure');
  });

  it.each([
    ['a string', 'boom', 'boom'],
    ['a number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['a plain object', { code: 'E' }, '[object Object]'],
  ])('describes a thrown non-Error value (%s) with String()', async (_label, thrown, expected) => {
    const { executor } = setup(async () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test
      throw thrown;
    });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 2 }), signal());

    expect(result.status).toBe('retry');
    expect((result as { error: string }).error).toBe(expected);
  });

  it('truncates the error message to 2000 characters', async () => {
    const { executor } = setup(async () => {
      throw new Error('x'.repeat(5000));
    });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 1 }), signal());

    expect(result.status).toBe('dead');
    const { error } = result as { error: string };
    expect(error).toHaveLength(2000);
    expect(error).toBe(`Error: ${'x'.repeat(2000 - 'Error: '.length)}`);
  });

  it('keeps a message of exactly 2000 characters intact', async () => {
    const message = 'y'.repeat(2000 - 'Error: '.length);
    const { executor } = setup(async () => {
      throw new Error(message);
    });

    const result = await executor.execute(jobOf({ attempt: 1, maxAttempts: 1 }), signal());

    expect(result).toEqual({ status: 'dead', error: `Error: ${message}` });
  });

  it('counts executions and observes their duration per job and outcome', async () => {
    let failuresLeft = 2;
    const { executor, metrics } = setup(async () => {
      if (failuresLeft-- > 0) throw new Error('transient');
    });

    await executor.execute(jobOf({ attempt: 1 }), signal());
    await executor.execute(jobOf({ attempt: 2 }), signal());
    await executor.execute(jobOf({ attempt: 3 }), signal());
    await executor.execute(
      jobOf({ name: 'test.unknown.v1', attempt: 3, maxAttempts: 3 }),
      signal(),
    );

    const text = await processed(metrics);
    expect(text).toContain('jobs_processed_total{job="test.run.v1",outcome="retry"} 2');
    expect(text).toContain('jobs_processed_total{job="test.run.v1",outcome="succeeded"} 1');
    expect(text).toContain('jobs_processed_total{job="test.unknown.v1",outcome="dead"} 1');
    expect(text).not.toContain('outcome="skipped"');

    const durations = await metrics.registry.getSingleMetricAsString('job_duration_seconds');
    expect(durations).toContain('job_duration_seconds_count{job="test.run.v1",outcome="retry"} 2');
    expect(durations).toContain(
      'job_duration_seconds_count{job="test.run.v1",outcome="succeeded"} 1',
    );
    expect(durations).toContain(
      'job_duration_seconds_count{job="test.unknown.v1",outcome="dead"} 1',
    );
  });

  it('logs success at debug, a retry at warn and a dead letter at error, with the job fields', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    });
    let outcome: 'ok' | 'fail' = 'ok';
    const { executor } = setup(
      async () => {
        if (outcome === 'fail') throw new Error('nope');
      },
      {},
      pino({ level: 'debug' }, stream),
    );

    await executor.execute(jobOf({ attempt: 1 }), signal());
    outcome = 'fail';
    await executor.execute(jobOf({ attempt: 1, maxAttempts: 2 }), signal());
    await executor.execute(jobOf({ attempt: 2, maxAttempts: 2 }), signal());

    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, 'job succeeded'],
      [40, 'job failed, will retry'],
      [50, 'job dead-lettered'],
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({
        jobId: 'job-1',
        job: 'test.run.v1',
        tenantId: TENANT,
        correlationId: 'corr-abc',
      });
    }
    expect(lines[0]!.seconds).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ err: 'Error: nope', attempt: 1 });
    expect(lines[1]!.delayMs).toEqual(expect.any(Number));
    expect(lines[2]).toMatchObject({ err: 'Error: nope', attempt: 2 });
  });
});

describe('JobTimeoutError', () => {
  it('names the time limit', () => {
    const error = new JobTimeoutError(1500);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('JobTimeoutError');
    expect(error.message).toBe('attempt exceeded its 1500 ms time limit');
  });
});
