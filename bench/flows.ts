import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { CloudEvent } from '../apps/api/src/modules/events/events.service';
import { FlowTriggers } from '../apps/api/src/modules/orchestrator/runtime/flow-triggers';
import { createApp } from '../apps/api/src/platform/app/create-app';
import { loadConfig } from '../apps/api/src/platform/config/config.schema';
import { spawnTs } from '../apps/api/test/support/child-process';
import { freePort } from '../apps/api/test/support/free-port';
import {
  call,
  loadAverage,
  percentile,
  platformEnv,
  REDIS_URL,
  round2,
  scratchEnvironment,
  signup,
} from './support';

/**
 * `npm run bench -- flows`: the flow engine on a 3-step flow with simulator-backed steps —
 * `messaging.send_sms` (Twilio simulator) → `set_vars` → `messaging.get_message` (Twilio
 * simulator, the message just sent). The `standalone` role runs in this process (scheduler and
 * executor included) on a fresh PostgreSQL database and Redis key prefix; the simulators run in a
 * process of their own. An owner signs up and connects Twilio through the API; runs are started
 * by handing synthetic CloudEvents to the orchestrator's trigger (`FlowTriggers.handle`, what the
 * event dispatcher calls), so the outbox is not part of the measure.
 *
 * Throughput: BENCH_RUNS (400) runs started at once; runs/s = runs / (first queued → last
 * finished). Dispatch overhead: BENCH_PACED_RUNS (200) more runs started one every 1/rate s, at
 * BENCH_RATE (10) runs/s but at most half that throughput (every run finds a free slot, so no
 * queue wait is counted); for every step
 * of these runs, the time from becoming runnable — the run's `queued_at` for the first step, the
 * previous step's `finished_at` for the others — to its `started_at`, all read back from
 * flow_runs/flow_run_steps. Baseline in the same run: BullMQ no-op jobs on the same Redis (own
 * prefix), as many at once as runs, a worker of the same concurrency. Last line:
 * `{"bench":"flows","runs_per_s":…,"dispatch_p95_ms":…,"baseline_jobs_per_s":…,"ratio":…}`
 * (target: dispatch p95 ≤ 10 ms).
 */
const RUNS = Number(process.env.BENCH_RUNS ?? '400');
const PACED_RUNS = Number(process.env.BENCH_PACED_RUNS ?? '200');
const PACED_RATE = Number(process.env.BENCH_RATE ?? '10');
const CONCURRENCY = 16;
const TARGET_DISPATCH_P95_MS = 10;
const OURS = '+15550001111';
const TRIGGER = 'maxai.messaging.sms.received';

const DEFINITION = {
  schemaVersion: 1,
  name: 'bench: send, remember, check',
  trigger: { events: [TRIGGER] },
  steps: [
    {
      id: 'send',
      type: 'messaging.send_sms',
      inputs: { to: '=event.data.from', from: '=event.data.to', body: '="Hi " & event.data.n' },
    },
    { id: 'remember', type: 'set_vars', vars: { sid: '=steps.send.output.id' } },
    { id: 'check', type: 'messaging.get_message', inputs: { messageId: '=vars.sid' } },
  ],
};

interface StepTiming {
  run_id: string;
  seq: number;
  queued_at: Date;
  claimed_at: Date;
  started_at: Date;
  finished_at: Date | null;
  run_finished_at: Date | null;
}

/** Dispatch delays (ms) of every step of the given runs, from the persisted timings. */
function dispatchDelays(rows: StepTiming[]): {
  first: number[];
  later: number[];
  claim: number[];
} {
  const first: number[] = [];
  const claim: number[] = [];
  const later: number[] = [];
  const previous = new Map<string, Date | null>();
  for (const row of rows) {
    if (row.seq === 1) {
      first.push(row.started_at.getTime() - row.queued_at.getTime());
      claim.push(row.claimed_at.getTime() - row.queued_at.getTime());
    } else {
      const ended = previous.get(row.run_id);
      if (ended) later.push(row.started_at.getTime() - ended.getTime());
    }
    previous.set(row.run_id, row.finished_at);
  }
  const ascending = (values: number[]) => values.sort((a, b) => a - b);
  return { first: ascending(first), later: ascending(later), claim: ascending(claim) };
}

async function timings(admin: pg.Client, batch: string): Promise<StepTiming[]> {
  const { rows } = await admin.query<StepTiming>(
    `SELECT s.run_id, s.seq, r.queued_at, r.started_at AS claimed_at, s.started_at, s.finished_at, r.finished_at AS run_finished_at
       FROM flow_run_steps s JOIN flow_runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
      WHERE r.trigger_event->'data'->>'batch' = $1
      ORDER BY s.run_id, s.seq`,
    [batch],
  );
  return rows;
}

async function settled(admin: pg.Client, batch: string, count: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { rows } = await admin.query<{ done: number; bad: number }>(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS done,
              count(*) FILTER (WHERE status IN ('failed', 'cancelled', 'timed_out'))::int AS bad
         FROM flow_runs WHERE trigger_event->'data'->>'batch' = $1`,
      [batch],
    );
    const { done = 0, bad = 0 } = rows[0] ?? {};
    if (bad > 0) throw new Error(`${bad} runs of batch ${batch} did not complete`);
    if (done >= count) return;
    if (Date.now() > deadline) throw new Error(`batch ${batch}: ${done}/${count} runs completed`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** BullMQ no-op jobs: `count` added at once, a worker of CONCURRENCY; answers jobs/s. */
async function bullmqBaseline(prefix: string, count: number): Promise<number> {
  const connection = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const connections = [connection(), connection()];
  const [queueConnection, workerConnection] = connections;
  const queue = new Queue('bench-noop', { connection: queueConnection!, prefix });
  let processed = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = new Worker(
    'bench-noop',
    () => {
      processed += 1;
      return Promise.resolve();
    },
    { connection: workerConnection!, prefix, concurrency: CONCURRENCY, autorun: false },
  );
  let completed = 0;
  worker.on('completed', () => {
    completed += 1;
    if (completed === count) resolveAll();
  });
  try {
    const started = performance.now();
    await queue.addBulk(
      Array.from({ length: count }, (_, n) => ({
        name: 'noop',
        data: { n },
        opts: { removeOnComplete: true },
      })),
    );
    void worker.run();
    await all;
    const seconds = (performance.now() - started) / 1000;
    if (processed !== count) throw new Error(`BullMQ processed ${processed} of ${count} jobs`);
    return count / seconds;
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    for (const c of connections) c.disconnect();
  }
}

export async function runFlowsBench(): Promise<void> {
  const env = await scratchEnvironment();
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${String(port)}`;
  const simulators = spawnTs('bench/servers/simulators.ts', {
    SIMULATORS_PORT: '0',
    PLATFORM_URL: publicUrl,
  });
  env.servers.push(simulators);
  const simUrl = `http://127.0.0.1:${String(await simulators.ready)}`;
  const config = loadConfig(
    platformEnv(env.dbUrl, env.redisPrefix, 10, {
      LOG_LEVEL: 'error',
      PUBLIC_URL: publicUrl,
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      SIMULATORS_EMBEDDED: 'false',
      FLOW_WORKER_CONCURRENCY: String(CONCURRENCY),
      FLOW_TENANT_CONCURRENCY: String(CONCURRENCY),
      // The per-connection budget would queue runs past 10 calls/s: out of the way here.
      FLOW_CONNECTION_RATE_PER_S: '10000',
    }),
  );
  const app = await createApp('standalone', config);
  const admin = new pg.Client({ connectionString: env.dbUrl });
  try {
    await app.listen(port, '127.0.0.1');
    await admin.connect();
    const owner = await signup(publicUrl, 'flows');
    const base = `/v1/tenants/${owner.tenantId}`;
    const post = <T>(path: string, body: object, expected = 201) =>
      call<T>(publicUrl, 'POST', `${base}${path}`, expected, owner.token, body);
    const client = await post<{ id: string }>('/clients', { name: 'Clinic' });
    const accountRes = await fetch(`${simUrl}/_control/twilio/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ numbers: [OURS] }),
    });
    const account = (await accountRes.json()) as { accountSid: string; authToken: string };
    const connection = await post<{ id: string }>('/connections', {
      provider: 'twilio',
      name: 'Twilio',
      clientId: client.id,
      credentials: { accountSid: account.accountSid, authToken: account.authToken },
    });
    const bound = await fetch(`${publicUrl}${base}/bindings/messaging`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ connectionId: connection.id, clientId: client.id }),
    });
    if (bound.status !== 200) throw new Error(`binding answered ${bound.status}`);
    const flow = await post<{ id: string }>('/flows', {
      name: 'bench',
      clientId: client.id,
      definition: DEFINITION,
    });
    await post(`/flows/${flow.id}/activate`, { version: 1 }, 200);

    const triggers = app.get(FlowTriggers);
    let sequence = 0;
    const start = (batch: string) => {
      sequence += 1;
      const event: CloudEvent = {
        specversion: '1.0',
        id: uuidv7(),
        type: TRIGGER,
        source: '/maxai/bench',
        subject: null,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        tenantid: owner.tenantId,
        clientid: client.id,
        agentid: null,
        correlationid: null,
        data: {
          from: `+1555${String(1_000_000 + sequence).slice(-7)}`,
          to: OURS,
          n: sequence,
          batch,
        },
      };
      return triggers.handle(event);
    };

    process.stdout.write(
      `flows bench: 3-step flow (send_sms → set_vars → get_message, Twilio simulator in its own ` +
        `process), standalone role in-process, worker concurrency ${CONCURRENCY}; ` +
        `load average ${loadAverage()} (shared machine)\n`,
    );
    // Warm-up: connections, caches, JIT.
    for (let i = 0; i < 20; i += 1) await start('warmup');
    await settled(admin, 'warmup', 20);

    const burstStarted = performance.now();
    for (let i = 0; i < RUNS; i += 1) await start('burst');
    await settled(admin, 'burst', RUNS);
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    const runsPerS = RUNS / burstSeconds;
    const burst = dispatchDelays(await timings(admin, 'burst'));

    // A fixed rate compares runs with each other; at most half the throughput (no queue wait).
    const rate = Math.max(1, Math.min(PACED_RATE, Math.round(runsPerS / 2)));
    const pacedStarted = performance.now();
    for (let i = 0; i < PACED_RUNS; i += 1) {
      const due = pacedStarted + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await start('paced');
    }
    await settled(admin, 'paced', PACED_RUNS);
    const paced = dispatchDelays(await timings(admin, 'paced'));
    const all = [...paced.first, ...paced.later].sort((a, b) => a - b);
    const dispatchP95 = round2(percentile(all, 95));

    const baseline = await bullmqBaseline(`${env.redisPrefix}:baseline`, RUNS);

    const line = (name: string, delays: number[]) =>
      `${name.padEnd(44)} p50 ${percentile(delays, 50)} ms   p95 ${percentile(delays, 95)} ms   p99 ${percentile(delays, 99)} ms   max ${delays.at(-1) ?? NaN} ms   (${delays.length} steps)\n`;
    process.stdout.write(
      `throughput: ${RUNS} runs started at once, all completed in ${round2(burstSeconds)} s: ${round2(runsPerS)} runs/s\n`,
    );
    process.stdout.write(line('burst: later steps (prev end → start)', burst.later));
    process.stdout.write(line('burst: first steps (queued → start, queue wait)', burst.first));
    process.stdout.write(line(`paced ${rate}/s: first steps (queued → start)`, paced.first));
    process.stdout.write(line(`paced ${rate}/s: of which queued → claimed`, paced.claim));
    process.stdout.write(line(`paced ${rate}/s: later steps (prev end → start)`, paced.later));
    process.stdout.write(line(`paced ${rate}/s: all steps`, all));
    process.stdout.write(
      `BullMQ no-op jobs: ${RUNS} added at once, worker concurrency ${CONCURRENCY}: ${round2(baseline)} jobs/s\n`,
    );
    const ratio = round2(runsPerS / baseline);
    process.stdout.write(
      `dispatch p95 ${dispatchP95} ms (target ≤ ${TARGET_DISPATCH_P95_MS} ms: ` +
        `${dispatchP95 <= TARGET_DISPATCH_P95_MS ? 'met' : 'missed'}); runs/s over BullMQ no-op ` +
        `jobs/s ${ratio}; load average now ${loadAverage()}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'flows',
        runs_per_s: round2(runsPerS),
        dispatch_p95_ms: dispatchP95,
        baseline_jobs_per_s: round2(baseline),
        ratio,
      })}\n`,
    );
  } finally {
    await admin.end().catch(() => undefined);
    await app.close();
    await env.cleanup();
  }
}
