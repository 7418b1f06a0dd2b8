import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The cookie transport of a session, for the portal: tokens a script can never read. */
export interface SessionCookieOptions {
  /** Secure cookies with the `__Host-`/`__Secure-` prefixes; off only for plain-http development. */
  secure: boolean;
  accessTtlS: number;
  refreshTtlDays: number;
  /** Key of the CSRF tokens (HMAC-SHA256), derived from the master key. */
  csrfKey: Buffer;
}

export interface CookieSession {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  expiresIn: number;
}

/** What a sign-in answers: tokens in the body (API clients) or in cookies (the portal). */
export type SessionBody =
  | { tokenType: 'Bearer'; accessToken: string; expiresIn: number; refreshToken: string }
  | { tokenType: 'Cookie'; expiresIn: number; csrfToken: string };

/** The paths that read the refresh cookie; the browser sends it nowhere else. */
const REFRESH_PATH = '/v1/auth';
export const CSRF_HEADER = 'x-csrf-token';
export const TRANSPORT_HEADER = 'x-auth-transport';

/**
 * Session cookies and signed double-submit CSRF tokens (OWASP's recommended variant): the CSRF
 * token is an HMAC of the session id, readable by the portal's scripts from its own cookie and
 * echoed in `x-csrf-token` on every unsafe request. A cross-site page can make the browser send
 * the session cookie but can neither read nor forge the token.
 */
export class SessionCookies {
  readonly names: { access: string; refresh: string; csrf: string };

  constructor(private readonly options: SessionCookieOptions) {
    const [host, secure] = options.secure ? ['__Host-', '__Secure-'] : ['', ''];
    this.names = {
      access: `${host}maxai_session`,
      refresh: `${secure}maxai_refresh`,
      csrf: `${host}maxai_csrf`,
    };
  }

  /** Whether the caller asked for cookies instead of tokens in the body. */
  wanted(request: FastifyRequest): boolean {
    return request.headers[TRANSPORT_HEADER] === 'cookie';
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.options.csrfKey).update(sessionId).digest('base64url');
  }

  /** Constant-time check of the `x-csrf-token` header against the session's token. */
  csrfValid(request: FastifyRequest, sessionId: string): boolean {
    const header = request.headers[CSRF_HEADER];
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    const expected = Buffer.from(this.csrfToken(sessionId));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  accessToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.access];
  }

  refreshToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.refresh];
  }

  /** Sets the three cookies of a session; returns the CSRF token the portal should echo. */
  set(reply: FastifyReply, session: CookieSession): string {
    const base = { secure: this.options.secure, path: '/', sameSite: 'lax' as const };
    const csrf = this.csrfToken(session.sessionId);
    reply.setCookie(this.names.access, session.accessToken, {
      ...base,
      httpOnly: true,
      maxAge: this.options.accessTtlS,
    });
    reply.setCookie(this.names.refresh, session.refreshToken, {
      ...base,
      httpOnly: true,
      // Strict and path-bound: only the portal's own calls to /v1/auth/* carry it.
      sameSite: 'strict',
      path: REFRESH_PATH,
      maxAge: this.options.refreshTtlDays * 86_400,
    });
    // Readable by the portal's scripts (not httpOnly): they echo it in x-csrf-token.
    reply.setCookie(this.names.csrf, csrf, {
      ...base,
      httpOnly: false,
      maxAge: this.options.refreshTtlDays * 86_400,
    });
    return csrf;
  }

  /**
   * Answers a new session the way the caller asked: cookies when `x-auth-transport: cookie` was
   * sent (or `forceCookies`, for a refresh that came by cookie), else tokens in the body.
   */
  respond(
    request: FastifyRequest,
    reply: FastifyReply,
    session: CookieSession,
    forceCookies = false,
  ): SessionBody {
    if (forceCookies || this.wanted(request)) {
      const csrfToken = this.set(reply, session);
      return { tokenType: 'Cookie', expiresIn: session.expiresIn, csrfToken };
    }
    return {
      tokenType: 'Bearer',
      accessToken: session.accessToken,
      expiresIn: session.expiresIn,
      refreshToken: session.refreshToken,
    };
  }

  clear(reply: FastifyReply): void {
    const base = { secure: this.options.secure, path: '/' };
    reply.clearCookie(this.names.access, base);
    reply.clearCookie(this.names.refresh, { ...base, path: REFRESH_PATH });
    reply.clearCookie(this.names.csrf, base);
  }
}
