import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Spawned } from '../apps/api/test/support/child-process';

/** Helpers shared by the benches that drive the real platform (`api`, `proxy`). */

export const PASSWORD = 'correct horse battery staple';
export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Measurement {
  rps: number;
  requests: number;
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * A closed-loop pass with autocannon: `connections` connections, each sending its next request
 * when the last is answered (or at most `overallRate` requests a second in all). Any answer other
 * than 200, error or timeout fails it.
 */
export async function measure(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections: number,
  overallRate?: number,
): Promise<Measurement> {
  const latencies: number[] = [];
  let not200 = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        headers,
        connections,
        duration: seconds,
        ...(overallRate ? { overallRate } : {}),
      },
      (error: Error | null, finished) => (error ? reject(error) : resolve(finished)),
    );
    // autocannon reports no p95: every response time is kept to compute it exactly.
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode !== 200) not200 += 1;
      latencies.push(responseTime);
    });
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || not200 > 0) {
    throw new Error(
      `benchmark of ${url} saw ${not200} non-200 answers (${result.non2xx} non-2xx), ` +
        `${result.errors} errors and ${result.timeouts} timeouts`,
    );
  }
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    latencies: latencies.sort((a, b) => a - b),
  };
}

/** A request built afresh for every send: a unique body, say, and a signature over it. */
export interface FreshRequest {
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
}

/** One request on `agent`; resolves with its status (`undefined`: error or 10 s timeout). */
function sendOnce(
  url: string,
  agent: http.Agent,
  headers: Record<string, string>,
  fresh: FreshRequest | undefined,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        agent,
        method: fresh?.method ?? 'GET',
        headers: fresh
          ? {
              ...headers,
              ...fresh.headers,
              'content-length': String(Buffer.byteLength(fresh.body)),
            }
          : headers,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(undefined));
    request.end(fresh?.body);
  });
}

/**
 * A closed-loop pass: `connections` keep-alive connections, each sending its next request
 * (built by `next`) when the last is answered, for `seconds`. Unlike `measure`, which stops at
 * the deadline and drops what is then in flight (the server may still act on it), this waits
 * for every request sent, so each is answered and counted: what a pass that writes needs when
 * its rows are counted afterwards. Its rate is the answers over the wall time, drain included.
 * Any answer other than 200, error or timeout fails it.
 */
export async function measureClosed(
  url: string,
  seconds: number,
  connections: number,
  next: () => FreshRequest,
): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let not200 = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const status = await sendOnce(url, agent, {}, next());
      latencies.push(performance.now() - sent);
      if (status === undefined) errors += 1;
      else if (status !== 200) not200 += 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  if (not200 > 0 || errors > 0) {
    throw new Error(
      `closed-loop pass on ${url} saw ${not200} non-200 answers and ${errors} errors`,
    );
  }
  return {
    rps: latencies.length / elapsed,
    requests: latencies.length,
    latencies: latencies.sort((a, b) => a - b),
  };
}

/**
 * An open-loop pass at a steady `rate`: one request every 1/rate s over up to `maxSockets`
 * keep-alive sockets, each timed from when it was due (so a request that waits for a socket or a
 * late timer counts that wait too). autocannon's `overallRate` cannot do this: every connection
 * sends its share at the same tick each second, so a p95 there times the drain of a one-second
 * burst (~0.5 s at half of saturation), not the service at that load.
 */
export async function measurePaced(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  rate: number,
  maxSockets: number,
  next?: () => FreshRequest,
): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let not200 = 0;
  let errors = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const finish = () => {
      done += 1;
      if (done === total) resolve();
    };
    const fire = (due: number) => {
      void sendOnce(url, agent, headers, next?.()).then((status) => {
        if (status === undefined) errors += 1;
        else if (status !== 200) not200 += 1;
        latencies.push(performance.now() - due);
        finish();
      });
    };
    const tick = () => {
      // Request k is due at k/rate s: by `elapsed`, requests 0 … floor(elapsed·rate) are.
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.min(total, Math.floor(elapsed * rate) + 1);
      for (; sent < due; sent += 1) fire(started + (sent / rate) * 1000);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  if (not200 > 0 || errors > 0) {
    throw new Error(`paced pass on ${url} saw ${not200} non-200 answers and ${errors} errors`);
  }
  return { rps: total / elapsed, requests: total, latencies: latencies.sort((a, b) => a - b) };
}

export interface Summary {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Prints one line of figures for a pass; answers them rounded. */
export function report(name: string, m: Measurement, width = 38): Summary {
  const [p50 = NaN, p95 = NaN, p99 = NaN] = [50, 95, 99].map((p) =>
    round2(percentile(m.latencies, p)),
  );
  process.stdout.write(
    `${name.padEnd(width)} ${Math.round(m.rps).toString().padStart(7)} req/s   p50 ${p50} ms   p95 ${p95} ms   p99 ${p99} ms   (${m.requests} requests)\n`,
  );
  return { rps: m.rps, p50, p95, p99 };
}

/** A JSON call that must answer `expected`. */
export async function call<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  expected: number,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path} answered ${response.status}, not ${expected}: ${text}`);
  }
  return JSON.parse(text) as T;
}

export interface Tenant {
  token: string;
  tenantId: string;
}

/** Signs up a new owner with a tenant of their own, through the public API. */
export async function signup(base: string, label: string): Promise<Tenant> {
  const { accessToken } = await call<{ accessToken: string }>(
    base,
    'POST',
    '/v1/auth/signup',
    201,
    undefined,
    {
      email: `${label}-${randomBytes(4).toString('hex')}@bench.example.com`,
      password: PASSWORD,
      tenantName: `Bench ${label}`,
    },
  );
  const me = await call<{ memberships: { tenantId: string }[] }>(
    base,
    'GET',
    '/v1/me',
    200,
    accessToken,
  );
  const tenantId = me.memberships[0]?.tenantId;
  if (!tenantId) throw new Error(`${label} has no tenant after signup`);
  return { token: accessToken, tenantId };
}

export async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

export async function stop(server: Spawned): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await server.exited;
  clearTimeout(timer);
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * A fresh database on ADMIN_URL's server and a unique Redis key prefix for one run; `cleanup`
 * stops what was spawned, drops the database and deletes the keys.
 */
export async function scratchEnvironment(): Promise<{
  dbUrl: string;
  redisPrefix: string;
  servers: Spawned[];
  cleanup: () => Promise<void>;
}> {
  const id = randomBytes(6).toString('hex');
  const dbName = `maxai_bench_${id}`;
  const redisPrefix = `bench_${id}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const servers: Spawned[] = [];
  await adminQuery(`CREATE DATABASE ${dbName}`);
  return {
    dbUrl: dbUrl.toString(),
    redisPrefix,
    servers,
    cleanup: async () => {
      await Promise.all(servers.map(stop));
      await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await deleteRedisKeys(redisPrefix);
    },
  };
}

/** The environment of the platform's `api` role for a bench (tenants signed up through the API). */
export function platformEnv(
  dbUrl: string,
  redisPrefix: string,
  poolMax: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl,
    DB_POOL_MAX: String(poolMax),
    MIGRATE_ON_START: 'true',
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    RATE_LIMIT_POINTS: '1000000',
    MASTER_KEY: randomBytes(32).toString('base64'),
    SEED_ON_START: 'false',
    EMAIL_TRANSPORT: 'sandbox',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    ...extra,
  };
}
