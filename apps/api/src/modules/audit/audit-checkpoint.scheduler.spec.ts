import type { Database, Tx } from '@maxai/db';
import type { JobQueue } from '@maxai/core';
import type { Logger } from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { JobTransport } from '../../platform/queue/job-transport';
import { AuditCheckpointScheduler, checkpointJob } from './audit-checkpoint.scheduler';
import type { AuditEvidenceService } from './audit-evidence.service';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function scheduler(intervalS: number, headsWithoutCheckpoint: () => Promise<never[]>) {
  const warn = vi.fn();
  const evidence = { headsWithoutCheckpoint } as unknown as AuditEvidenceService;
  const wake = vi.fn();
  const transport = { wake } as unknown as JobTransport;
  const s = new AuditCheckpointScheduler(
    {} as Database,
    evidence,
    {} as JobQueue<Tx>,
    transport,
    { warn } as unknown as Logger,
    intervalS,
  );
  return { s, warn, wake };
}

it('sweeps every interval, logs a failed sweep and keeps going, and stops', async () => {
  const heads = vi.fn(() => Promise.reject<never[]>(new Error('database down')));
  const { s, warn } = scheduler(60, heads);
  s.start();
  s.start(); // a second start keeps the one timer
  await vi.advanceTimersByTimeAsync(60_000);
  expect(heads).toHaveBeenCalledTimes(1);
  expect(warn).toHaveBeenCalledTimes(1);
  heads.mockImplementation(() => Promise.resolve([]));
  await vi.advanceTimersByTimeAsync(60_000);
  expect(heads).toHaveBeenCalledTimes(2);
  s.stop();
  await vi.advanceTimersByTimeAsync(120_000);
  expect(heads).toHaveBeenCalledTimes(2);
});

it('does not schedule with an interval of 0, and wakes no one when nothing is due', async () => {
  const heads = vi.fn(() => Promise.resolve([]));
  const { s, wake } = scheduler(0, heads);
  s.start();
  await vi.advanceTimersByTimeAsync(3_600_000);
  expect(heads).not.toHaveBeenCalled();
  expect(await s.sweep()).toBe(0);
  expect(wake).not.toHaveBeenCalled();
  s.stop();
});

it('defines a versioned job whose handler signs the tenant head', async () => {
  const createCheckpoint = vi.fn(() => Promise.resolve(undefined));
  const job = checkpointJob({ createCheckpoint } as unknown as AuditEvidenceService);
  expect(job.name).toBe('audit.create-checkpoints.v1');
  await job.handler({ tenantId: 't', correlationId: 'c' }, {} as never);
  expect(createCheckpoint).toHaveBeenCalledWith('t');
});
