import { tenants, withTenant, type Database } from '@maxai/db';
import { uuidv7 } from 'uuidv7';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { IamRepository, UserRow } from './iam.repository';
import type { SecretBox } from '../../platform/crypto/secret-box';
import type { LoginThrottle } from './login-throttle';
import { sealChallenge, type MfaChallenge, type SignInMethod } from './mfa-challenge';
import { hashPassword, passwordProblems, verifyPassword } from './passwords';
import {
  effectivePermissions,
  type ClientRole,
  type Principal,
  type TenantRole,
} from './permissions';
import { hashRefreshToken, newRefreshToken, type TokenService } from './token.service';

export interface Session {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

/** A session as issued, with its id (the refresh-token family) for the cookie transport. */
export interface IssuedSession extends Session {
  sessionId: string;
}

/** Called with the session id before a refresh or sign-out acts (the cookie path's CSRF check). */
export type SessionCheck = (sessionId: string) => void;

/** A user as an access token's subject: the principal and the tenants that demand MFA. */
export interface LoadedUser {
  user: UserRow;
  principal: Principal;
  mfaTenants: ReadonlySet<string>;
}

export interface RequestMeta {
  ip?: string;
  userAgent?: string;
}

const INVALID_CREDENTIALS = 'The email or password is not correct.';
const INVALID_SESSION = 'The refresh token is not valid. Sign in again.';

/** Sign-up, sign-in, session rotation and the principal behind an access token. */
export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly repository: IamRepository,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottle,
    private readonly box: SecretBox,
    private readonly options: { accessTtlS: number; refreshTtlDays: number },
  ) {}

  /** Creates a user and their tenant (the user is its owner) and signs them in. */
  async signup(
    input: { email: string; password: string; name?: string | undefined; tenantName: string },
    meta: RequestMeta,
  ): Promise<IssuedSession> {
    const problems = passwordProblems(input.password, input.email);
    if (problems.length > 0) {
      throw new ProblemError('validation-error', 'The password does not meet the policy.', {
        errors: problems.map((message) => ({ field: 'password', message })),
      });
    }
    if (await this.repository.findUserByEmail(input.email)) {
      // Said the same way as success would not be: sign-up reveals taken emails by nature;
      // the message does not add which tenant or anything else.
      throw new ProblemError(
        'conflict',
        'An account with this email already exists. Sign in instead.',
      );
    }
    const passwordHash = await hashPassword(input.password);
    const tenantId = uuidv7();
    const user = await withTenant(this.db, tenantId, async (tx) => {
      const created = await this.repository.insertUser(tx, {
        email: input.email,
        passwordHash,
        name: input.name ?? null,
      });
      await tx.insert(tenants).values({ id: tenantId, name: input.tenantName });
      await this.repository.insertMembership(tx, { tenantId, userId: created.id, role: 'owner' });
      const actor = { type: 'user' as const, id: created.id };
      await this.audit.record(tx, {
        tenantId,
        actor,
        action: 'tenant.created',
        target: { type: 'tenant', id: tenantId },
        changes: { name: input.tenantName },
        ...meta,
      });
      await this.audit.record(tx, {
        tenantId,
        actor,
        action: 'auth.signed_up',
        target: { type: 'user', id: created.id },
        ...meta,
      });
      return created;
    });
    return this.startSession(user);
  }

  async login(
    input: { email: string; password: string },
    meta: RequestMeta,
  ): Promise<IssuedSession | MfaChallenge> {
    const ip = meta.ip ?? 'unknown';
    await this.throttle.assertOpen(input.email, ip);
    const user = await this.repository.findUserByEmail(input.email);
    const valid = await verifyPassword(user?.passwordHash, input.password);
    if (!user || !valid || user.status !== 'active') {
      await this.throttle.failed(input.email, ip);
      if (user) await this.auditEverywhere(user.id, 'auth.sign_in', 'failure', meta);
      throw new ProblemError('unauthorized', INVALID_CREDENTIALS);
    }
    await this.throttle.succeeded(input.email);
    return this.signInVerified(user, meta, 'password');
  }

  /**
   * Signs in a user whose first factor is proven (a password, an OpenID provider's id token).
   * With two-factor sign-in on, the answer is a challenge to complete at /v1/auth/mfa/verify.
   */
  async signInVerified(
    user: UserRow,
    meta: RequestMeta,
    method: SignInMethod,
  ): Promise<IssuedSession | MfaChallenge> {
    if (user.totpEnabledAt) return sealChallenge(this.box, user.id, method);
    await this.auditEverywhere(user.id, 'auth.sign_in', 'success', meta, { method });
    return this.issue(user, uuidv7(), false);
  }

  /** Opens a session after both factors passed: the session carries `mfa` through rotations. */
  async signInWithSecondFactor(
    user: UserRow,
    meta: RequestMeta,
    method: SignInMethod,
  ): Promise<IssuedSession> {
    await this.auditEverywhere(user.id, 'auth.sign_in', 'success', meta, { method, mfa: true });
    return this.issue(user, uuidv7(), true);
  }

  /**
   * Rotates a refresh token. A token used twice means a copy exists (stolen, or replayed):
   * its whole family is revoked, signing out every holder.
   */
  async refresh(token: string, check?: SessionCheck): Promise<IssuedSession> {
    const row = await this.repository.findRefreshToken(hashRefreshToken(token));
    if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) {
      throw new ProblemError('unauthorized', INVALID_SESSION);
    }
    check?.(row.familyId);
    if (row.rotatedAt || !(await this.repository.markRotated(row.id))) {
      await this.repository.revokeFamily(row.familyId);
      throw new ProblemError('unauthorized', INVALID_SESSION);
    }
    const user = await this.repository.findUserById(row.userId);
    if (user?.status !== 'active') throw new ProblemError('unauthorized', INVALID_SESSION);
    return this.issue(user, row.familyId, row.mfa);
  }

  /** Ends the session the refresh token belongs to (idempotent). */
  async logout(token: string, meta: RequestMeta, check?: SessionCheck): Promise<void> {
    const row = await this.repository.findRefreshToken(hashRefreshToken(token));
    if (!row) return;
    check?.(row.familyId);
    await this.repository.revokeFamily(row.familyId);
    await this.auditEverywhere(row.userId, 'auth.sign_out', 'success', meta);
  }

  /** The principal of a verified access token, read fresh: removed members lose access at once. */
  async principal(userId: string): Promise<LoadedUser | undefined> {
    const user = await this.repository.findUserById(userId);
    if (user?.status !== 'active') return undefined;
    const {
      tenants: tenantRoles,
      clients,
      mfaTenants,
    } = await this.repository.membershipsOf(userId);
    const memberships = new Map<
      string,
      { role?: TenantRole | undefined; clients: Map<string, ClientRole> }
    >();
    for (const m of tenantRoles)
      memberships.set(m.tenantId, { role: m.role ?? undefined, clients: new Map() });
    for (const c of clients) {
      const entry = memberships.get(c.tenantId) ?? { clients: new Map<string, ClientRole>() };
      entry.clients.set(c.clientId, c.role);
      memberships.set(c.tenantId, entry);
    }
    return {
      user,
      principal: {
        kind: 'user',
        id: user.id,
        platformRole: user.platformRole ?? undefined,
        memberships,
      },
      mfaTenants: new Set(mfaTenants),
    };
  }

  /** What `GET /v1/me` shows: the user, each membership and its effective permissions. */
  describe(user: UserRow, principal: Principal) {
    return {
      user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerified },
      platformRole: principal.platformRole ?? null,
      memberships: [...principal.memberships].map(([tenantId, m]) => ({
        tenantId,
        role: m.role ?? null,
        clients: [...m.clients].map(([clientId, role]) => ({ clientId, role })),
        permissions: effectivePermissions(principal, tenantId),
      })),
    };
  }

  private startSession(user: UserRow): Promise<IssuedSession> {
    return this.issue(user, uuidv7(), false);
  }

  /** A new session for a user who proved who they are another way (an accepted invitation). */
  async sessionFor(userId: string): Promise<IssuedSession> {
    const user = await this.repository.findUserById(userId);
    if (user?.status !== 'active') throw new ProblemError('unauthorized', INVALID_SESSION);
    return this.startSession(user);
  }

  private async issue(user: UserRow, familyId: string, mfa: boolean): Promise<IssuedSession> {
    const refresh = newRefreshToken();
    await this.repository.insertRefreshToken({
      userId: user.id,
      familyId,
      mfa,
      tokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.options.refreshTtlDays * 86_400_000),
    });
    return {
      tokenType: 'Bearer',
      accessToken: await this.tokens.issueAccessToken({ sub: user.id, sid: familyId, mfa }),
      expiresIn: this.options.accessTtlS,
      refreshToken: refresh.token,
      sessionId: familyId,
    };
  }

  /** Records an account event (e.g. a password reset) on each tenant trail the user is on. */
  recordAccountEvent(
    userId: string,
    action: string,
    meta: RequestMeta,
    details: { outcome?: 'success' | 'failure'; changes?: Record<string, unknown> } = {},
  ): Promise<void> {
    return this.auditEverywhere(
      userId,
      action,
      details.outcome ?? 'success',
      meta,
      details.changes,
    );
  }

  /** Sign-in events belong to the user, who may span tenants: each tenant's trail gets one. */
  private async auditEverywhere(
    userId: string,
    action: string,
    outcome: 'success' | 'failure',
    meta: RequestMeta,
    changes?: Record<string, unknown>,
  ): Promise<void> {
    const { tenants: tenantRoles, clients } = await this.repository.membershipsOf(userId);
    const tenantIds = new Set([...tenantRoles, ...clients].map((m) => m.tenantId));
    for (const tenantId of tenantIds) {
      await withTenant(this.db, tenantId, (tx) =>
        this.audit.record(tx, {
          tenantId,
          actor: { type: 'user', id: userId },
          action,
          outcome,
          target: { type: 'user', id: userId },
          ...(changes ? { changes } : {}),
          ...meta,
        }),
      );
    }
  }
}
