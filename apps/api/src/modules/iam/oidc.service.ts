import { isUniqueViolation, type Database } from '@maxai/db';
import type { PrincipalCache } from './principal-cache';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isLoopbackHttp } from '../../platform/config/config.schema';
import type { SecretBox } from '../../platform/crypto/secret-box';
import { ProblemError } from '../../platform/errors/problem';
import type { AuthService, IssuedSession, RequestMeta } from './auth.service';
import type { IamRepository, UserRow } from './iam.repository';

export const GOOGLE = 'google';
/** How long a started sign-in may take at the provider before it has to start over. */
export const OIDC_STATE_TTL_S = 600;
const STATE_CONTEXT = 'oidc-state';
const SCOPE = 'openid email profile';
/** Seconds to wait for the provider's discovery document, keys and token endpoint. */
const PROVIDER_TIMEOUT_S = 10;

export interface OidcOptions {
  /** The OpenID provider (https://accounts.google.com in production). */
  issuer: string;
  /** Unset: sign-in with Google is off and its routes answer 404. */
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** Where the provider sends the browser back (`${PUBLIC_URL}/v1/auth/oidc/google/callback`). */
  redirectUri: string;
  /** Where the signed-in browser goes, `returnTo` appended (the portal). */
  portalUrl: string;
}

/**
 * A path on the portal: one leading slash, no `//` (another host), no backslash (which browsers
 * read as a slash) and no control characters (which browsers drop) — the open-redirect guard.
 */
export function isPortalPath(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^\/(?![/\\])/.test(value) && !/[\\\u0000-\u001f\u007f]/.test(value);
}

/** What the state cookie keeps between the redirect to the provider and its callback. */
const PendingSignIn = z.object({
  state: z.string(),
  nonce: z.string(),
  codeVerifier: z.string(),
  returnTo: z.string().refine(isPortalPath),
  expiresAt: z.number(),
});
type PendingSignIn = z.infer<typeof PendingSignIn>;

/** The ID token claims a sign-in needs; Google includes them for the `email profile` scopes. */
const IdClaims = z.object({
  sub: z.string().min(1).max(255),
  email: z.email().max(254),
  email_verified: z.unknown().optional(),
  /** Shown as the account's name; one that is blank or longer than 200 characters is dropped. */
  name: z.string().trim().min(1).max(200).optional().catch(undefined),
});
type IdClaims = z.infer<typeof IdClaims>;

/** The authorization response parameters of the callback URL. */
export interface CallbackParams {
  code?: string | undefined;
  state?: string | undefined;
  iss?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
}

function failed(detail: string): ProblemError {
  return new ProblemError('oidc-failed', detail);
}

/**
 * Sign in with Google (OpenID Connect, authorization code + PKCE, `state` and `nonce`). The
 * provider's identity is its `sub`; a first sign-in links to an existing account only when the
 * provider vouches for the address (`email_verified`) — otherwise whoever registers a Google
 * account under someone's unverified address would take their account over.
 */
export class OidcService {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly db: Database,
    private readonly repository: IamRepository,
    private readonly auth: AuthService,
    private readonly box: SecretBox,
    private readonly logger: Logger,
    private readonly options: OidcOptions,
    private readonly cache?: PrincipalCache,
  ) {}

  /** The provider's authorization URL and the sealed state to keep in a cookie until the callback. */
  async start(returnTo: string): Promise<{ location: string; sealedState: string }> {
    const config = await this.provider();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnTo,
      expiresAt: Date.now() + OIDC_STATE_TTL_S * 1000,
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.options.redirectUri,
      response_type: 'code',
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return {
      location: url.href,
      sealedState: this.box.seal(JSON.stringify(pending), STATE_CONTEXT),
    };
  }

  /**
   * Completes a sign-in from the provider's callback: checks the state, exchanges the code
   * (the ID token's issuer, audience, signature and nonce are verified), finds, links or
   * creates the user and opens a session. Answers where to send the browser.
   */
  async finish(
    sealedState: string | undefined,
    params: CallbackParams,
    meta: RequestMeta,
  ): Promise<{ session?: IssuedSession; location: string }> {
    const config = await this.provider();
    const pending = this.openState(sealedState);
    if (params.state !== pending.state) {
      throw failed('This sign-in belongs to another attempt. Start again.');
    }
    const claims = await this.exchange(config, pending, params);
    const user = await this.userFor(claims, meta);
    const result = await this.auth.signInVerified(user, meta, 'oidc');
    const portal = this.options.portalUrl.replace(/\/+$/, '');
    if ('mfaRequired' in result) {
      // The second factor is asked by the portal. The challenge rides in the fragment, which
      // browsers send to no server and put in no Referer.
      const fragment = new URLSearchParams({
        mfaToken: result.mfaToken,
        returnTo: pending.returnTo,
      });
      return { location: `${portal}/sign-in/mfa#${fragment.toString()}` };
    }
    return { session: result, location: `${portal}${pending.returnTo}` };
  }

  /** The provider's configuration, discovered on first use; a failed discovery is retried. */
  private provider(): Promise<client.Configuration> {
    const clientId = this.options.clientId;
    if (!clientId) throw new ProblemError('not-found', 'Sign in with Google is not enabled.');
    this.configuration ??= this.discover(clientId).catch((error: unknown) => {
      this.configuration = undefined;
      this.logger.warn(logFields(error), 'OpenID provider discovery failed');
      throw new ProblemError(
        'service-unavailable',
        'Sign in with Google is unavailable right now. Try again shortly.',
      );
    });
    return this.configuration;
  }

  private discover(clientId: string): Promise<client.Configuration> {
    const issuer = new URL(this.options.issuer);
    return client.discovery(issuer, clientId, this.options.clientSecret, undefined, {
      timeout: PROVIDER_TIMEOUT_S,
      // Plain http only to a provider on this machine (the tests' mock); never over a network.
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deliberate, loopback only
      execute: isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [],
    });
  }

  private openState(sealed: string | undefined): PendingSignIn {
    let pending: PendingSignIn;
    try {
      pending = PendingSignIn.parse(JSON.parse(this.box.open(sealed ?? '', STATE_CONTEXT)));
    } catch {
      throw failed('The sign-in state is missing or not valid. Start again.');
    }
    if (pending.expiresAt <= Date.now()) throw failed('This sign-in took too long. Start again.');
    return pending;
  }

  private async exchange(
    config: client.Configuration,
    pending: PendingSignIn,
    params: CallbackParams,
  ): Promise<IdClaims> {
    const current = new URL(this.options.redirectUri);
    current.search = new URLSearchParams(
      Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ).toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      this.logger.warn(logFields(error), 'OpenID authorization code exchange failed');
      throw failed('Google did not confirm this sign-in. Start again.');
    }
    const claims = IdClaims.safeParse(tokens.claims());
    if (!claims.success) throw failed('Google did not share a usable email address.');
    return claims.data;
  }

  /** The user an identity signs in as: linked before, linked now, or created. */
  private async userFor(claims: IdClaims, meta: RequestMeta, retried = false): Promise<UserRow> {
    try {
      return await this.findLinkOrCreate(claims, meta);
    } catch (error) {
      // A concurrent first sign-in of the same person created the user or identity first:
      // the second pass finds it.
      if (retried || !isUniqueViolation(error)) throw error;
      return this.userFor(claims, meta, true);
    }
  }

  private async findLinkOrCreate(claims: IdClaims, meta: RequestMeta): Promise<UserRow> {
    const linked = await this.repository.findUserByIdentity(GOOGLE, claims.sub);
    if (linked) return this.active(linked, meta);
    const verified = claims.email_verified === true;
    const identity = { provider: GOOGLE, subject: claims.sub, email: claims.email };
    const existing = await this.repository.findUserByEmail(claims.email);
    if (existing) {
      if (!verified) {
        await this.auth.recordAccountEvent(existing.id, 'auth.identity_link_refused', meta, {
          outcome: 'failure',
          changes: { provider: GOOGLE },
        });
        throw new ProblemError(
          'conflict',
          'An account with this email already exists and Google has not verified the address. ' +
            'Sign in with your password instead.',
        );
      }
      const user = await this.active(existing, meta);
      // Google vouched for the address: the account's email counts as verified from now on.
      await this.db.transaction(async (tx) => {
        await this.repository.insertIdentity(tx, { ...identity, userId: user.id });
        await this.repository.markEmailVerified(tx, user.id);
      });
      await this.cache?.invalidate({ users: [user.id] });
      await this.auth.recordAccountEvent(user.id, 'auth.identity_linked', meta, {
        changes: { provider: GOOGLE },
      });
      return { ...user, emailVerified: true };
    }
    return this.db.transaction(async (tx) => {
      const user = await this.repository.insertUser(tx, {
        email: claims.email,
        emailVerified: verified,
        passwordHash: null,
        name: claims.name ?? null,
      });
      await this.repository.insertIdentity(tx, { ...identity, userId: user.id });
      return user;
    });
  }

  private async active(user: UserRow, meta: RequestMeta): Promise<UserRow> {
    if (user.status === 'active') return user;
    await this.auth.recordAccountEvent(user.id, 'auth.sign_in', meta, {
      outcome: 'failure',
      changes: { method: 'oidc' },
    });
    throw new ProblemError('forbidden', 'This account is disabled.');
  }
}

/** What went wrong, for the log: the error's text and code — never its cause (a response). */
function logFields(error: unknown): { reason: string; code: unknown } {
  return { reason: String(error), code: (error as { code?: unknown }).code };
}
