import {
  CLIENT_ROLES,
  isAllowed,
  PERMISSIONS,
  TENANT_ROLES,
  type ClientRole,
  type Principal,
  type TenantRole,
} from '../apps/api/src/modules/iam/permissions';

/**
 * `npm run bench -- policy`: the in-process permission check over 1,000 tenants × 100 users
 * with mixed tenant and client roles. Baseline in the same run: a Map lookup plus a Set lookup
 * (the least any evaluator must do), to show what the rules themselves cost.
 */
const TENANTS = 1000;
const USERS_PER_TENANT = 100;
const CLIENTS_PER_TENANT = 5;
const SAMPLES = 200_000;

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function runPolicyBench(): Promise<void> {
  const random = seededRandom(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const principals: { principal: Principal; tenantId: string; clients: string[] }[] = [];
  for (let t = 0; t < TENANTS; t += 1) {
    const tenantId = `tenant-${t}`;
    const clients = Array.from({ length: CLIENTS_PER_TENANT }, (_, c) => `${tenantId}-client-${c}`);
    for (let u = 0; u < USERS_PER_TENANT; u += 1) {
      const clientLevel = random() < 0.4;
      const membership = clientLevel
        ? { clients: new Map<string, ClientRole>([[pick(clients), pick(CLIENT_ROLES)]]) }
        : { role: pick<TenantRole>(TENANT_ROLES), clients: new Map<string, ClientRole>() };
      principals.push({
        principal: {
          kind: 'user',
          id: `${tenantId}-user-${u}`,
          memberships: new Map([[tenantId, membership]]),
        },
        tenantId,
        clients,
      });
    }
  }
  const checks = Array.from({ length: SAMPLES }, () => {
    const subject = pick(principals);
    // One in ten checks aims at another tenant (denied).
    const tenantId = random() < 0.1 ? `tenant-${Math.floor(random() * TENANTS)}` : subject.tenantId;
    return {
      principal: subject.principal,
      permission: pick(PERMISSIONS),
      tenantId,
      clientId: pick(subject.clients),
    };
  });

  const time = (fn: (i: number) => boolean) => {
    const samples = new Float64Array(SAMPLES);
    let allowed = 0;
    for (let i = 0; i < 20_000; i += 1) fn(i % SAMPLES); // warm-up
    const started = process.hrtime.bigint();
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = process.hrtime.bigint();
      if (fn(i)) allowed += 1;
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    samples.sort();
    return { samples, allowed, rate: SAMPLES / seconds };
  };

  const baselineSets = new Map(
    principals.map((p) => [p.principal.id, new Set(PERMISSIONS.slice(0, 10))]),
  );
  const baseline = time((i) => {
    const c = checks[i]!;
    return baselineSets.get(c.principal.id)?.has(c.permission) ?? false;
  });
  const policy = time((i) => {
    const c = checks[i]!;
    return isAllowed(c.principal, c.permission, { tenantId: c.tenantId, clientId: c.clientId });
  });

  const line = (name: string, r: ReturnType<typeof time>) =>
    `${name.padEnd(22)} p50 ${percentile(r.samples, 50).toFixed(2)} µs   p95 ${percentile(r.samples, 95).toFixed(2)} µs   p99 ${percentile(r.samples, 99).toFixed(2)} µs   ${Math.round(r.rate).toLocaleString('en-US')} checks/s`;
  process.stdout.write(
    `policy bench: ${TENANTS} tenants × ${USERS_PER_TENANT} users, ${SAMPLES.toLocaleString('en-US')} checks (${((policy.allowed / SAMPLES) * 100).toFixed(1)} % allowed)\n`,
  );
  process.stdout.write(`${line('baseline (map+set)', baseline)}\n${line('isAllowed', policy)}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'policy',
      p50_us: Number(percentile(policy.samples, 50).toFixed(3)),
      p95_us: Number(percentile(policy.samples, 95).toFixed(3)),
      p99_us: Number(percentile(policy.samples, 99).toFixed(3)),
      checks_per_s: Math.round(policy.rate),
    })}\n`,
  );
  return Promise.resolve();
}
