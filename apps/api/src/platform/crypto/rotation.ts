import { signingKeys, withSystem, type Database } from '@maxai/db';
import { eq } from 'drizzle-orm';
import type { TenantSecrets } from './envelope';
import type { SecretBox } from './secret-box';

export interface RotationReport {
  dataKeys: number;
  signingKeys: number;
}

/**
 * Moves everything sealed directly under the master key to the current one: tenant data keys are
 * re-wrapped (the secrets they seal stay as they are) and signing keys re-sealed. Online: every
 * replica holding both keys (MASTER_KEY new, MASTER_KEY_PREVIOUS old) opens old and new alike
 * while this runs, in one transaction.
 */
export function rotateMasterKey(
  db: Database,
  box: SecretBox,
  secrets: TenantSecrets,
): Promise<RotationReport> {
  return withSystem(db, async (tx) => {
    const dataKeys = await secrets.rewrapAll(tx);
    let resealed = 0;
    for (const row of await tx.select().from(signingKeys)) {
      const [keyId] = row.privateJwkEncrypted.split('.').slice(1, 2);
      if (keyId === box.keyId) continue;
      const context = `signing-key:${row.kid}`;
      const plain = box.open(row.privateJwkEncrypted, context);
      await tx
        .update(signingKeys)
        .set({ privateJwkEncrypted: box.seal(plain, context) })
        .where(eq(signingKeys.kid, row.kid));
      resealed += 1;
    }
    return { dataKeys, signingKeys: resealed };
  });
}
