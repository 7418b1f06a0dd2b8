import { randomBytes } from 'node:crypto';
import {
  signingKeys,
  tenantDataKeys,
  withSystem,
  withTenant,
  type DatabaseHandle,
} from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EnvKms, TenantSecrets } from '../src/platform/crypto/envelope';
import { rotateMasterKey } from '../src/platform/crypto/rotation';
import { SecretBox, masterKeyId } from '../src/platform/crypto/secret-box';
import { DATABASE } from '../src/platform/database/database.module';
import { spawnTs } from './support/child-process';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let db: DatabaseHandle['db'];
const oldKey = randomBytes(32);
/** Master keys the rotations below move to, in order. */
const knownKeys: Buffer[] = [];

beforeAll(async () => {
  t = await startTestApp('api', { MASTER_KEY: oldKey.toString('base64') });
  db = t.app.get<DatabaseHandle>(DATABASE).db;
});
afterAll(() => t.close());

const secretsUnder = (key: Buffer, previous: Buffer[] = []) =>
  new TenantSecrets(new EnvKms(new SecretBox(key, previous)));

describe('envelope encryption of tenant secrets', () => {
  it('seals with a per-tenant data key, bound to its tenant and record', async () => {
    const secrets = secretsUnder(oldKey);
    const [a, b] = [uuidv7(), uuidv7()];
    const sealed = await withTenant(db, a, (tx) => secrets.seal(tx, a, 'token-123', 'conn-1'));
    expect(sealed).toMatch(/^v1\.[0-9a-f-]{36}\./);
    expect(sealed).not.toContain('token-123');
    // A fresh IV each time: the same secret never seals the same way twice.
    const again = await withTenant(db, a, (tx) => secrets.seal(tx, a, 'token-123', 'conn-1'));
    expect(again).not.toBe(sealed);
    expect(await withTenant(db, a, (tx) => secrets.open(tx, a, sealed, 'conn-1'))).toBe(
      'token-123',
    );
    // Moved to another record or tenant, it does not open.
    await expect(
      withTenant(db, a, (tx) => secrets.open(tx, a, sealed, 'conn-2')),
    ).rejects.toThrow();
    await expect(withTenant(db, b, (tx) => secrets.open(tx, b, sealed, 'conn-1'))).rejects.toThrow(
      /data key/,
    );
    await expect(
      withTenant(db, a, (tx) => secrets.open(tx, a, 'v2.x.y', 'conn-1')),
    ).rejects.toThrow(/not a sealed value/);
    await expect(
      withTenant(db, a, (tx) =>
        secrets.open(tx, a, sealed.split('.').slice(0, 3).join('.'), 'conn-1'),
      ),
    ).rejects.toThrow(/not a sealed value/);
    // Another process (cold cache) opens it from the wrapped key.
    const cold = secretsUnder(oldKey);
    expect(await withTenant(db, a, (tx) => cold.open(tx, a, sealed, 'conn-1'))).toBe('token-123');
    const keys = await withTenant(db, a, (tx) => tx.select().from(tenantDataKeys));
    expect(keys).toHaveLength(1);
    expect(keys[0]!.kekId).toBe(masterKeyId(oldKey));
    expect(keys[0]!.wrappedKey).not.toBe('');
  });

  it('keeps sealing with the current data key without reading it again, but never an uncommitted one', async () => {
    const secrets = secretsUnder(oldKey);
    const tenant = uuidv7();
    // The first key is created, then read back, inside a transaction that rolls back.
    const rolledBack = new Error('roll back');
    await expect(
      withTenant(db, tenant, async (tx) => {
        await secrets.seal(tx, tenant, 'one', 'rec-1');
        await secrets.seal(tx, tenant, 'two', 'rec-2');
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    // So the next seal makes a key that commits, and another process opens what it sealed.
    const sealed = await withTenant(db, tenant, (tx) => secrets.seal(tx, tenant, 'three', 'rec-3'));
    const cold = secretsUnder(oldKey);
    expect(await withTenant(db, tenant, (tx) => cold.open(tx, tenant, sealed, 'rec-3'))).toBe(
      'three',
    );
    // Once read from a committed row, the key is remembered: sealing reads nothing.
    await withTenant(db, tenant, (tx) => secrets.seal(tx, tenant, 'four', 'rec-4'));
    const again = await withTenant(db, tenant, async (tx) => {
      const select = vi.spyOn(tx, 'select');
      const value = await secrets.seal(tx, tenant, 'five', 'rec-5');
      expect(select).not.toHaveBeenCalled();
      return value;
    });
    expect(again.split('.')[1]).toBe(sealed.split('.')[1]);
  });

  it('re-wraps data keys and re-seals signing keys under a new master key, online', async () => {
    const tenantId = uuidv7();
    const before = secretsUnder(oldKey);
    const sealed = await withTenant(db, tenantId, (tx) =>
      before.seal(tx, tenantId, 'refresh-xyz', 'conn'),
    );
    const newKey = randomBytes(32);
    knownKeys.push(newKey);
    const box = new SecretBox(newKey, [oldKey]);
    const during = new TenantSecrets(new EnvKms(box));
    // Both keys known: old wraps still open while the rotation has not run.
    expect(await withTenant(db, tenantId, (tx) => during.open(tx, tenantId, sealed, 'conn'))).toBe(
      'refresh-xyz',
    );
    const report = await rotateMasterKey(db, box, during);
    expect(report.dataKeys).toBeGreaterThanOrEqual(1);
    expect(report.signingKeys).toBeGreaterThanOrEqual(2);
    expect(await rotateMasterKey(db, box, during)).toEqual({ dataKeys: 0, signingKeys: 0 });
    // Only the new key from now on: the secret (never re-encrypted) still opens.
    const after = secretsUnder(newKey);
    expect(await withTenant(db, tenantId, (tx) => after.open(tx, tenantId, sealed, 'conn'))).toBe(
      'refresh-xyz',
    );
    const keys = await withSystem(db, (tx) => tx.select().from(signingKeys));
    for (const key of keys) expect(key.privateJwkEncrypted.split('.')[1]).toBe(masterKeyId(newKey));
    await expect(
      withTenant(db, tenantId, (tx) =>
        secretsUnder(randomBytes(32)).open(tx, tenantId, sealed, 'conn'),
      ),
    ).rejects.toThrow(/unknown master key/);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('npm run keys:rotate', () => {
  it('rotates through the command line and reports what it did', async () => {
    const next = randomBytes(32);
    // The app above already moved to a newer key in the previous test; this run moves on again.
    const run = spawnTs('apps/api/src/keys-rotate-cli.ts', {
      DATABASE_URL: t.config.DATABASE_URL,
      REDIS_URL: '',
      LOG_LEVEL: 'silent',
      MASTER_KEY: next.toString('base64'),
      // Every key this database has seen.
      MASTER_KEY_PREVIOUS: [oldKey, ...knownKeys].map((k) => k.toString('base64')).join(','),
    });
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/re-sealed \d+ signing key\(s\) under master key/);
    const resealed = await withSystem(db, (tx) => tx.select().from(signingKeys));
    for (const key of resealed)
      expect(key.privateJwkEncrypted.split('.')[1]).toBe(masterKeyId(next));
  });
});
