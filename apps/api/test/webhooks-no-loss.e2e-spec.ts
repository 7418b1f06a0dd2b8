import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signN8nCallback } from '@maxai/integrations';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTs, type Spawned } from './support/child-process';
import { freePort } from './support/free-port';
import { waitFor } from './support/waiting';

/**
 * No loss under faults: signed webhooks at a steady rate while PostgreSQL is restarted in
 * immediate mode, then while the API process is SIGKILLed and restarted. The sender retries
 * every non-2xx like a provider. A private PostgreSQL cluster is used so the restart touches
 * nothing else.
 */

function pgBinDir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
const BIN = pgBinDir();
const AS_ROOT = process.getuid?.() === 0;
const runnable =
  BIN !== undefined && existsSync(path.join(BIN, 'initdb')) && !!process.env.DATABASE_URL;

/** Runs a PostgreSQL tool (as the postgres user when we are root: initdb refuses root). */
function pg(tool: string, args: string[]): void {
  const bin = path.join(BIN ?? '', tool);
  if (AS_ROOT) execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' });
  else execFileSync(bin, args, { stdio: 'pipe' });
}

interface Attempt {
  sentAt: number;
  answeredAt: number;
  status: number;
}

describe.skipIf(!runnable)('webhook ingress loses nothing under faults', () => {
  let dir: string;
  let pgPort: number;
  let apiPort: number;
  let api: Spawned | undefined;
  const env: Record<string, string> = {};

  const startPostgres = () =>
    pg('pg_ctl', [
      '-D',
      path.join(dir, 'data'),
      '-w',
      '-l',
      path.join(dir, 'pg.log'),
      '-o',
      `-p ${String(pgPort)} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  const stopPostgres = () =>
    pg('pg_ctl', ['-D', path.join(dir, 'data'), '-w', '-m', 'immediate', 'stop']);
  const startApi = async () => {
    api = spawnTs('apps/api/src/standalone.ts', env);
    await api.ready;
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${String(apiPort)}/readyz`).catch(() => undefined);
      return res?.status === 200;
    }, 60_000);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'maxai-noloss-'));
    if (AS_ROOT) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), 0);
    pg('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pgPort = await freePort();
    apiPort = await freePort();
    startPostgres();
    Object.assign(env, {
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${String(pgPort)}/postgres`,
      REDIS_URL: process.env.REDIS_URL ?? '',
      REDIS_KEY_PREFIX: `maxai-noloss-${randomBytes(4).toString('hex')}`,
      MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      SEED_ON_START: 'false',
      SIMULATORS_EMBEDDED: 'false',
      DB_CONNECT_MAX_DELAY_MS: '500',
      JOBS_POLL_INTERVAL_MS: '50',
      JOBS_BACKOFF_BASE_MS: '100',
      JOBS_BACKOFF_MAX_MS: '1000',
    });
    await startApi();
  }, 120_000);

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await api?.exited;
    try {
      stopPostgres();
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every acknowledged event exactly once and dispatches each, with no 2xx while down', async () => {
    const baseUrl = `http://127.0.0.1:${String(apiPort)}`;
    const signup = await fetch(`${baseUrl}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'noloss@example.com',
        password: 'correct horse battery staple',
        tenantName: 'No Loss Co',
      }),
    }).then((r) => r.json() as Promise<{ accessToken: string }>);
    const me = await fetch(`${baseUrl}/v1/me`, {
      headers: { authorization: `Bearer ${signup.accessToken}` },
    }).then((r) => r.json() as Promise<{ memberships: { tenantId: string }[] }>);
    const tenantId = me.memberships[0]?.tenantId ?? '';
    const endpoint = await fetch(`${baseUrl}/v1/tenants/${tenantId}/webhook-endpoints`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signup.accessToken}`,
      },
      body: JSON.stringify({ provider: 'n8n', name: 'no loss' }),
    }).then((r) => r.json() as Promise<{ id: string; setup: { secret: string } }>);
    const target = `${baseUrl}/webhooks/n8n/${endpoint.id}`;

    const attempts = new Map<string, Attempt[]>();
    const acked = new Set<string>();
    /** A provider: retries every non-2xx (and connection errors) until acknowledged. */
    const deliver = async (correlationId: string) => {
      const body = JSON.stringify({
        correlationId,
        status: 'succeeded',
        output: { n: correlationId },
      });
      const log: Attempt[] = [];
      attempts.set(correlationId, log);
      for (;;) {
        const sentAt = Date.now();
        const status = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-maxai-signature': signN8nCallback(endpoint.setup.secret, body),
          },
          body,
          signal: AbortSignal.timeout(5000),
        })
          .then((r) => r.status)
          .catch(() => 0);
        log.push({ sentAt, answeredAt: Date.now(), status });
        if (status >= 200 && status < 300) {
          acked.add(correlationId);
          return;
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    };

    const inFlight: Promise<void>[] = [];
    let sequence = 0;
    const sendFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        sequence += 1;
        inFlight.push(deliver(`run:delegate:g0:s${String(sequence)}`));
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    await sendFor(800);
    const dbDown = { from: 0, to: 0 };
    stopPostgres();
    dbDown.from = Date.now();
    await sendFor(1500);
    dbDown.to = Date.now();
    startPostgres();
    await sendFor(1000);

    api?.child.kill('SIGKILL');
    await api?.exited;
    await sendFor(500);
    await startApi();
    await sendFor(800);
    await Promise.all(inFlight);

    expect(acked.size).toBe(sequence);
    // Nothing acknowledged that was sent after the database stopped and answered before it
    // came back: such a 2xx could not have been stored.
    const answeredWhileDown = [...attempts.values()]
      .flat()
      .filter((a) => a.sentAt > dbDown.from && a.answeredAt < dbDown.to);
    expect(answeredWhileDown.length).toBeGreaterThan(0);
    expect(answeredWhileDown.filter((a) => a.status >= 200 && a.status < 300)).toEqual([]);
    expect(answeredWhileDown.every((a) => a.status === 503 || a.status === 0)).toBe(true);

    const client = new Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      const stored = await client.query<{ provider_event_id: string; n: string }>(
        `select provider_event_id, count(*) as n from webhook_deliveries group by 1`,
      );
      const ids = new Map(stored.rows.map((r) => [r.provider_event_id, Number(r.n)]));
      for (const id of acked) expect(ids.get(`${id}:succeeded`), id).toBe(1);
      expect(ids.size).toBe(acked.size);
      await waitFor(async () => {
        const pending = await client.query<{ n: string }>(
          `select count(*) as n from domain_events where delivery_id is not null and dispatch_count = 0`,
        );
        return pending.rows[0]?.n === '0';
      }, 60_000);
      const events = await client.query<{ n: string }>(
        `select count(*) as n from domain_events where delivery_id is not null`,
      );
      expect(Number(events.rows[0]?.n)).toBe(acked.size);
    } finally {
      await client.end();
    }
  }, 180_000);
});
