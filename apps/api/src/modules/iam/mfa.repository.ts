import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { recoveryCodes, users, type Database } from '@maxai/db';

/** SQL of second factors: a user's TOTP secret, its replay guard, and recovery codes. */
export class MfaRepository {
  constructor(private readonly db: Database) {}

  async setPendingSecret(userId: string, sealed: string): Promise<void> {
    await this.db
      .update(users)
      .set({ totpSecretEncrypted: sealed, totpEnabledAt: null, totpLastStep: null })
      .where(eq(users.id, userId));
  }

  /**
   * Records the time step of an accepted code; false when a code of this step or a later one was
   * already accepted (a replayed or older code), atomically across replicas.
   */
  async acceptStep(userId: string, step: number): Promise<boolean> {
    const rows = await this.db
      .update(users)
      .set({ totpLastStep: step })
      .where(
        and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))),
      )
      .returning({ id: users.id });
    return rows.length === 1;
  }

  /** Enables TOTP and replaces the recovery codes, in one transaction. */
  async enable(userId: string, codeHashes: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.update(users).set({ totpEnabledAt: new Date() }).where(eq(users.id, userId));
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
      await tx.insert(recoveryCodes).values(codeHashes.map((codeHash) => ({ userId, codeHash })));
    });
  }

  async replaceRecoveryCodes(userId: string, codeHashes: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
      await tx.insert(recoveryCodes).values(codeHashes.map((codeHash) => ({ userId, codeHash })));
    });
  }

  async disable(userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ totpSecretEncrypted: null, totpEnabledAt: null, totpLastStep: null })
        .where(eq(users.id, userId));
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    });
  }

  /** Spends a recovery code; false when it is unknown or already spent. */
  async spendRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const rows = await this.db
      .update(recoveryCodes)
      .set({ usedAt: sql`now()` })
      .where(
        and(
          eq(recoveryCodes.userId, userId),
          eq(recoveryCodes.codeHash, codeHash),
          isNull(recoveryCodes.usedAt),
        ),
      )
      .returning({ id: recoveryCodes.id });
    return rows.length === 1;
  }

  async unusedRecoveryCodes(userId: string): Promise<number> {
    const rows = await this.db
      .select({ id: recoveryCodes.id })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
    return rows.length;
  }
}
