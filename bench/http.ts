import autocannon from 'autocannon';
import { spawnTs, type Spawned } from '../apps/api/test/support/child-process';

/**
 * `npm run bench -- http`: three servers answering the same body at GET /healthz, measured in
 * one run, alternating rounds to spread any drift:
 *   fastify   bare Fastify (the baseline);
 *   nest      NestJS on the Fastify adapter, one trivial controller (the framework's overhead);
 *   platform  the platform's `api` role: security headers, CORS, correlation ids and request
 *             context, rate-limit hook, metrics, problem filter (what a real route pays).
 */
const ROUNDS = 2;
const SECONDS = Number(process.env.BENCH_SECONDS ?? '6');
const CONNECTIONS = 32;

interface Measurement {
  rps: number;
  latencies: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

async function measure(port: number, seconds: number): Promise<Measurement> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/healthz`, connections: CONNECTIONS, duration: seconds },
      (error: Error | null, finished) => (error ? reject(error) : resolve(finished)),
    );
    // autocannon reports no p95: every response time is kept to compute it exactly.
    instance.on('response', (_client, _status, _bytes, responseTime) =>
      latencies.push(responseTime),
    );
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`benchmark saw ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return { rps: result.requests.average, latencies };
}

function summarize(name: string, runs: Measurement[]) {
  const rps = runs.reduce((sum, r) => sum + r.rps, 0) / runs.length;
  const sorted = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const [p50, p95, p99] = [50, 95, 99].map((p) => Math.round(percentile(sorted, p) * 100) / 100);
  process.stdout.write(
    `${name.padEnd(18)} ${Math.round(rps).toString().padStart(7)} req/s   p50 ${p50} ms   p95 ${p95} ms   p99 ${p99} ms\n`,
  );
  return { rps, p50: p50 ?? NaN, p95: p95 ?? NaN, p99: p99 ?? NaN };
}

export async function runHttpBench(): Promise<void> {
  const servers: Spawned[] = [];
  try {
    const fastify = spawnTs('bench/servers/fastify-hello.ts', {});
    const nest = spawnTs('bench/servers/nest-hello.ts', {});
    const platform = spawnTs('apps/api/src/main.ts', {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      PGLITE_DATA_DIR: 'memory://',
      DATABASE_URL: '',
      REDIS_URL: '',
      RATE_LIMIT_POINTS: '1000000',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    });
    servers.push(fastify, nest, platform);
    const ports = {
      fastify: await fastify.ready,
      nest: await nest.ready,
      platform: await platform.ready,
    };
    process.stdout.write(
      `http bench: ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS}s per target\n`,
    );
    const targets = ['fastify', 'nest', 'platform'] as const;
    for (const target of targets) await measure(ports[target], 2);
    const results = {
      fastify: [] as Measurement[],
      nest: [] as Measurement[],
      platform: [] as Measurement[],
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of targets) results[target].push(await measure(ports[target], SECONDS));
    }
    const base = summarize('fastify (bare)', results.fastify);
    const nestStats = summarize('nest (trivial)', results.nest);
    const platformStats = summarize('platform (api)', results.platform);
    const ratio = (rps: number) => Math.round((rps / base.rps) * 1000) / 1000;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'http',
        nest_rps: Math.round(nestStats.rps),
        fastify_rps: Math.round(base.rps),
        ratio: ratio(nestStats.rps),
        p95_ms: nestStats.p95,
        platform_rps: Math.round(platformStats.rps),
        platform_ratio: ratio(platformStats.rps),
        platform_p95_ms: platformStats.p95,
      })}\n`,
    );
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
  }
}
