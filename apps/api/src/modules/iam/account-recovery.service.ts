import type { PrincipalCache } from './principal-cache';
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { oneTimeTokens, refreshTokens, users, type Database, type Tx } from '@maxai/db';
import type { EmailSender } from '@maxai/core';
import { ProblemError } from '../../platform/errors/problem';
import type { IamRepository, UserRow } from './iam.repository';
import { hashPassword, passwordProblems } from './passwords';

type Purpose = (typeof oneTimeTokens.$inferInsert)['purpose'];
const TTL_MS: Record<Purpose, number> = {
  password_reset: 3_600_000,
  email_verification: 3 * 86_400_000,
};
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const INVALID = 'This link is not valid (used or expired). Ask for a new one.';

/** Password reset and email verification: single-use, expiring tokens delivered by email. */
export class AccountRecoveryService {
  constructor(
    private readonly db: Database,
    private readonly iam: IamRepository,
    private readonly email: EmailSender,
    private readonly publicUrl: string,
    private readonly cache: PrincipalCache,
  ) {}

  /** Always succeeds from the caller's view: whether the address has an account is not revealed. */
  async requestPasswordReset(email: string): Promise<void> {
    const user = await this.iam.findUserByEmail(email);
    if (user?.status !== 'active') return;
    const token = await this.issue(user, 'password_reset');
    await this.email.send({
      to: user.email,
      subject: 'Reset your MaxAI password',
      text: `Someone asked to reset your password. If it was you, continue within an hour: ${this.publicUrl}/reset-password?token=${token}\n\nReset token: ${token}\n\nIf it was not you, ignore this message.\n`,
    });
  }

  /** Sets the new password and signs the account out everywhere (all refresh-token families). */
  async confirmPasswordReset(token: string, password: string): Promise<string> {
    // Checked before the token is spent: a password the policy refuses does not burn the link.
    const [pending] = await this.db
      .select({ email: users.email })
      .from(oneTimeTokens)
      .innerJoin(users, eq(users.id, oneTimeTokens.userId))
      .where(this.usable(token, 'password_reset'));
    if (!pending) throw new ProblemError('not-found', INVALID);
    const problems = passwordProblems(password, pending.email);
    if (problems.length > 0) {
      throw new ProblemError('validation-error', 'The password does not meet the policy.', {
        errors: problems.map((message) => ({ field: 'password', message })),
      });
    }
    const passwordHash = await hashPassword(password);
    const userId = await this.db.transaction(async (tx) => {
      const row = await this.consume(tx, token, 'password_reset');
      await tx
        .update(users)
        .set({ passwordHash, updatedAt: sql`now()` })
        .where(eq(users.id, row.userId));
      await tx
        .update(refreshTokens)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(refreshTokens.userId, row.userId), isNull(refreshTokens.revokedAt)));
      return row.userId;
    });
    await this.cache.invalidate({ users: [userId] });
    return userId;
  }

  async requestEmailVerification(user: UserRow): Promise<void> {
    if (user.emailVerified) return;
    const token = await this.issue(user, 'email_verification');
    await this.email.send({
      to: user.email,
      subject: 'Confirm your email address',
      text: `Confirm your address for MaxAI: ${this.publicUrl}/verify-email?token=${token}\n\nVerification token: ${token}\n`,
    });
  }

  async confirmEmailVerification(token: string): Promise<void> {
    const userId = await this.db.transaction(async (tx) => {
      const row = await this.consume(tx, token, 'email_verification');
      await tx
        .update(users)
        .set({ emailVerified: true, updatedAt: sql`now()` })
        .where(eq(users.id, row.userId));
      return row.userId;
    });
    await this.cache.invalidate({ users: [userId] });
  }

  private async issue(user: UserRow, purpose: Purpose): Promise<string> {
    const token = `mxt_${randomBytes(32).toString('base64url')}`;
    await this.db.insert(oneTimeTokens).values({
      userId: user.id,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + TTL_MS[purpose]),
    });
    return token;
  }

  private usable(token: string, purpose: Purpose) {
    return and(
      eq(oneTimeTokens.tokenHash, hashToken(token)),
      eq(oneTimeTokens.purpose, purpose),
      isNull(oneTimeTokens.usedAt),
      sql`${oneTimeTokens.expiresAt} > now()`,
    );
  }

  /** Claims the unused, unexpired token of that purpose, so that a second use fails. */
  private async consume(tx: Tx, token: string, purpose: Purpose) {
    const [row] = await tx
      .update(oneTimeTokens)
      .set({ usedAt: sql`now()` })
      .where(this.usable(token, purpose))
      .returning();
    if (!row) throw new ProblemError('not-found', INVALID);
    return row;
  }
}
