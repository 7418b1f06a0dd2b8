import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { ProblemError } from '../../platform/errors/problem';
import {
  clientMemberships,
  clients,
  memberships,
  onlyRow,
  refreshTokens,
  signingKeys,
  tenants,
  userIdentities,
  users,
  withSystem,
  type Database,
  type Tx,
} from '@maxai/db';

export type UserRow = typeof users.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
export type ClientMembershipRow = typeof clientMemberships.$inferSelect;

/**
 * SQL of identities: users, memberships, sessions and signing keys. Users and sessions are
 * global (no tenant); reading a user's memberships across tenants is the one system-context
 * read, done to build the principal of an authenticated request.
 */
export class IamRepository {
  constructor(private readonly db: Database) {}

  async insertSigningKey(row: typeof signingKeys.$inferInsert): Promise<void> {
    await this.db.insert(signingKeys).values(row);
  }

  activeSigningKeys(): Promise<SigningKeyRow[]> {
    return this.db
      .select()
      .from(signingKeys)
      .where(and(eq(signingKeys.use, 'jwt'), isNull(signingKeys.retiredAt)))
      .orderBy(asc(signingKeys.createdAt));
  }

  async findUserByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email.toLowerCase()));
    return row;
  }

  async findUserById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async insertUser(tx: Tx, row: typeof users.$inferInsert): Promise<UserRow> {
    return onlyRow(
      await tx
        .insert(users)
        .values({ ...row, email: row.email.toLowerCase() })
        .returning(),
      'the inserted user',
    );
  }

  /** The user an external identity (an OpenID provider's subject) signs in as. */
  async findUserByIdentity(provider: string, subject: string): Promise<UserRow | undefined> {
    const [row] = await this.db
      .select({ user: users })
      .from(userIdentities)
      .innerJoin(users, eq(users.id, userIdentities.userId))
      .where(and(eq(userIdentities.provider, provider), eq(userIdentities.subject, subject)));
    return row?.user;
  }

  async insertIdentity(tx: Tx, row: typeof userIdentities.$inferInsert): Promise<void> {
    await tx.insert(userIdentities).values({ ...row, email: row.email.toLowerCase() });
  }

  async markEmailVerified(tx: Tx, userId: string): Promise<void> {
    await tx
      .update(users)
      .set({ emailVerified: true, updatedAt: sql`now()` })
      .where(eq(users.id, userId));
  }

  async insertMembership(tx: Tx, row: typeof memberships.$inferInsert): Promise<void> {
    await tx.insert(memberships).values(row);
  }

  /**
   * Every tenant and client role of a user in tenants that are not suspended (system context:
   * the user spans tenants).
   */
  membershipsOf(userId: string): Promise<{
    tenants: MembershipRow[];
    clients: ClientMembershipRow[];
    /** Tenants among these that require a second factor of their members. */
    mfaTenants: string[];
  }> {
    const active = eq(tenants.status, 'active');
    return withSystem(this.db, async (tx) => {
      const tenantRows = await tx
        .select()
        .from(memberships)
        .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
        .where(and(eq(memberships.userId, userId), active));
      const clientRows = await tx
        .select()
        .from(clientMemberships)
        .innerJoin(tenants, eq(tenants.id, clientMemberships.tenantId))
        .where(and(eq(clientMemberships.userId, userId), active));
      const mfaTenants = new Set(
        [...tenantRows, ...clientRows].filter((r) => r.tenants.requireMfa).map((r) => r.tenants.id),
      );
      return {
        tenants: tenantRows.map((r) => r.memberships),
        clients: clientRows.map((r) => r.client_memberships),
        mfaTenants: [...mfaTenants],
      };
    });
  }

  /** Throws 404 unless the client belongs to the tenant (keys and invitations may name one). */
  async assertClientInTenant(tx: Tx, tenantId: string, clientId: string): Promise<void> {
    const [client] = await tx
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.tenantId, tenantId), eq(clients.id, clientId)));
    if (!client) throw new ProblemError('not-found', 'No such client.');
  }

  async insertRefreshToken(row: typeof refreshTokens.$inferInsert): Promise<void> {
    await this.db.insert(refreshTokens).values(row);
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRow | undefined> {
    const [row] = await this.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hash));
    return row;
  }

  /** Marks a token used; false when it already was (by a concurrent or replayed request). */
  async markRotated(id: string): Promise<boolean> {
    const updated = await this.db
      .update(refreshTokens)
      .set({ rotatedAt: sql`now()` })
      .where(
        and(
          eq(refreshTokens.id, id),
          isNull(refreshTokens.rotatedAt),
          isNull(refreshTokens.revokedAt),
        ),
      )
      .returning({ id: refreshTokens.id });
    return updated.length === 1;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
  }
}
