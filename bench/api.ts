import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { spawnTs, type Spawned } from '../apps/api/test/support/child-process';

/**
 * `npm run bench -- api`: one authenticated, tenant-scoped read through the whole platform —
 * `GET /v1/tenants/{tenantId}/clients/{clientId}/agents/{agentId}` with a bearer token — against
 * the real `api` role on a fresh PostgreSQL database (migrated on start) and Redis, with
 * BENCH_TENANTS other tenants (each with clients and agents) so the tables are not trivially
 * small. Baseline in the same run: bare Fastify and a `pg` pool of the same size reading the same
 * row by id as the table owner (bench/servers/fastify-pg.ts). Each side is warmed up, then
 * measured at saturation (BENCH_CONNECTIONS connections, BENCH_DURATION_S seconds), one after the
 * other; then the platform again at a steady half of its saturation rate (see measurePaced),
 * whose p95 is the `p95_ms` reported (the target: ≤ 20 ms there, and ratio ≥ 0.5), and
 * once more with autocannon's `overallRate` at that rate, for comparison only.
 */
const SECONDS = Number(process.env.BENCH_DURATION_S ?? '10');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '200');
const WARMUP_SECONDS = 3;
const EXTRA_TENANTS = Number(process.env.BENCH_TENANTS ?? '200');
/** Signups hash a password with argon2id (64 MiB): a few at a time is what two cores take. */
const SETUP_CONCURRENCY = 4;
const CLIENTS_PER_TENANT = 2;
const AGENTS_PER_CLIENT = 2;
/** The platform's DB_POOL_MAX default; the baseline's pool gets the same. */
const POOL_MAX = 10;
const PASSWORD = 'correct horse battery staple';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Measurement {
  rps: number;
  requests: number;
  latencies: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function measure(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  overallRate?: number,
): Promise<Measurement> {
  const latencies: number[] = [];
  let not200 = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        headers,
        connections: CONNECTIONS,
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

/**
 * An open-loop pass at a steady `rate`: one request every 1/rate s over up to CONNECTIONS
 * keep-alive sockets, each timed from when it was due (so a request that waits for a socket or a
 * late timer counts that wait too). autocannon's `overallRate` cannot do this: every connection
 * sends its share at the same tick each second, so a p95 there times the drain of a one-second
 * burst (~0.5 s at half of saturation), not the service at that load.
 */
async function measurePaced(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  rate: number,
): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
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
      const request = http.get(url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode !== 200) not200 += 1;
          latencies.push(performance.now() - due);
          finish();
        });
      });
      request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        errors += 1;
        finish();
      });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
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

function report(name: string, m: Measurement) {
  const [p50, p95, p99] = [50, 95, 99].map((p) => round2(percentile(m.latencies, p)));
  process.stdout.write(
    `${name.padEnd(38)} ${Math.round(m.rps).toString().padStart(7)} req/s   p50 ${p50} ms   p95 ${p95} ms   p99 ${p99} ms   (${m.requests} requests)\n`,
  );
  return { p95: p95 ?? NaN };
}

/** A JSON call to the platform that must answer `expected`. */
async function call<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  expected: number,
  token?: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path} answered ${response.status}, not ${expected}: ${text}`);
  }
  return JSON.parse(text) as T;
}

interface Tenant {
  token: string;
  tenantId: string;
}

/** Signs up a new owner with a tenant of their own, through the public API. */
async function signup(base: string, label: string): Promise<Tenant> {
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

async function createClient(base: string, t: Tenant, name: string): Promise<string> {
  const client = await call<{ id: string }>(
    base,
    'POST',
    `/v1/tenants/${t.tenantId}/clients`,
    201,
    t.token,
    { name },
  );
  return client.id;
}

async function createAgent(
  base: string,
  t: Tenant,
  clientId: string,
  name: string,
): Promise<string> {
  const agent = await call<{ id: string }>(
    base,
    'POST',
    `/v1/tenants/${t.tenantId}/clients/${clientId}/agents`,
    201,
    t.token,
    { name, channel: 'voice', status: 'active' },
  );
  return agent.id;
}

/** BENCH_TENANTS more owners, each with clients and agents, a few signups at a time. */
async function populate(base: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < EXTRA_TENANTS) {
      const index = (next += 1);
      const tenant = await signup(base, `tenant-${index}`);
      for (let c = 0; c < CLIENTS_PER_TENANT; c += 1) {
        const clientId = await createClient(base, tenant, `Client ${index}.${c}`);
        for (let a = 0; a < AGENTS_PER_CLIENT; a += 1) {
          await createAgent(base, tenant, clientId, `Agent ${index}.${c}.${a}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, worker));
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

async function stop(server: Spawned): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await server.exited;
  clearTimeout(timer);
}

async function deleteRedisKeys(prefix: string): Promise<void> {
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

export async function runApiBench(): Promise<void> {
  const id = randomBytes(6).toString('hex');
  const dbName = `maxai_bench_${id}`;
  const redisPrefix = `bench_${id}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const servers: Spawned[] = [];
  await adminQuery(`CREATE DATABASE ${dbName}`);
  try {
    const started = Date.now();
    const platform = spawnTs('apps/api/src/main.ts', {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: dbUrl.toString(),
      DB_POOL_MAX: String(POOL_MAX),
      MIGRATE_ON_START: 'true',
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      RATE_LIMIT_POINTS: '1000000',
      MASTER_KEY: randomBytes(32).toString('base64'),
      SEED_ON_START: 'false',
      EMAIL_TRANSPORT: 'sandbox',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    });
    servers.push(platform);
    const base = `http://127.0.0.1:${await platform.ready}`;

    const owner = await signup(base, 'owner');
    const clientId = await createClient(base, owner, 'Bright Smiles Dental');
    const agentId = await createAgent(base, owner, clientId, 'Front Desk');
    await populate(base);
    const setupSeconds = (Date.now() - started) / 1000;

    const baseline = spawnTs('bench/servers/fastify-pg.ts', {
      DATABASE_URL: dbUrl.toString(),
      DB_POOL_MAX: String(POOL_MAX),
    });
    servers.push(baseline);
    const baselineBase = `http://127.0.0.1:${await baseline.ready}`;

    const agentPath = `/v1/tenants/${owner.tenantId}/clients/${clientId}/agents/${agentId}`;
    const platformUrl = `${base}${agentPath}`;
    const auth = { authorization: `Bearer ${owner.token}` };
    const baselineUrl = `${baselineBase}/agents/${agentId}`;
    // Both sides answer the same row before anything is timed.
    const viaPlatform = await call<{ id: string }>(base, 'GET', agentPath, 200, owner.token);
    const viaBaseline = await call<{ id: string }>(baselineBase, 'GET', `/agents/${agentId}`, 200);
    if (viaPlatform.id !== agentId || viaBaseline.id !== agentId) {
      throw new Error('the platform and the baseline do not answer the same agent');
    }

    process.stdout.write(
      `api bench: ${1 + EXTRA_TENANTS} tenants, ${1 + EXTRA_TENANTS * CLIENTS_PER_TENANT} clients, ` +
        `${1 + EXTRA_TENANTS * CLIENTS_PER_TENANT * AGENTS_PER_CLIENT} agents set up through the API in ${setupSeconds.toFixed(1)} s\n` +
        `GET one agent with a bearer token; ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s per pass, ` +
        `sides in turn; pool ${POOL_MAX} on both sides; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} (shared machine)\n`,
    );
    await measure(platformUrl, auth, WARMUP_SECONDS);
    const saturated = await measure(platformUrl, auth, SECONDS);
    await measure(baselineUrl, {}, WARMUP_SECONDS);
    const bare = await measure(baselineUrl, {}, SECONDS);
    const halfRate = Math.max(1, Math.round(saturated.rps / 2));
    await measurePaced(platformUrl, auth, WARMUP_SECONDS, halfRate);
    const half = await measurePaced(platformUrl, auth, SECONDS, halfRate);
    // What the issue literally asked for, shown for comparison (see measurePaced).
    const bursty = await measure(platformUrl, auth, SECONDS, halfRate);

    const bareStats = report('baseline (fastify + pg, saturated)', bare);
    const saturatedStats = report('platform (saturated)', saturated);
    const halfStats = report(`platform (paced, ${halfRate} req/s = half)`, half);
    report(`platform (autocannon overallRate ${halfRate})`, bursty);
    const ratio = Math.round((saturated.rps / bare.rps) * 1000) / 1000;
    process.stdout.write(
      `ratio platform/baseline ${ratio} (target ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'missed'}); ` +
        `p95_ms below is the p95 at half of saturation (target ≤ 20 ms: ${halfStats.p95 <= 20 ? 'met' : 'missed'}); ` +
        `baseline p95 ${bareStats.p95} ms; load average now ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'api',
        p95_ms: halfStats.p95,
        rps: Math.round(saturated.rps),
        baseline_rps: Math.round(bare.rps),
        ratio,
        p95_ms_saturated: saturatedStats.p95,
      })}\n`,
    );
  } finally {
    await Promise.all(servers.map(stop));
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await deleteRedisKeys(redisPrefix);
  }
}
