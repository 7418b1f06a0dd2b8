import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import canonicalize from 'canonicalize';
import { and, eq } from 'drizzle-orm';
import { jobs, withTenant, type DatabaseHandle } from '@maxai/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditCheckpointScheduler } from '../src/modules/audit/audit-checkpoint.scheduler';
import { DATABASE } from '../src/platform/database/database.module';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

/**
 * Signed checkpoints, the audit keys' JWKS and the JSON Lines export, over HTTP. The export is
 * checked the way an auditor would, offline: with nothing but the lines, a JCS implementation,
 * SHA-256 and the public key published at /.well-known/audit-keys.json.
 */
let t: TestApp;
let owner: Account;
let base: string;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app);
  base = `/v1/tenants/${owner.tenantId}/audit-events`;
});
afterAll(async () => {
  await t.close();
});

interface EventLine {
  type: 'event';
  seq: number;
  hash: string;
  prevHash: string;
  occurredAt: string;
  action: string;
  [field: string]: unknown;
}
interface CheckpointLine {
  type: 'checkpoint';
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: string;
  kid: string;
  signature: string;
  publicJwk: JsonWebKey & { kid: string };
}

function parseExport(body: string): { events: EventLine[]; checkpoint: CheckpointLine } {
  const lines = body
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as EventLine | CheckpointLine);
  const checkpoint = lines.pop() as CheckpointLine;
  expect(checkpoint.type).toBe('checkpoint');
  expect(lines.every((l) => l.type === 'event')).toBe(true);
  return { events: lines as EventLine[], checkpoint };
}

/** Recomputes the chain from the lines alone; returns the first seq that does not hold. */
function offlineChainBreak(tenantId: string, events: EventLine[]): number | undefined {
  let prev = events[0]?.prevHash;
  for (const { type: _type, hash, prevHash, ...fields } of events) {
    const canonical = canonicalize({ ...fields, tenantId });
    const recomputed = createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
    if (prevHash !== prev || recomputed !== hash) return fields.seq;
    prev = hash;
  }
  return undefined;
}

function offlineSignatureValid(c: CheckpointLine, publicJwk: JsonWebKey): boolean {
  const { tenantId, seq, hash, signedAt, kid } = c;
  return verify(
    null,
    Buffer.from(canonicalize({ tenantId, seq, hash, signedAt, kid })!),
    createPublicKey({ key: publicJwk, format: 'jwk' }),
    Buffer.from(c.signature, 'base64url'),
  );
}

describe('audit keys', () => {
  it('publishes Ed25519 audit keys apart from the access-token keys', async () => {
    const audit = (
      await t.app.inject({ method: 'GET', url: '/.well-known/audit-keys.json' })
    ).json<{
      keys: { kid: string; kty: string; crv: string; alg: string; d?: string }[];
    }>();
    expect(audit.keys).toHaveLength(1);
    expect(audit.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(audit.keys[0]!.d).toBeUndefined();
    const jwt = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    expect(jwt.keys.map((k) => k.kid)).not.toContain(audit.keys[0]!.kid);
  });
});

describe('checkpoints', () => {
  it('signs the head on demand once per seq, lists them newest first, and verifies them', async () => {
    const api = as(t.app, owner.token);
    const first = await api.post(`${base}/checkpoints`, {});
    expect(first.statusCode).toBe(200);
    const signed = first.json<{ seq: number; created: boolean; tenantId: string }>();
    expect(signed).toMatchObject({ created: true, tenantId: owner.tenantId });
    const again = (await api.post(`${base}/checkpoints`, {})).json<{
      seq: number;
      created: boolean;
    }>();
    expect(again).toMatchObject({ seq: signed.seq, created: false });

    await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Checkpointed' });
    const second = (await api.post(`${base}/checkpoints`, {})).json<{ seq: number }>();
    expect(second.seq).toBe(signed.seq + 1);

    const page = (await api.get(`${base}/checkpoints?limit=1`)).json<{
      data: { seq: number }[];
      nextCursor: number | null;
    }>();
    expect(page.data.map((c) => c.seq)).toEqual([second.seq]);
    const rest = (await api.get(`${base}/checkpoints?cursor=${page.nextCursor}`)).json<{
      data: { seq: number }[];
      nextCursor: number | null;
    }>();
    expect(rest).toEqual({
      data: [expect.objectContaining({ seq: signed.seq })],
      nextCursor: null,
    });

    expect((await api.get(`${base}/verify`)).json()).toMatchObject({
      valid: true,
      checked: second.seq,
      checkpoints: 2,
    });
  });

  it('is open to those who may read the trail, and hidden from strangers', async () => {
    const client = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'V' })
    ).json<{ id: string }>();
    const viewer = await clientUser(t.app, owner.tenantId, client.id, 'client_viewer');
    expect((await as(t.app, viewer.token).post(`${base}/checkpoints`, {})).statusCode).toBe(403);
    expect((await as(t.app, viewer.token).get(`${base}/export`)).statusCode).toBe(403);
    const stranger = await signupOwner(t.app);
    expect((await as(t.app, stranger.token).get(`${base}/checkpoints`)).statusCode).toBe(404);
  });

  it('sweeps tenants with unsigned events into one job each, deduplicated across sweeps', async () => {
    const fresh = await signupOwner(t.app);
    const scheduler = t.app.get(AuditCheckpointScheduler);
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    expect(await scheduler.sweep()).toBeGreaterThanOrEqual(1);
    await scheduler.sweep();
    const queued = await withTenant(db, fresh.tenantId, (tx) =>
      tx
        .select()
        .from(jobs)
        .where(
          and(eq(jobs.tenantId, fresh.tenantId), eq(jobs.name, 'audit.create-checkpoints.v1')),
        ),
    );
    expect(queued).toHaveLength(1);
    // Signed on demand, the tenant is no longer due.
    await as(t.app, fresh.token).post(`/v1/tenants/${fresh.tenantId}/audit-events/checkpoints`, {});
    await scheduler.sweep();
    expect(
      await withTenant(db, fresh.tenantId, (tx) =>
        tx.select().from(jobs).where(eq(jobs.tenantId, fresh.tenantId)),
      ),
    ).toHaveLength(1);
  });
});

describe('export', () => {
  it('streams JSON Lines that verify offline, and a tampered line does not', async () => {
    const api = as(t.app, owner.token);
    await api.post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'Exported' });
    const res = await api.get(`${base}/export`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-disposition']).toContain(`audit-${owner.tenantId}.jsonl`);
    const { events, checkpoint } = parseExport(res.body);

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]!.prevHash).toBe('0'.repeat(64));
    expect(events[0]).toMatchObject({ action: 'tenant.created' });
    expect(offlineChainBreak(owner.tenantId, events)).toBeUndefined();
    // The export signed the head it ended on: the last line links to the checkpoint.
    expect(checkpoint).toMatchObject({ seq: events.at(-1)!.seq, hash: events.at(-1)!.hash });

    const published = (
      await t.app.inject({ method: 'GET', url: '/.well-known/audit-keys.json' })
    ).json<{ keys: (JsonWebKey & { kid: string })[] }>();
    const key = published.keys.find((k) => k.kid === checkpoint.kid)!;
    expect(key).toEqual(checkpoint.publicJwk);
    expect(offlineSignatureValid(checkpoint, key)).toBe(true);
    expect(offlineSignatureValid({ ...checkpoint, seq: checkpoint.seq - 1 }, key)).toBe(false);

    const tampered = events.map((e) => (e.seq === 2 ? { ...e, action: 'auth.nothing' } : e));
    expect(offlineChainBreak(owner.tenantId, tampered)).toBe(2);
    const dropped = events.filter((e) => e.seq !== 3);
    expect(offlineChainBreak(owner.tenantId, dropped)).toBe(4);
  });

  it('narrows to a time range and rejects an inverted one', async () => {
    const api = as(t.app, owner.token);
    const all = parseExport((await api.get(`${base}/export`)).body);
    const middle = all.events[2]!;
    const upTo = parseExport(
      (await api.get(`${base}/export?to=${encodeURIComponent(middle.occurredAt)}`)).body,
    );
    expect(upTo.events.at(-1)!.seq).toBeGreaterThanOrEqual(middle.seq);
    expect(upTo.events.every((e) => e.occurredAt <= middle.occurredAt)).toBe(true);
    // The checkpoint covers the exported events.
    expect(upTo.checkpoint.seq).toBeGreaterThanOrEqual(upTo.events.at(-1)!.seq);

    const later = new Date(Date.now() + 60_000).toISOString();
    const none = parseExport((await api.get(`${base}/export?from=${later}`)).body);
    expect(none.events).toEqual([]);
    expect(none.checkpoint.type).toBe('checkpoint');

    const from = all.events[1]!.occurredAt;
    const window = parseExport(
      (await api.get(`${base}/export?from=${from}&to=${all.events.at(-1)!.occurredAt}`)).body,
    );
    expect(window.events[0]!.occurredAt >= from).toBe(true);
    expect(offlineChainBreak(owner.tenantId, window.events)).toBeUndefined();

    const inverted = await api.get(
      `${base}/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`,
    );
    expect(inverted.statusCode).toBe(400);
    expect(inverted.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/validation-error',
    });
    expect((await api.get(`${base}/export?from=yesterday`)).statusCode).toBe(400);
  });
});

describe('checkpoints on a schedule', () => {
  it('are created by the processes that run jobs every AUDIT_CHECKPOINT_INTERVAL_S', async () => {
    const worker = await startTestApp('standalone', {
      REDIS_URL: '',
      AUDIT_CHECKPOINT_INTERVAL_S: '1',
    });
    try {
      const someone = await signupOwner(worker.app);
      const list = `/v1/tenants/${someone.tenantId}/audit-events/checkpoints`;
      const signed = await waitFor(async () => {
        const page = (await as(worker.app, someone.token).get(list)).json<{
          data: { seq: number }[];
        }>();
        return page.data[0];
      }, 15_000);
      expect(signed.seq).toBe(2);
    } finally {
      await worker.close();
    }
  });
});
