import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { spawnTs, type Spawned } from './support/child-process';
import { waitFor } from './support/waiting';

const TOKEN = 'internal-token-0123456789abcdef';
const modes = process.env.REDIS_URL ? (['postgres', 'bullmq'] as const) : (['postgres'] as const);

describe.each(modes)('a worker killed mid-job (%s transport)', (mode) => {
  let db: TestDatabase;
  let dir: string;
  const running: Spawned[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'maxai-crash-'));
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (extra: Record<string, string> = {}) => {
    const p = spawnTs('apps/api/test/fixtures/worker-process.ts', {
      LOG_LEVEL: 'warn',
      MARKER_FILE: path.join(dir, 'markers.log'),
      SLOW_MS: '2500',
      JOBS_LEASE_MS: '1500',
      JOBS_POLL_INTERVAL_MS: '50',
      INTERNAL_API_TOKEN: TOKEN,
      PGLITE_DATA_DIR: path.join(dir, 'pglite'),
      DATABASE_URL: db.url ?? '',
      REDIS_URL: mode === 'bullmq' ? process.env.REDIS_URL : '',
      ...extra,
    });
    running.push(p);
    return p;
  };
  const markers = () => {
    const file = path.join(dir, 'markers.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };

  it('completes the job after a restart', async () => {
    const key = `k-${randomBytes(3).toString('hex')}`;
    const first = start({ ENQUEUE_KEY: key });
    await first.ready;
    await waitFor(async () => markers().includes(`start ${key}`), 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(markers()).not.toContain(`done ${key}`);

    const second = start();
    const port = await second.ready;
    await waitFor(async () => markers().includes(`done ${key}`), 30_000);
    const job = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/internal/jobs?status=succeeded`, {
        headers: { 'x-internal-token': TOKEN },
      });
      const page = (await res.json()) as {
        data: { name: string; attempts: number; correlationId: string }[];
      };
      return page.data.find((j) => j.correlationId === `fixture-${key}`);
    });
    expect(job.attempts).toBe(2);
    // Ran to completion exactly once, by the second process.
    expect(markers().match(new RegExp(`done ${key}`, 'g'))).toHaveLength(1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
