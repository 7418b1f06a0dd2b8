import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KmsPort } from '@maxai/core';
import { tenantDataKeys, type Tx } from '@maxai/db';
import { and, desc, eq, getTableColumns, sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import type { SecretBox } from './secret-box';

/**
 * The env-key KMS adapter: data keys wrapped with AES-256-GCM under the master key held by the
 * process (MASTER_KEY; earlier keys in MASTER_KEY_PREVIOUS still unwrap). A cloud KMS adapter
 * implements the same port by sending the data key to the KMS instead.
 */
export class EnvKms implements KmsPort {
  constructor(private readonly box: SecretBox) {}

  get currentKeyId(): string {
    return this.box.keyId;
  }

  wrap(dataKey: Buffer, context: string): Promise<{ keyId: string; wrapped: string }> {
    return Promise.resolve({
      keyId: this.box.keyId,
      wrapped: gcmSeal(this.box.currentKey, dataKey, context),
    });
  }

  unwrap(wrapped: string, keyId: string, context: string): Promise<Buffer> {
    const key = this.box.keyFor(keyId);
    if (!key) return Promise.reject(new Error(`unknown master key ${keyId}`));
    return Promise.resolve(gcmOpen(key, wrapped, context));
  }
}

/**
 * Envelope encryption of tenant secrets (ARCHITECTURE.md §7): each tenant has a data key,
 * wrapped by the master key through the KMS port; a secret is sealed with AES-256-GCM under the
 * tenant's data key, a random 96-bit IV, and associated data binding it to its record (a sealed
 * value copied to another tenant or connection does not open). A sealed value names its data
 * key: `v1.<dataKeyId>.<iv>.<tag>.<ciphertext>`. Unwrapped data keys are cached in memory.
 */
export class TenantSecrets {
  private readonly keys = new Map<string, Buffer>();
  /**
   * Each tenant's current data key, as last read from the database: sealing then needs no
   * round trip. Only a committed row is remembered (not a key created by the caller's own
   * transaction, which may still roll back), and only for CURRENT_KEY_TTL_MS, so a newer data
   * key is picked up soon; sealing under the previous one meanwhile is harmless (it opens).
   */
  private readonly current = new Map<string, { id: string; key: Buffer; until: number }>();

  constructor(private readonly kms: KmsPort) {}

  /** Seals inside the caller's `withTenant` transaction (the data key row is RLS-scoped). */
  async seal(tx: Tx, tenantId: string, plaintext: string, aad: string): Promise<string> {
    const { id, key } = await this.currentKey(tx, tenantId);
    return `v1.${id}.${gcmSeal(key, Buffer.from(plaintext, 'utf8'), `${tenantId}:${aad}`)}`;
  }

  async open(tx: Tx, tenantId: string, sealed: string, aad: string): Promise<string> {
    const [version, dataKeyId, ...rest] = sealed.split('.');
    if (version !== 'v1' || !dataKeyId || rest.length !== 3) throw new Error('not a sealed value');
    const key = await this.keyById(tx, tenantId, dataKeyId);
    return gcmOpen(key, rest.join('.'), `${tenantId}:${aad}`).toString('utf8');
  }

  /**
   * Re-wraps every data key not under the current master key (run in system context); the
   * secrets themselves are untouched. Answers how many keys were re-wrapped.
   */
  async rewrapAll(tx: Tx): Promise<number> {
    const rows = await tx.select().from(tenantDataKeys);
    let rewrapped = 0;
    for (const row of rows) {
      if (row.kekId === this.kms.currentKeyId) continue;
      const context = dataKeyContext(row.tenantId, row.id);
      const key = await this.kms.unwrap(row.wrappedKey, row.kekId, context);
      const { keyId, wrapped } = await this.kms.wrap(key, context);
      await tx
        .update(tenantDataKeys)
        .set({ kekId: keyId, wrappedKey: wrapped, rewrappedAt: new Date() })
        .where(and(eq(tenantDataKeys.tenantId, row.tenantId), eq(tenantDataKeys.id, row.id)));
      rewrapped += 1;
    }
    return rewrapped;
  }

  private async currentKey(tx: Tx, tenantId: string): Promise<{ id: string; key: Buffer }> {
    const cached = this.current.get(tenantId);
    if (cached && cached.until > Date.now()) return cached;
    const [row] = await tx
      .select({
        ...getTableColumns(tenantDataKeys),
        // Created before this transaction began, hence committed: `created_at` defaults to
        // now(), the start of the creating transaction (savepoints included).
        settled: sql<boolean>`${tenantDataKeys.createdAt} < now()`,
      })
      .from(tenantDataKeys)
      .where(eq(tenantDataKeys.tenantId, tenantId))
      .orderBy(desc(tenantDataKeys.createdAt))
      .limit(1);
    if (row) {
      const current = {
        id: row.id,
        key: await this.unwrapRow(row),
        until: Date.now() + CURRENT_KEY_TTL_MS,
      };
      if (row.settled) this.current.set(tenantId, current);
      return current;
    }
    const key = randomBytes(32);
    const id = uuidv7();
    const { keyId, wrapped } = await this.kms.wrap(key, dataKeyContext(tenantId, id));
    await tx.insert(tenantDataKeys).values({ tenantId, id, kekId: keyId, wrappedKey: wrapped });
    this.keys.set(`${tenantId}:${id}`, key);
    return { id, key };
  }

  private async keyById(tx: Tx, tenantId: string, id: string): Promise<Buffer> {
    const cached = this.keys.get(`${tenantId}:${id}`);
    if (cached) return cached;
    const [row] = await tx
      .select()
      .from(tenantDataKeys)
      .where(and(eq(tenantDataKeys.tenantId, tenantId), eq(tenantDataKeys.id, id)));
    if (!row) throw new Error('the data key of this secret is missing');
    return this.unwrapRow(row);
  }

  private async unwrapRow(row: typeof tenantDataKeys.$inferSelect): Promise<Buffer> {
    const cacheKey = `${row.tenantId}:${row.id}`;
    const cached = this.keys.get(cacheKey);
    if (cached) return cached;
    const key = await this.kms.unwrap(
      row.wrappedKey,
      row.kekId,
      dataKeyContext(row.tenantId, row.id),
    );
    this.keys.set(cacheKey, key);
    return key;
  }
}

const CURRENT_KEY_TTL_MS = 60_000;

const dataKeyContext = (tenantId: string, id: string) => `data-key:${tenantId}:${id}`;

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url')).join('.');
}

function gcmOpen(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, tag, ciphertext] = sealed.split('.');
  if (!iv || !tag || ciphertext === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
}
