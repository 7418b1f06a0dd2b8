import { tenants, withSystem, type DatabaseHandle } from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import type { Authenticated } from '../apps/api/src/modules/iam/auth.guard';
import { PromptLabelsService } from '../apps/api/src/modules/prompts/prompt-labels.service';
import { PromptVersionsService } from '../apps/api/src/modules/prompts/prompt-versions.service';
import { engine } from '../apps/api/src/modules/prompts/template-engine';
import { compileVariablesSchema } from '../apps/api/src/modules/prompts/variables-schema';
import { PROMPT_CACHE } from '../apps/api/src/modules/prompts/prompts.module';
import { PromptsService } from '../apps/api/src/modules/prompts/prompts.service';
import type { ReplicatedCache } from '../apps/api/src/platform/cache/replicated-cache';
import { createApp } from '../apps/api/src/platform/app/create-app';
import { loadConfig } from '../apps/api/src/platform/config/config.schema';
import { DATABASE } from '../apps/api/src/platform/database/database.module';
import { loadAverage, platformEnv, scratchEnvironment } from './support';

/**
 * `npm run bench -- render`: the in-process render other modules call (`PromptsService.render`)
 * of a cached production prompt with 5 variables — resolution from the replicated cache, ajv
 * validation of the variables, the Liquid render — in the `api` role on a fresh PostgreSQL
 * database with Redis (the cache is live: subscribed to its invalidation channel). Each of
 * BENCH_RENDERS renders is timed on its own after a warm-up; baseline in the same run: the
 * compiled template and validator alone (what any render must cost), to show what resolution
 * and the service add. Target: p95 ≤ 200 µs.
 */
const SAMPLES = Number(process.env.BENCH_RENDERS ?? '200000');
const WARMUP = 20_000;

const TEMPLATE =
  'Hi {{ name }}, thanks for calling {{ business }}. You are booked with {{ provider }} on ' +
  '{{ date }} at {{ time }}. Reply STOP to opt out.';
const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    business: { type: 'string' },
    provider: { type: 'string' },
    date: { type: 'string', format: 'date' },
    time: { type: 'string', pattern: '^[0-9]{2}:[0-9]{2}$' },
  },
  required: ['name', 'business', 'provider', 'date', 'time'],
  additionalProperties: false,
};
const NAMES = ['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Fay', 'Gus', 'Hana'];
const variables = NAMES.map((name, i) => ({
  name,
  business: 'Bright Smiles Dental',
  provider: `Dr. ${NAMES[(i + 3) % NAMES.length] ?? ''}`,
  date: `2026-12-0${(i % 9) + 1}`,
  time: `${String(9 + i).padStart(2, '0')}:30`,
}));

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function time(fn: (i: number) => unknown) {
  for (let i = 0; i < WARMUP; i += 1) await fn(i);
  const samples = new Float64Array(SAMPLES);
  const started = process.hrtime.bigint();
  for (let i = 0; i < SAMPLES; i += 1) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  samples.sort();
  return { samples, rate: SAMPLES / seconds };
}

export async function runRenderBench(): Promise<void> {
  const env = await scratchEnvironment();
  const config = loadConfig(platformEnv(env.dbUrl, env.redisPrefix, 4, { LOG_LEVEL: 'error' }));
  const app = await createApp('api', config);
  try {
    const { db } = app.get<DatabaseHandle>(DATABASE);
    const tenantId = uuidv7();
    await withSystem(db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'Bench' }));
    // Platform staff may act in any tenant: enough to set the prompt up through the services.
    const staff: Authenticated = {
      principal: {
        kind: 'user',
        id: uuidv7(),
        platformRole: 'platform_admin',
        memberships: new Map(),
      },
      actor: { type: 'user', id: uuidv7() },
    };
    const prompts = app.get(PromptsService);
    const scope = { tenantId };
    const key = 'front-desk/confirmation';
    await prompts.create(staff, scope, { key, kind: 'text', description: '' }, {});
    await app.get(PromptVersionsService).createVersion(
      staff,
      scope,
      key,
      {
        content: TEMPLATE,
        variablesSchema: SCHEMA,
        modelSettings: { model: 'openai/gpt-4o-mini', temperature: 0.3, maxTokens: 200 },
        tags: [],
        changeNote: 'bench',
      },
      {},
    );
    await app.get(PromptLabelsService).move(staff, scope, key, 'production', 1, {});
    const cache = app.get<ReplicatedCache>(PROMPT_CACHE);
    const deadline = Date.now() + 10_000;
    while (!cache.isLive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!cache.isLive) throw new Error('the prompt cache never subscribed to its channel');

    const expected = await prompts.render(tenantId, { key, variables: variables[0] });
    if (!expected.text?.startsWith('Hi Ana, thanks for calling Bright Smiles Dental.')) {
      throw new Error(`unexpected render: ${JSON.stringify(expected)}`);
    }
    // Baseline: the compiled template and validator alone, no resolution.
    const parsed = engine.parse(TEMPLATE);
    const check = compileVariablesSchema(SCHEMA);
    if (!check.ok) throw new Error('the bench schema does not compile');
    const bare = await time((i) => {
      const vars = variables[i % variables.length] ?? {};
      if (!check.validate(vars)) throw new Error('invalid bench variables');
      return engine.renderSync(parsed, vars) as string;
    });

    const service = await time((i) =>
      prompts.render(tenantId, { key, variables: variables[i % variables.length] }),
    );

    const line = (name: string, r: Awaited<ReturnType<typeof time>>) =>
      `${name.padEnd(34)} p50 ${percentile(r.samples, 50).toFixed(1)} µs   p95 ${percentile(r.samples, 95).toFixed(1)} µs   p99 ${percentile(r.samples, 99).toFixed(1)} µs   ${Math.round(r.rate).toLocaleString('en-US')} renders/s`;
    process.stdout.write(
      `render bench: ${SAMPLES.toLocaleString('en-US')} renders of a cached production prompt with 5 variables (load ${loadAverage()})\n`,
    );
    process.stdout.write(`${line('baseline (liquid + ajv only)', bare)}\n`);
    process.stdout.write(`${line('PromptsService.render', service)}\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'render',
        p50_us: Number(percentile(service.samples, 50).toFixed(1)),
        p95_us: Number(percentile(service.samples, 95).toFixed(1)),
        renders_per_s: Math.round(service.rate),
      })}\n`,
    );
  } finally {
    await app.close();
    await env.cleanup();
  }
}
