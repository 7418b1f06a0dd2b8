import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { configOrExit, run, runOrExit } from '../src/platform/app/run';
import { waitFor } from './support/waiting';

/** process.exit is replaced by a recorder: these tests run the real entry logic in-process. */
let exits: number[] = [];
let printed = '';
let db: TestDatabase;
const savedEnv = { ...process.env };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function captureProcess() {
  exits = [];
  printed = '';
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exits.push(code ?? 0);
    return undefined as never;
  }) as typeof process.exit);
  const write = (chunk: string | Uint8Array) => {
    printed += chunk.toString();
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(write);
  vi.spyOn(process.stderr, 'write').mockImplementation(write);
}

afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...savedEnv };
});

const baseEnv = () => ({
  ...savedEnv,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'silent',
  PGLITE_DATA_DIR: 'memory://',
  DATABASE_URL: db.url ?? '',
  REDIS_URL: '',
});

describe('entry logic', () => {
  it('exits 1 and prints the offending variables on bad configuration', () => {
    captureProcess();
    configOrExit({ PORT: '-1', REDIS_URL: 'http://cache' });
    expect(exits).toEqual([1]);
    expect(printed).toContain('PORT: expected an integer from 0 to 65535');
    expect(printed).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
  });

  it('starts a role, prints its URL, and shuts down cleanly on SIGTERM', async () => {
    captureProcess();
    process.env = baseEnv();
    const app = await run('api');
    const match = /MaxAI Platform \(api\) listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(printed);
    expect(match).not.toBeNull();
    const health = await fetch(`http://127.0.0.1:${match![1]}/healthz`);
    expect(health.status).toBe(200);
    // A stray rejection is logged, not fatal.
    process.emit('unhandledRejection', new Error('stray'), Promise.resolve());
    expect(exits).toEqual([]);
    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(async () => exits.length > 0);
    expect(exits).toEqual([0]);
    expect(app.getHttpServer().listening).toBe(false);
  });

  it('prints a localhost URL when bound to every interface, and exits 1 when shutting down fails', async () => {
    captureProcess();
    process.env = { ...baseEnv(), HOST: '0.0.0.0' };
    const app = await run('api');
    expect(printed).toMatch(/listening on http:\/\/localhost:\d+/);
    const close = app.close.bind(app);
    vi.spyOn(app, 'close').mockRejectedValueOnce(new Error('pool refused to close'));
    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(async () => exits.length > 0);
    expect(exits).toEqual([1]);
    await close();
  });

  it('exits 1 when shutting down outlives its grace period', async () => {
    captureProcess();
    process.env = { ...baseEnv(), SHUTDOWN_TIMEOUT_MS: '0' };
    const app = await run('api');
    const close = app.close.bind(app);
    vi.spyOn(app, 'close').mockImplementationOnce(() => new Promise<void>(() => undefined));
    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(async () => exits.length > 0, 15_000);
    expect(exits).toEqual([1]);
    await close();
  });

  it('reports a start failure and exits 1', async () => {
    captureProcess();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    process.env = { ...baseEnv(), PORT: String(port) };
    runOrExit('api');
    await waitFor(async () => exits.length > 0);
    expect(exits).toEqual([1]);
    expect(printed).toContain('failed to start');
    expect(printed).toContain('EADDRINUSE');
    blocker.close();
  });
});
