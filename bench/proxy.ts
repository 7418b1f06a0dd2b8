import { RETELL_SIM_WORKSPACE } from '@maxai/simulators';
import { spawnTs } from '../apps/api/test/support/child-process';
import {
  call,
  loadAverage,
  measure,
  measurePaced,
  platformEnv,
  report,
  round2,
  scratchEnvironment,
  signup,
  type Measurement,
} from './support';

/**
 * `npm run bench -- proxy`: what the OAuth proxy adds to a provider call. The provider simulators
 * run in a process of their own (bench/servers/simulators.ts) and the platform's `api` role in
 * another, in sandbox mode pointed at them, on a fresh database and Redis key prefix. An owner
 * signs up and connects Retell with the simulator workspace's API key; one agent is created in
 * the simulator. Then the same read, Retell's `GET /get-agent/{id}`, is measured two ways in the
 * same run: direct to the simulator with the Retell key, and through
 * `GET /v1/tenants/{tenantId}/connections/{connectionId}/proxy/get-agent/{id}` with the owner's
 * bearer token (auth, connection lookup, credentials unsealed, request forwarded, answer copied
 * back). First closed-loop with autocannon (BENCH_CONNECTIONS, 50) for throughput, whose rps
 * give `ratio`; then paced at a fixed moderate rate (BENCH_RATE, 200 req/s, but at most half of
 * the proxy's closed-loop rate, where its p95 would time a queue; see measurePaced), whose p95s
 * give `overhead_p95_ms` (the target: ≤ 2 ms). The sides alternate, ROUNDS passes each
 * (BENCH_DURATION_S in all per side and mode), after a warm-up of each.
 */
const SECONDS = Number(process.env.BENCH_DURATION_S ?? '10');
const RATE = Number(process.env.BENCH_RATE ?? '200');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '50');
const WARMUP_SECONDS = 3;
const ROUNDS = 2;
/** The platform's DB_POOL_MAX default. */
const POOL_MAX = 10;
const TARGET_OVERHEAD_MS = 2;

interface Side {
  url: string;
  headers: Record<string, string>;
}

/** The two sides in turn, ROUNDS times; each side's passes are merged. */
async function alternate(
  sides: [Side, Side],
  pass: (side: Side, seconds: number) => Promise<Measurement>,
): Promise<[Measurement, Measurement]> {
  const merged: [Measurement[], Measurement[]] = [[], []];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const index of [0, 1] as const) {
      merged[index].push(await pass(sides[index], SECONDS / ROUNDS));
    }
  }
  const merge = (passes: Measurement[]): Measurement => ({
    rps: passes.reduce((sum, m) => sum + m.rps, 0) / passes.length,
    requests: passes.reduce((sum, m) => sum + m.requests, 0),
    latencies: passes.flatMap((m) => m.latencies).sort((a, b) => a - b),
  });
  return [merge(merged[0]), merge(merged[1])];
}

export async function runProxyBench(): Promise<void> {
  const { dbUrl, redisPrefix, servers, cleanup } = await scratchEnvironment();
  try {
    const simulators = spawnTs('bench/servers/simulators.ts', { SIMULATORS_PORT: '0' });
    servers.push(simulators);
    const simulatorsUrl = `http://127.0.0.1:${await simulators.ready}`;
    const platform = spawnTs(
      'apps/api/src/main.ts',
      platformEnv(dbUrl, redisPrefix, POOL_MAX, {
        PROVIDERS: 'sandbox',
        SIMULATORS_URL: simulatorsUrl,
        SIMULATORS_EMBEDDED: 'false',
        TOKEN_REFRESH_INTERVAL_S: '0',
      }),
    );
    servers.push(platform);
    const base = `http://127.0.0.1:${await platform.ready}`;

    // The simulator's seeded workspace: an LLM, and an agent using it, to read back.
    const retell = `${simulatorsUrl}/retell`;
    const key = RETELL_SIM_WORKSPACE.apiKey;
    const llm = await call<{ llm_id: string }>(retell, 'POST', '/create-retell-llm', 201, key, {
      general_prompt: 'You answer the phone for Bright Smiles Dental.',
    });
    const agent = await call<{ agent_id: string }>(retell, 'POST', '/create-agent', 201, key, {
      agent_name: 'Front Desk',
      voice_id: '11labs-Adrian',
      response_engine: { type: 'retell-llm', llm_id: llm.llm_id },
    });

    const owner = await signup(base, 'owner');
    const connection = await call<{ id: string }>(
      base,
      'POST',
      `/v1/tenants/${owner.tenantId}/connections`,
      201,
      owner.token,
      { provider: 'retell', name: 'Bench Retell', credentials: { apiKey: key } },
    );

    const agentPath = `/get-agent/${agent.agent_id}`;
    const proxyPath = `/v1/tenants/${owner.tenantId}/connections/${connection.id}/proxy${agentPath}`;
    const direct: Side = {
      url: `${retell}${agentPath}`,
      headers: { authorization: `Bearer ${key}` },
    };
    const proxied: Side = {
      url: `${base}${proxyPath}`,
      headers: { authorization: `Bearer ${owner.token}` },
    };
    // Both sides answer the same agent before anything is timed.
    const viaDirect = await call<{ agent_id: string }>(retell, 'GET', agentPath, 200, key);
    const viaProxy = await call<{ agent_id: string }>(base, 'GET', proxyPath, 200, owner.token);
    if (viaDirect.agent_id !== agent.agent_id || viaProxy.agent_id !== agent.agent_id) {
      throw new Error('the proxy and the simulator do not answer the same agent');
    }

    process.stdout.write(
      `proxy bench: Retell GET /get-agent/{id}, direct to the simulator vs. through the proxy ` +
        `(simulators and platform in processes of their own, pool ${POOL_MAX}); ` +
        `closed-loop at ${CONNECTIONS} connections, then paced at ${RATE} req/s ` +
        `(at most half the proxy's closed-loop rate); ` +
        `${WARMUP_SECONDS} s warm-up per side, then ${ROUNDS} alternating passes per side, ` +
        `${SECONDS} s per side in all; load average ${loadAverage()} (shared machine)\n`,
    );
    for (const side of [direct, proxied]) {
      await measure(side.url, side.headers, WARMUP_SECONDS, CONNECTIONS);
    }
    const [closedDirect, closedProxy] = await alternate([direct, proxied], (side, seconds) =>
      measure(side.url, side.headers, seconds, CONNECTIONS),
    );
    // Above the proxy's saturation a paced p95 would time a growing queue, not the proxy.
    const rate = Math.max(1, Math.min(RATE, Math.round(closedProxy.rps / 2)));
    for (const side of [direct, proxied]) {
      await measurePaced(side.url, side.headers, WARMUP_SECONDS, rate, CONNECTIONS);
    }
    const [pacedDirect, pacedProxy] = await alternate([direct, proxied], (side, seconds) =>
      measurePaced(side.url, side.headers, seconds, rate, CONNECTIONS),
    );

    const width = 44;
    const pd = report(`direct (paced, ${rate} req/s)`, pacedDirect, width);
    const pp = report(`proxy (paced, ${rate} req/s)`, pacedProxy, width);
    const cd = report(`direct (closed loop, ${CONNECTIONS} connections)`, closedDirect, width);
    const cp = report(`proxy (closed loop, ${CONNECTIONS} connections)`, closedProxy, width);
    const overhead = round2(pp.p95 - pd.p95);
    const ratio = Math.round((cp.rps / cd.rps) * 1000) / 1000;
    process.stdout.write(
      (rate < RATE
        ? `paced at ${rate} req/s, not BENCH_RATE ${RATE}: half of the proxy's closed-loop rate\n`
        : '') +
        `proxy overhead at ${rate} req/s: p50 +${round2(pp.p50 - pd.p50)} ms, ` +
        `p95 +${overhead} ms (target ≤ ${TARGET_OVERHEAD_MS} ms: ${overhead <= TARGET_OVERHEAD_MS ? 'met' : 'missed'}), ` +
        `p99 +${round2(pp.p99 - pd.p99)} ms; closed-loop ratio proxy/direct ${ratio}; ` +
        `load average now ${loadAverage()}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'proxy',
        p95_ms: pp.p95,
        overhead_p95_ms: overhead,
        ratio,
        direct_p95_ms: pd.p95,
        rps: Math.round(cp.rps),
        direct_rps: Math.round(cd.rps),
        rate,
      })}\n`,
    );
  } finally {
    await cleanup();
  }
}
