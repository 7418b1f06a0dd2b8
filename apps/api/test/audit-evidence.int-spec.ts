import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import {
  auditCheckpoints,
  openDatabase,
  tenants,
  withSystem,
  withTenant,
  type DatabaseHandle,
} from '@maxai/db';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '../../../packages/db/test/test-database';
import { chainHash } from '../src/modules/audit/audit-chain';
import { AuditEvidenceService, EXPORT_BATCH } from '../src/modules/audit/audit-evidence.service';
import { AuditRepository } from '../src/modules/audit/audit.repository';
import { AuditService } from '../src/modules/audit/audit.service';
import { SecretBox } from '../src/platform/crypto/secret-box';
import { ProblemError } from '../src/platform/errors/problem';

/** Checkpoints and exports at the service level: forged evidence, rewritten history, races. */
describe.each(databaseKinds())('audit evidence on %s', (kind) => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let repository: AuditRepository;
  let audit: AuditService;
  let evidence: AuditEvidenceService;
  const box = new SecretBox(randomBytes(32));

  beforeAll(async () => {
    testDb = await createTestDatabase(kind === 'pglite' ? 'pglite' : 'default');
    handle = await openDatabase({
      url: testDb.url,
      dataDir: 'memory://',
      poolMax: 8,
      migrate: true,
    });
    repository = new AuditRepository(handle.db);
    audit = new AuditService(repository);
    evidence = new AuditEvidenceService(repository, box);
  });
  afterAll(async () => {
    await handle.close();
    await testDb.drop();
  });

  /** Runs SQL as the table owner, the way an attacker with database access would. */
  async function asOwner(...statements: string[]): Promise<void> {
    if (testDb.url) {
      const client = new pg.Client({ connectionString: testDb.url });
      await client.connect();
      for (const statement of statements) await client.query(statement);
      await client.end();
    } else {
      await handle.db.execute(sql.raw('RESET ROLE'));
      for (const statement of statements) await handle.db.execute(sql.raw(statement));
      await handle.db.execute(sql.raw('SET ROLE maxai_app'));
    }
  }

  async function tenantWithEntries(count: number): Promise<string> {
    const tenantId = uuidv7();
    await withSystem(handle.db, (tx) => tx.insert(tenants).values({ id: tenantId, name: 'T' }));
    if (count > 0) {
      await withTenant(handle.db, tenantId, async (tx) => {
        for (let i = 1; i <= count; i += 1) {
          await audit.record(tx, { tenantId, actor: { type: 'system' }, action: `step.${i}` });
        }
      });
    }
    return tenantId;
  }

  async function forge(tenantId: string, values: { seq: number; kid: string; hash?: string }) {
    await withTenant(handle.db, tenantId, (tx) =>
      tx.insert(auditCheckpoints).values({
        tenantId,
        hash: values.hash ?? 'f'.repeat(64),
        signature: 'AAAA',
        signedAt: new Date(),
        ...values,
      }),
    );
  }

  async function lines(tenantId: string, range = {}): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const line of evidence.exportLines(tenantId, range)) {
      out.push(JSON.parse(line) as Record<string, unknown>);
    }
    return out;
  }

  it('creates one audit key however many replicas start at once', async () => {
    const replicas = Array.from({ length: 4 }, () => new AuditEvidenceService(repository, box));
    await Promise.all(replicas.map((r) => r.init()));
    const { keys } = await evidence.jwks();
    expect(keys).toHaveLength(1);
    const tenantId = await tenantWithEntries(1);
    const signed = await Promise.all(replicas.map((r) => r.createCheckpoint(tenantId)));
    expect(new Set(signed.map((s) => s!.checkpoint.kid))).toEqual(new Set([keys[0]!.kid]));
    // Racing on one head: one row, one creator, the same checkpoint for all.
    expect(signed.filter((s) => s!.created)).toHaveLength(1);
    expect(new Set(signed.map((s) => s!.checkpoint.signature)).size).toBe(1);
  });

  it('has nothing to sign or export for a tenant without events', async () => {
    const tenantId = await tenantWithEntries(0);
    expect(await evidence.createCheckpoint(tenantId)).toBeUndefined();
    await expect(evidence.checkpointNow(tenantId)).rejects.toBeInstanceOf(ProblemError);
    expect(await lines(tenantId)).toEqual([]);
    expect(await audit.verify(tenantId)).toMatchObject({ valid: true, checkpoints: 0 });
  });

  it('exports a long trail in batches, ending on the checkpoint of its last event', async () => {
    const tenantId = await tenantWithEntries(EXPORT_BATCH + 3);
    const exported = await lines(tenantId);
    expect(exported).toHaveLength(EXPORT_BATCH + 4);
    expect(exported.at(-1)).toMatchObject({ type: 'checkpoint', seq: EXPORT_BATCH + 3 });
    expect(exported.at(-2)).toMatchObject({ seq: EXPORT_BATCH + 3 });
    expect(await audit.verify(tenantId)).toMatchObject({ valid: true, checkpoints: 1 });
  });

  it('catches history rewritten and rehashed after a checkpoint', async () => {
    const tenantId = await tenantWithEntries(4);
    await evidence.createCheckpoint(tenantId);
    // Rewrite entry 2 and recompute every hash after it, as the database owner could.
    const rows = await repository.page(tenantId, 0, 10);
    let prev = rows[0]!.hash;
    const statements: string[] = [];
    for (const row of rows.slice(1)) {
      const { prevHash: _p, hash: _h, ...fields } = row;
      const action = row.seq === 2 ? 'step.rewritten' : row.action;
      const hash = chainHash(prev, { ...fields, action });
      statements.push(
        `update audit_events set action = '${action}', prev_hash = '${prev}', hash = '${hash}' where tenant_id = '${tenantId}' and seq = ${row.seq}`,
      );
      prev = hash;
    }
    statements.push(
      `update audit_chain_heads set hash = '${prev}' where tenant_id = '${tenantId}'`,
    );
    await asOwner(...statements);
    expect(await audit.verify(tenantId)).toEqual({
      valid: false,
      checked: 4,
      firstBreak: { seq: 4, reason: 'checkpoint_hash_mismatch' },
    });
  });

  it('reports forged checkpoints: bad signature, unknown key, past the end of the chain', async () => {
    const { keys } = await evidence.jwks();
    const badSignature = await tenantWithEntries(3);
    await forge(badSignature, { seq: 2, kid: keys[0]!.kid as string });
    expect(await audit.verify(badSignature)).toEqual({
      valid: false,
      checked: 2,
      firstBreak: { seq: 2, reason: 'checkpoint_signature_invalid' },
    });

    const unknownKey = await tenantWithEntries(3);
    await forge(unknownKey, { seq: 1, kid: 'no-such-key' });
    expect(await audit.verify(unknownKey)).toMatchObject({
      valid: false,
      firstBreak: { seq: 1, reason: 'checkpoint_signature_invalid' },
    });

    const beyond = await tenantWithEntries(2);
    await evidence.createCheckpoint(beyond);
    await forge(beyond, { seq: 9, kid: 'no-such-key' });
    expect(await audit.verify(beyond)).toEqual({
      valid: false,
      checked: 2,
      firstBreak: { seq: 9, reason: 'checkpoint_beyond_chain' },
    });
    // An export shows the evidence as stored: a checkpoint of an unknown key has no public key.
    expect((await lines(unknownKey)).at(-1)).toMatchObject({
      type: 'checkpoint',
      seq: 3,
      publicJwk: expect.objectContaining({ kid: keys[0]!.kid }),
    });
    expect((await lines(unknownKey, { to: new Date(0) })).at(-1)).toMatchObject({
      seq: 1,
      publicJwk: null,
    });
  });

  it('reports a chain break before a checkpoint after it', async () => {
    const tenantId = await tenantWithEntries(4);
    await evidence.createCheckpoint(tenantId);
    await asOwner(
      `update audit_events set action = 'x' where tenant_id = '${tenantId}' and seq = 2`,
    );
    expect(await audit.verify(tenantId)).toMatchObject({
      valid: false,
      firstBreak: { seq: 2, reason: 'hash_mismatch' },
    });
  });
});
