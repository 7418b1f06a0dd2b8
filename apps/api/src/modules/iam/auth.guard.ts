import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { withTenant, type DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../../platform/database/database.module';
import { ProblemError } from '../../platform/errors/problem';
import { AuditService } from '../audit/audit.service';
import { AuthService, type RequestMeta } from './auth.service';
import type { UserRow } from './iam.repository';
import {
  canSee,
  clientsGranted,
  isAllowed,
  isAllowedOnPlatform,
  type Permission,
  type Principal,
} from './permissions';
import { API_KEY_PREFIX, ApiKeysService } from './api-keys.service';
import { PrincipalCache, userKey } from './principal-cache';
import { SessionCookies } from './session-cookies';
import { TokenService } from './token.service';

export interface Authenticated {
  principal: Principal;
  /** Who to name in the audit trail. */
  actor: { type: 'user' | 'api_key'; id: string };
  /** The signed-in user; absent for API keys. */
  user?: UserRow | undefined;
  sessionId?: string | undefined;
  /** The session was opened with a second factor. */
  mfa?: boolean | undefined;
  /** Tenants (of the user's memberships) that require a second factor. */
  mfaTenants?: ReadonlySet<string> | undefined;
}

export type AuthenticatedRequest = FastifyRequest & { auth?: Authenticated };

const PERMISSION = Symbol('permission');
const WITHOUT_MFA = Symbol('allow-without-mfa');
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The gateway check. Authenticates the bearer token, loads the principal, and — for a route that
 * declares a permission — checks it against the tenant (and client) named in the path. A tenant
 * or client the principal cannot see at all answers 404, so ids of others do not even confirm
 * existence; one it can see without this permission answers 403. Services check again against
 * the resource actually loaded (the service-layer check), and RLS scopes every query.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
    @Inject(PrincipalCache) private readonly cache: PrincipalCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookie = bearer ? undefined : this.cookies.accessToken(request);
    const token = bearer ?? cookie;
    if (!token) throw unauthorized('A bearer access token is required.');
    const loaded = await this.authenticate(token, cookie !== undefined);
    // A cookie rides along with any request the browser makes, even one a foreign page
    // triggered: state changes by cookie need the session's CSRF token as well.
    if (cookie && !SAFE_METHODS.has(request.method)) {
      if (!loaded.sessionId || !this.cookies.csrfValid(request, loaded.sessionId)) {
        throw csrfFailed();
      }
    }
    request.auth = loaded;
    const handler = context.getHandler();
    const mfaExempt = this.reflector.get<boolean | undefined>(WITHOUT_MFA, handler) === true;
    if (loaded.principal.platformRole && !loaded.mfa && !mfaExempt) {
      throw mfaRequired('Platform staff must sign in with a second factor.');
    }

    const permission = this.reflector.get<Permission | undefined>(PERMISSION, handler);
    if (!permission) return true;
    const params = request.params as Record<string, string | undefined>;
    const tenantId = params.tenantId;
    const clientId = params.clientId;
    if (tenantId === undefined) {
      if (isAllowedOnPlatform(loaded.principal, permission)) return true;
      throw new ProblemError('forbidden', `This action needs the ${permission} permission.`);
    }
    if (!UUID.test(tenantId) || (clientId !== undefined && !UUID.test(clientId))) {
      throw notFound();
    }
    if (!canSee(loaded.principal, tenantId, clientId)) throw notFound();
    if (loaded.mfaTenants?.has(tenantId) && !loaded.mfa && !mfaExempt) {
      throw mfaRequired('This organization requires members to sign in with a second factor.');
    }
    // A tenant-level route (a list) is open to client-level users holding the permission on
    // some client: the service then narrows the result to those clients.
    const allowed =
      isAllowed(loaded.principal, permission, { tenantId, clientId }) ||
      (clientId === undefined && clientsGranted(loaded.principal, permission, tenantId).length > 0);
    if (!allowed) {
      throw new ProblemError('forbidden', `This action needs the ${permission} permission.`);
    }
    if (loaded.principal.platformRole && !loaded.principal.memberships.has(tenantId)) {
      await this.recordPlatformAccess(request, loaded.actor.id, tenantId, permission);
    }
    return true;
  }

  private async authenticate(token: string, fromCookie: boolean): Promise<Authenticated> {
    if (!fromCookie && token.startsWith(API_KEY_PREFIX)) {
      const key = await this.apiKeys.authenticate(token);
      if (!key) throw unauthorized('The API key is not valid.');
      return { principal: key.principal, actor: { type: 'api_key', id: key.row.id } };
    }
    // verifyAccessToken reports every failure as InvalidTokenError.
    const claims = await this.tokens.verifyAccessToken(token).catch(() => {
      throw unauthorized('The access token is not valid.');
    });
    const loaded = await this.cache.get(userKey(claims.sub), () => this.auth.principal(claims.sub));
    if (!loaded) throw unauthorized('The access token is not valid.');
    return {
      ...loaded,
      actor: { type: 'user', id: loaded.user.id },
      sessionId: claims.sid,
      mfa: claims.mfa === true,
    };
  }

  /** Platform staff reaching into a tenant they do not belong to: always on that tenant's record. */
  private async recordPlatformAccess(
    request: AuthenticatedRequest,
    userId: string,
    tenantId: string,
    permission: Permission,
  ): Promise<void> {
    await withTenant(this.database.db, tenantId, (tx) =>
      this.audit.record(tx, {
        tenantId,
        actor: { type: 'platform_staff', id: userId },
        action: 'platform.access',
        target: {
          type: 'route',
          id: `${request.method} ${request.routeOptions.url ?? request.url}`,
        },
        changes: { permission },
        ...requestMeta(request),
      }),
    );
  }
}

/**
 * The service-layer check against a resource's scope: allowed, or 404 when the caller cannot see
 * that tenant or client at all (ids of others confirm nothing), else 403.
 */
export function assertPermission(
  caller: Authenticated,
  permission: Permission,
  tenantId: string,
  clientId?: string,
): void {
  if (isAllowed(caller.principal, permission, { tenantId, clientId })) return;
  throw canSee(caller.principal, tenantId, clientId)
    ? new ProblemError('forbidden', `This action needs the ${permission} permission.`)
    : notFound();
}

function mfaRequired(detail: string): ProblemError {
  return new ProblemError('mfa-required', `${detail} Enrol at POST /v1/auth/mfa/totp/enrol.`);
}

/** Lets a signed-in user without a second factor reach a route (enrolment, their profile). */
export function AllowWithoutMfa(): MethodDecorator {
  return SetMetadata(WITHOUT_MFA, true);
}

export function csrfFailed(): ProblemError {
  return new ProblemError(
    'csrf-failed',
    'Cookie-authenticated requests that change state must send the x-csrf-token header.',
  );
}

export function notFound(): ProblemError {
  return new ProblemError('not-found', 'No such resource.');
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError('unauthorized', detail, {}, { 'www-authenticate': 'Bearer' });
}

/** Requires authentication; with a permission, also the gateway check against the path. */
export function Authorize(permission?: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...(permission ? [SetMetadata(PERMISSION, permission)] : []),
    UseGuards(AuthGuard),
    ApiBearerAuth(),
  );
}

/** Where a request came from, for the audit trail. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, ...(userAgent ? { userAgent: userAgent.slice(0, 512) } : {}) };
}

/** The authenticated caller of a guarded route. */
export function authOf(request: AuthenticatedRequest): Authenticated {
  if (!request.auth) throw unauthorized('A bearer access token is required.');
  return request.auth;
}
