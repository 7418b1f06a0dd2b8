import { spawnTs } from '../apps/api/test/support/child-process';
import {
  call,
  loadAverage,
  measure as measureWith,
  measurePaced as measurePacedWith,
  platformEnv,
  report,
  scratchEnvironment,
  signup,
  type Tenant,
} from './support';

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

const measure = (url: string, headers: Record<string, string>, seconds: number, rate?: number) =>
  measureWith(url, headers, seconds, CONNECTIONS, rate);
const measurePaced = (
  url: string,
  headers: Record<string, string>,
  seconds: number,
  rate: number,
) => measurePacedWith(url, headers, seconds, rate, CONNECTIONS);

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

export async function runApiBench(): Promise<void> {
  const { dbUrl, redisPrefix, servers, cleanup } = await scratchEnvironment();
  try {
    const started = Date.now();
    const platform = spawnTs('apps/api/src/main.ts', platformEnv(dbUrl, redisPrefix, POOL_MAX));
    servers.push(platform);
    const base = `http://127.0.0.1:${await platform.ready}`;

    const owner = await signup(base, 'owner');
    const clientId = await createClient(base, owner, 'Bright Smiles Dental');
    const agentId = await createAgent(base, owner, clientId, 'Front Desk');
    await populate(base);
    const setupSeconds = (Date.now() - started) / 1000;

    const baseline = spawnTs('bench/servers/fastify-pg.ts', {
      DATABASE_URL: dbUrl,
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
        `sides in turn; pool ${POOL_MAX} on both sides; load average ${loadAverage()} (shared machine)\n`,
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
        `baseline p95 ${bareStats.p95} ms; load average now ${loadAverage()}\n`,
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
    await cleanup();
  }
}
