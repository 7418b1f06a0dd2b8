import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import {
  clientMemberships,
  invitations,
  memberships,
  onlyRow,
  users,
  withSystem,
  withTenant,
  type Database,
  type Tx,
} from '@maxai/db';
import type { EmailSender } from '@maxai/core';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { Authenticated } from './auth.guard';
import type { RequestMeta } from './auth.service';
import type { PrincipalCache } from './principal-cache';
import type { IamRepository } from './iam.repository';
import { hashPassword, passwordProblems } from './passwords';
import type { ClientRole, TenantRole } from './permissions';

export type InvitationRow = typeof invitations.$inferSelect;
const INVITATION_TTL_MS = 7 * 86_400_000;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface MemberView {
  userId: string;
  email: string;
  name: string | null;
  role: TenantRole | null;
  clients: { clientId: string; role: ClientRole }[];
}

/** Members of a tenant, and invitations to become one. */
export class MembersService {
  constructor(
    private readonly db: Database,
    private readonly iam: IamRepository,
    private readonly audit: AuditService,
    private readonly email: EmailSender,
    private readonly publicUrl: string,
    private readonly cache: PrincipalCache,
  ) {}

  list(tenantId: string): Promise<MemberView[]> {
    return withTenant(this.db, tenantId, async (tx) => {
      const tenantRoles = await tx
        .select({
          userId: memberships.userId,
          role: memberships.role,
          email: users.email,
          name: users.name,
        })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.tenantId, tenantId));
      const clientRoles = await tx
        .select({
          userId: clientMemberships.userId,
          clientId: clientMemberships.clientId,
          role: clientMemberships.role,
          email: users.email,
          name: users.name,
        })
        .from(clientMemberships)
        .innerJoin(users, eq(users.id, clientMemberships.userId))
        .where(eq(clientMemberships.tenantId, tenantId));
      const byUser = new Map<string, MemberView>();
      for (const m of tenantRoles)
        byUser.set(m.userId, {
          userId: m.userId,
          email: m.email,
          name: m.name,
          role: m.role,
          clients: [],
        });
      for (const c of clientRoles) {
        const member = byUser.get(c.userId) ?? {
          userId: c.userId,
          email: c.email,
          name: c.name,
          role: null,
          clients: [],
        };
        member.clients.push({ clientId: c.clientId, role: c.role });
        byUser.set(c.userId, member);
      }
      return [...byUser.values()].sort((a, b) => a.email.localeCompare(b.email));
    });
  }

  /** Changes a member's tenant role. Only an owner grants or takes away ownership; the last owner stays. */
  async setRole(
    caller: Authenticated,
    tenantId: string,
    userId: string,
    role: TenantRole,
    meta: RequestMeta,
  ): Promise<void> {
    await withTenant(this.db, tenantId, async (tx) => {
      const current = await this.membershipOf(tx, tenantId, userId);
      if (!current) throw new ProblemError('not-found', 'No such member.');
      if ((role === 'owner' || current.role === 'owner') && !this.isOwner(caller, tenantId)) {
        throw new ProblemError('forbidden', 'Only an owner can grant or take away ownership.');
      }
      if (current.role === 'owner' && role !== 'owner')
        await this.assertAnotherOwner(tx, tenantId, userId);
      await tx
        .update(memberships)
        .set({ role })
        .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)));
      await this.record(tx, caller, meta, tenantId, 'member.role_changed', userId, {
        from: current.role,
        to: role,
      });
    });
    await this.cache.invalidate({ users: [userId] });
  }

  async remove(
    caller: Authenticated,
    tenantId: string,
    userId: string,
    meta: RequestMeta,
  ): Promise<void> {
    await withTenant(this.db, tenantId, async (tx) => {
      const current = await this.membershipOf(tx, tenantId, userId);
      const clientRoles = await tx
        .delete(clientMemberships)
        .where(and(eq(clientMemberships.tenantId, tenantId), eq(clientMemberships.userId, userId)))
        .returning();
      if (!current && clientRoles.length === 0)
        throw new ProblemError('not-found', 'No such member.');
      if (current?.role === 'owner') {
        if (!this.isOwner(caller, tenantId))
          throw new ProblemError('forbidden', 'Only an owner can remove an owner.');
        await this.assertAnotherOwner(tx, tenantId, userId);
      }
      await tx
        .delete(memberships)
        .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)));
      await this.record(tx, caller, meta, tenantId, 'member.removed', userId);
    });
    await this.cache.invalidate({ users: [userId] });
  }

  /** Invites an email with a tenant role, or a client role on one client; emails a one-time link. */
  async invite(
    caller: Authenticated,
    tenantId: string,
    input: {
      email: string;
      role?: TenantRole | undefined;
      clientId?: string | undefined;
      clientRole?: ClientRole | undefined;
    },
    meta: RequestMeta,
  ): Promise<InvitationRow> {
    if (input.role === 'owner' && !this.isOwner(caller, tenantId)) {
      throw new ProblemError('forbidden', 'Only an owner can invite another owner.');
    }
    const token = `mxi_${randomBytes(32).toString('base64url')}`;
    const email = input.email.toLowerCase();
    const row = await withTenant(this.db, tenantId, async (tx) => {
      if (input.clientId) await this.iam.assertClientInTenant(tx, tenantId, input.clientId);
      const created = onlyRow(
        await tx
          .insert(invitations)
          .values({
            tenantId,
            email,
            role: input.role ?? null,
            clientId: input.clientId ?? null,
            clientRole: input.clientRole ?? null,
            tokenHash: hashToken(token),
            invitedBy: caller.actor.id,
            expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
          })
          .returning(),
        'the new invitation',
      );
      await this.record(tx, caller, meta, tenantId, 'invitation.created', created.id, {
        email,
        role: input.role ?? null,
        clientId: input.clientId ?? null,
        clientRole: input.clientRole ?? null,
      });
      return created;
    });
    await this.email.send({
      to: email,
      subject: 'You are invited to MaxAI',
      text: `You have been invited to join a workspace on MaxAI.\n\nAccept within 7 days: ${this.publicUrl}/accept-invitation?token=${token}\n\nInvitation token: ${token}\n`,
    });
    return row;
  }

  listInvitations(tenantId: string): Promise<InvitationRow[]> {
    return withTenant(this.db, tenantId, (tx) =>
      tx
        .select()
        .from(invitations)
        .where(eq(invitations.tenantId, tenantId))
        .orderBy(asc(invitations.id)),
    );
  }

  revokeInvitation(
    caller: Authenticated,
    tenantId: string,
    invitationId: string,
    meta: RequestMeta,
  ): Promise<void> {
    return withTenant(this.db, tenantId, async (tx) => {
      const [row] = await tx
        .update(invitations)
        .set({ revokedAt: sql`coalesce(${invitations.revokedAt}, now())` })
        .where(
          and(
            eq(invitations.tenantId, tenantId),
            eq(invitations.id, invitationId),
            isNull(invitations.acceptedAt),
          ),
        )
        .returning();
      if (!row) throw new ProblemError('not-found', 'No such open invitation.');
      await this.record(tx, caller, meta, tenantId, 'invitation.revoked', invitationId);
    });
  }

  /**
   * Accepts an invitation. The token proves control of the invited address: an existing account
   * with that email joins; otherwise one is created with the given password (email verified).
   */
  async accept(
    input: { token: string; password?: string | undefined; name?: string | undefined },
    meta: RequestMeta,
  ): Promise<string> {
    const found = await withSystem(this.db, async (tx) => {
      const [row] = await tx
        .select()
        .from(invitations)
        .where(eq(invitations.tokenHash, hashToken(input.token)));
      return row;
    });
    if (!found || found.acceptedAt || found.revokedAt || found.expiresAt.getTime() <= Date.now()) {
      throw new ProblemError(
        'not-found',
        'This invitation is not valid (used, revoked or expired).',
      );
    }
    const existing = await this.iam.findUserByEmail(found.email);
    if (!existing) {
      const problems =
        input.password === undefined
          ? ['is required to create your account']
          : passwordProblems(input.password, found.email);
      if (problems.length > 0) {
        throw new ProblemError('validation-error', 'A password is needed for the new account.', {
          errors: problems.map((message) => ({ field: 'password', message })),
        });
      }
    }
    const passwordHash = existing ? null : await hashPassword(input.password ?? '');
    const userId = await withTenant(this.db, found.tenantId, async (tx) => {
      const claimed = await tx
        .update(invitations)
        .set({ acceptedAt: sql`now()` })
        .where(
          and(
            eq(invitations.tenantId, found.tenantId),
            eq(invitations.id, found.id),
            isNull(invitations.acceptedAt),
          ),
        )
        .returning();
      if (claimed.length === 0)
        throw new ProblemError(
          'not-found',
          'This invitation is not valid (used, revoked or expired).',
        );
      const user =
        existing ??
        (await this.iam.insertUser(tx, {
          email: found.email,
          passwordHash,
          name: input.name ?? null,
          emailVerified: true,
        }));
      if (found.role) {
        await tx
          .insert(memberships)
          .values({ tenantId: found.tenantId, userId: user.id, role: found.role })
          .onConflictDoUpdate({
            target: [memberships.tenantId, memberships.userId],
            set: { role: found.role },
          });
      }
      if (found.clientId && found.clientRole) {
        await tx
          .insert(clientMemberships)
          .values({
            tenantId: found.tenantId,
            clientId: found.clientId,
            userId: user.id,
            role: found.clientRole,
          })
          .onConflictDoUpdate({
            target: [
              clientMemberships.tenantId,
              clientMemberships.clientId,
              clientMemberships.userId,
            ],
            set: { role: found.clientRole },
          });
      }
      await this.audit.record(tx, {
        tenantId: found.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'invitation.accepted',
        target: { type: 'invitation', id: found.id },
        ...meta,
      });
      return user.id;
    });
    await this.cache.invalidate({ users: [userId] });
    return userId;
  }

  private async membershipOf(tx: Tx, tenantId: string, userId: string) {
    const [row] = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)));
    return row;
  }

  private isOwner(caller: Authenticated, tenantId: string): boolean {
    return (
      caller.principal.platformRole === 'platform_admin' ||
      caller.principal.memberships.get(tenantId)?.role === 'owner'
    );
  }

  private async assertAnotherOwner(tx: Tx, tenantId: string, userId: string): Promise<void> {
    const owners = await tx
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, 'owner')));
    if (!owners.some((o) => o.userId !== userId)) {
      throw new ProblemError('conflict', 'A tenant keeps at least one owner.');
    }
  }

  private async record(
    tx: Tx,
    caller: Authenticated,
    meta: RequestMeta,
    tenantId: string,
    action: string,
    targetId: string,
    changes?: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record(tx, {
      tenantId,
      actor: caller.actor,
      action,
      target: { type: action.slice(0, action.indexOf('.')), id: targetId },
      ...(changes ? { changes } : {}),
      ...meta,
    });
  }
}
