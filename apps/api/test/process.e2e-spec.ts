import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jobs, openDatabase, withSystem } from '@maxai/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { spawnTs } from './support/child-process';
import { waitFor } from './support/waiting';

describe('process lifecycle', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'maxai-proc-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1 with one line per bad variable, never printing a secret', async () => {
    const p = spawnTs('apps/api/src/standalone.ts', {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://root:hunter2@db/app',
      LOG_LEVEL: 'chatty',
    });
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toContain('invalid configuration:');
    expect(out).toContain('PORT: expected an integer from 0 to 65535');
    expect(out).toContain('DATABASE_URL: expected a postgres:// URL');
    expect(out).toContain('LOG_LEVEL: expected one of');
    expect(out).not.toContain('hunter2');
  });

  it('waits for an unreachable database with logged, backed-off retries', async () => {
    const p = spawnTs('apps/api/src/standalone.ts', {
      PORT: '0',
      DATABASE_URL: 'postgres://nobody:pw@127.0.0.1:1/none',
      DB_CONNECT_MAX_DELAY_MS: '400',
    });
    await waitFor(
      async () => (p.output().match(/database not reachable/g) ?? []).length >= 3,
      20_000,
    );
    expect(p.child.exitCode).toBeNull();
    expect(p.output()).not.toContain('pw@');
    p.child.kill('SIGKILL');
    await p.exited;
  });

  it('drains an in-flight request and a running job on SIGTERM, then exits 0', async () => {
    const marker = path.join(dir, 'markers.log');
    const dataDir = path.join(dir, 'pglite');
    const p = spawnTs('apps/api/test/fixtures/worker-process.ts', {
      LOG_LEVEL: 'warn',
      MARKER_FILE: marker,
      SLOW_MS: '1500',
      ENQUEUE_KEY: 'drain',
      PGLITE_DATA_DIR: dataDir,
      DATABASE_URL: db.url ?? '',
      REDIS_URL: process.env.REDIS_URL ?? '',
      INTERNAL_API_TOKEN: 'internal-token-0123456789abcdef',
    });
    const port = await p.ready;
    await waitFor(
      async () => existsSync(marker) && readFileSync(marker, 'utf8').includes('start drain'),
    );

    // A request whose body is still arriving when the signal comes.
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const body = '{"reason":"operator"}';
    socket.write(
      `POST /internal/jobs/0190d1a8-0000-7000-8000-0000000000ff/retry HTTP/1.1\r\nhost: x\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n` +
        `x-internal-token: internal-token-0123456789abcdef\r\nconnection: close\r\n\r\n{"rea`,
    );
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    socket.write(body.slice(5));
    await new Promise((r) => socket.once('close', r));
    expect(response, p.output()).toMatch(/^HTTP\/1\.1 404/);

    expect(await p.exited).toBe(0);
    expect(readFileSync(marker, 'utf8')).toContain('done drain');
    const handle = await openDatabase({ url: db.url, dataDir, poolMax: 1, migrate: false });
    const rows = await withSystem(handle.db, (tx) =>
      tx.select().from(jobs).where(eq(jobs.correlationId, 'fixture-drain')),
    );
    await handle.close();
    expect(rows.map((r) => r.status)).toEqual(['succeeded']);
  }, 60_000);
});
