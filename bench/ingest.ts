import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT, spawnTs, type Spawned } from '../apps/api/test/support/child-process';
import {
  call,
  loadAverage,
  measureClosed,
  measurePaced,
  platformEnv,
  report,
  round2,
  scratchEnvironment,
  signup,
  type FreshRequest,
  type Measurement,
} from './support';

/**
 * `npm run bench -- ingest`: webhook ingress, `POST /webhooks/stripe/{endpointId}`, with signed
 * Stripe-style events at rising rates. The platform's `api` role runs on a fresh database
 * (migrated on start) and Redis key prefix; an owner signs up and creates a Stripe endpoint
 * (signing secret SECRET, rate limit out of the way). Every request carries a new event id (a
 * redelivered id is a duplicate and stores nothing) and its own `stripe-signature`, so each one
 * is verified, then stored (delivery with sealed raw body, CloudEvent and outbox job in one
 * transaction) before the 200. Baseline in the same run: bare Fastify and a `pg` pool of the
 * same size inserting each body with one single-row INSERT (bench/servers/fastify-pg-insert.ts),
 * sent the same requests.
 *
 * Each side's maximum sustainable rate is measured closed-loop (BENCH_CONNECTIONS, 50,
 * connections, BENCH_DURATION_S, 10, seconds after a 3 s warm-up, sides in turn; requests in
 * flight at the deadline are waited for, so every request sent is answered and counted; see
 * measureClosed). The platform is then paced (one request every 1/rate s, see measurePaced) at
 * RATE_FRACTIONS of its maximum, one BENCH_DURATION_S pass each; the p99 at 70 % is `p99_ms`
 * (target ≤ 50 ms), and `ratio` is the platform's maximum over the baseline's (target ≥ 0.5).
 * CPU per request of each server and of its PostgreSQL backends is shown too: on a shared
 * machine the rates move with the neighbours' load, the CPU per request much less. Any answer
 * other than 200 fails the run. Afterwards the stored deliveries (and their events) must number exactly the 200s the
 * platform gave, and the baseline's rows its 200s. BENCH_DURATION_S=2 makes a smoke run;
 * BENCH_CPU_PROF=<dir> profiles the platform (a .cpuprofile for Chrome DevTools).
 */
const SECONDS = Number(process.env.BENCH_DURATION_S ?? '10');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '50');
const WARMUP_SECONDS = Math.min(3, SECONDS);
const RATE_FRACTIONS = [0.25, 0.5, 0.7, 0.9];
const HEADLINE_FRACTION = 0.7;
/** The platform's DB_POOL_MAX default; the baseline's pool gets the same. */
const POOL_MAX = 10;
const SECRET = 'whsec_bench';
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;
/** BENCH_CPU_PROF=<dir>: the platform writes a V8 CPU profile there when it stops. */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

/** Signed Stripe `invoice.paid` events, each with an id of its own. */
function stripeEvents(): () => FreshRequest {
  const run = randomBytes(4).toString('hex');
  let sequence = 0;
  return () => {
    sequence += 1;
    const created = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      id: `evt_bench_${run}_${sequence}`,
      object: 'event',
      type: 'invoice.paid',
      created,
      livemode: false,
      data: {
        object: {
          id: `in_${run}_${sequence}`,
          object: 'invoice',
          customer: 'cus_1',
          amount_paid: 4900,
          currency: 'usd',
          status: 'paid',
        },
      },
    });
    const v1 = createHmac('sha256', SECRET).update(`${created}.${body}`).digest('hex');
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': `t=${created},v1=${v1}`,
      },
      body,
    };
  };
}

/** One request built by `fresh`, answered with `expected` (or anything ≥ 400 for 'rejected'). */
async function send(url: string, fresh: FreshRequest, expected: number | 'rejected') {
  const response = await fetch(url, {
    method: fresh.method,
    headers: fresh.headers,
    body: fresh.body,
  });
  const text = await response.text();
  const ok = expected === 'rejected' ? response.status >= 400 : response.status === expected;
  if (!ok) {
    throw new Error(`POST ${url} answered ${response.status}, not ${expected}: ${text}`);
  }
}

/**
 * spawnTs with V8's CPU profiler on (`--cpu-prof`, which NODE_OPTIONS refuses): the process
 * writes a .cpuprofile into `dir` when it exits.
 */
function spawnProfiled(entry: string, env: Record<string, string>, dir: string): Spawned {
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', path.resolve(REPO_ROOT, entry)],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(REPO_ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    void exited.then((code) => reject(new Error(`process exited (${code}) before ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  return { child, output: () => out, exited, ready };
}

/** CPU seconds (user + system) a process has used so far: Linux /proc, else NaN. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state, …, utime and stime are the 12th and 13th fields (USER_HZ 100).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The CPU a pass used, in ms per request: the server process, its PostgreSQL backends, us. */
interface CpuPerRequest {
  server: number;
  postgres: number;
  loadGenerator: number;
}

/**
 * Runs `pass`, accounting the CPU used meanwhile by the server process and by the backends
 * connected to the scratch database (a shared machine's throughput says little on its own; CPU
 * per request says where the work is).
 */
async function withCpu(
  dbUrl: string,
  serverPid: number | undefined,
  pass: () => Promise<Measurement>,
): Promise<{ m: Measurement; cpu: CpuPerRequest }> {
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  try {
    const backends = async () => {
      const { rows } = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return new Map(rows.map(({ pid }) => [pid, cpuSeconds(pid)]));
    };
    const before = await backends();
    const serverBefore = cpuSeconds(serverPid);
    const usBefore = process.cpuUsage();
    const m = await pass();
    const us = process.cpuUsage(usBefore);
    const server = cpuSeconds(serverPid) - serverBefore;
    let postgres = 0;
    for (const [pid, seconds] of await backends()) postgres += seconds - (before.get(pid) ?? 0);
    const perRequest = (seconds: number) => round2((seconds * 1000) / m.requests);
    return {
      m,
      cpu: {
        server: perRequest(server),
        postgres: perRequest(postgres),
        loadGenerator: perRequest((us.user + us.system) / 1e6),
      },
    };
  } finally {
    await admin.end();
  }
}

/** A closed-loop warm-up, then the measured closed-loop pass. */
async function saturate(
  dbUrl: string,
  serverPid: number | undefined,
  url: string,
  next: () => FreshRequest,
  count: (m: Measurement) => void,
) {
  count(await measureClosed(url, WARMUP_SECONDS, CONNECTIONS, next));
  const measured = await withCpu(dbUrl, serverPid, () =>
    measureClosed(url, SECONDS, CONNECTIONS, next),
  );
  count(measured.m);
  return measured;
}

async function storedCounts(dbUrl: string) {
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  try {
    const deliveries = await admin.query<{ n: number; duplicates: number; accepted: number }>(
      `SELECT count(*)::int AS n, coalesce(sum(duplicate_count), 0)::int AS duplicates,
              (count(*) FILTER (WHERE status = 'accepted'))::int AS accepted
         FROM webhook_deliveries`,
    );
    const events = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM domain_events WHERE delivery_id IS NOT NULL',
    );
    const jobs = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE name = 'events.dispatch-event.v1'`,
    );
    const baseline = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM bench.ingest_baseline',
    );
    const d = deliveries.rows[0];
    return {
      deliveries: d?.n ?? 0,
      accepted: d?.accepted ?? 0,
      duplicates: d?.duplicates ?? 0,
      events: events.rows[0]?.n ?? 0,
      jobs: jobs.rows[0]?.n ?? 0,
      baseline: baseline.rows[0]?.n ?? 0,
    };
  } finally {
    await admin.end();
  }
}

export async function runIngestBench(): Promise<void> {
  const { dbUrl, redisPrefix, servers, cleanup } = await scratchEnvironment();
  try {
    const env = platformEnv(dbUrl, redisPrefix, POOL_MAX);
    const platform = PROFILE_DIR
      ? spawnProfiled('apps/api/src/main.ts', env, PROFILE_DIR)
      : spawnTs('apps/api/src/main.ts', env);
    servers.push(platform);
    const base = `http://127.0.0.1:${await platform.ready}`;
    const owner = await signup(base, 'owner');
    const endpoint = await call<{ id: string }>(
      base,
      'POST',
      `/v1/tenants/${owner.tenantId}/webhook-endpoints`,
      201,
      owner.token,
      {
        provider: 'stripe',
        name: 'bench',
        secrets: { signingSecrets: [SECRET] },
        rateLimitPerMinute: 600_000,
      },
    );

    const baseline = spawnTs('bench/servers/fastify-pg-insert.ts', {
      DATABASE_URL: dbUrl,
      DB_POOL_MAX: String(POOL_MAX),
    });
    servers.push(baseline);
    const ingressPath = `/webhooks/stripe/${endpoint.id}`;
    const platformUrl = `${base}${ingressPath}`;
    const baselineUrl = `http://127.0.0.1:${await baseline.ready}${ingressPath}`;

    // 200s answered by each side, every pass included: each must be one stored row.
    let platformAcks = 0;
    let baselineAcks = 0;
    const next = stripeEvents();
    // The platform checks the signature (a wrong secret is refused) and both sides store.
    const genuine = next();
    const forged = {
      ...genuine,
      headers: {
        ...genuine.headers,
        'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
      },
    };
    await send(platformUrl, forged, 'rejected');
    await send(platformUrl, next(), 200);
    platformAcks += 1;
    await send(baselineUrl, next(), 200);
    baselineAcks += 1;

    process.stdout.write(
      `ingest bench: signed Stripe invoice.paid events (a new event id each) to ` +
        `POST /webhooks/stripe/{endpointId} on the api role vs. bare Fastify + pg single-row ` +
        `INSERT; pool ${POOL_MAX} on both sides; closed-loop at ${CONNECTIONS} connections ` +
        `(${SECONDS} s after a ${WARMUP_SECONDS} s warm-up, sides in turn), then the platform ` +
        `paced at ${RATE_FRACTIONS.map((f) => `${f * 100} %`).join(', ')} of its maximum, ` +
        `${SECONDS} s each; load average ${loadAverage()} (shared machine)\n`,
    );
    const { m: saturated, cpu: platformCpu } = await saturate(
      dbUrl,
      platform.child.pid,
      platformUrl,
      next,
      (m) => (platformAcks += m.requests),
    );
    const { m: bare, cpu: baselineCpu } = await saturate(
      dbUrl,
      baseline.child.pid,
      baselineUrl,
      next,
      (m) => (baselineAcks += m.requests),
    );

    const rateAt = (fraction: number) => Math.max(1, Math.round(saturated.rps * fraction));
    const paced = async (rate: number, seconds: number) => {
      const m = await measurePaced(platformUrl, {}, seconds, rate, CONNECTIONS, next);
      platformAcks += m.requests;
      return m;
    };
    // The pool's idle connections closed during the baseline's passes: reopened before timing.
    await paced(rateAt(RATE_FRACTIONS[0] ?? 0.25), Math.min(2, SECONDS));
    const ladder: { fraction: number; rate: number; m: Measurement }[] = [];
    for (const fraction of RATE_FRACTIONS) {
      const rate = rateAt(fraction);
      ladder.push({ fraction, rate, m: await paced(rate, SECONDS) });
    }

    const width = 46;
    const bareStats = report(`baseline (closed loop, ${CONNECTIONS} connections)`, bare, width);
    const maxStats = report(`platform (closed loop, ${CONNECTIONS} connections)`, saturated, width);
    let headline = NaN;
    for (const { fraction, rate, m } of ladder) {
      const stats = report(`platform (paced ${fraction * 100} %, ${rate} req/s)`, m, width);
      if (fraction === HEADLINE_FRACTION) headline = stats.p99;
    }

    const cpuLine = (name: string, cpu: CpuPerRequest) =>
      `${name}: server ${cpu.server} ms, postgres backends ${cpu.postgres} ms, ` +
      `load generator ${cpu.loadGenerator} ms`;
    process.stdout.write(
      `CPU per request at saturation — ${cpuLine('baseline', baselineCpu)}; ` +
        `${cpuLine('platform', platformCpu)}\n`,
    );

    const stored = await storedCounts(dbUrl);
    process.stdout.write(
      `stored: ${stored.deliveries} deliveries (${stored.accepted} accepted, ` +
        `${stored.duplicates} redeliveries) for ${platformAcks} platform 200s; ` +
        `${stored.events} events, ${stored.jobs} dispatch jobs; ` +
        `${stored.baseline} baseline rows for ${baselineAcks} baseline 200s\n`,
    );
    if (
      stored.deliveries !== platformAcks ||
      stored.accepted !== platformAcks ||
      stored.duplicates !== 0 ||
      stored.events !== platformAcks ||
      stored.baseline !== baselineAcks
    ) {
      throw new Error('stored rows do not match the 200s answered: see the line above');
    }

    const ratio = round2(maxStats.rps / bareStats.rps);
    process.stdout.write(
      `ratio platform/baseline ${ratio} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'missed'}); ` +
        `p99 at ${HEADLINE_FRACTION * 100} % of the platform's maximum ${headline} ms ` +
        `(target ≤ ${TARGET_P99_MS} ms: ${headline <= TARGET_P99_MS ? 'met' : 'missed'}); ` +
        `load average now ${loadAverage()}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'ingest',
        events_per_s: round2(maxStats.rps),
        p99_ms: headline,
        baseline_per_s: round2(bareStats.rps),
        ratio,
      })}\n`,
    );
  } finally {
    await cleanup();
  }
}
