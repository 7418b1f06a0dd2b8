import { userIdentities, users, type DatabaseHandle } from '@maxai/db';
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { OAuth2Server, type MutableRedirectUri, type MutableToken } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretBox } from '../src/platform/crypto/secret-box';
import { DATABASE } from '../src/platform/database/database.module';
import { SECRET_BOX } from '../src/modules/iam/iam.module';
import { as, enrolTotp, signupOwner, totpCode, verifyMfa } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

const START = '/v1/auth/oidc/google/start';
const CALLBACK = '/v1/auth/oidc/google/callback';
const PORTAL = 'https://portal.example.com';
/** Secure cookies (the default): the state cookie takes the `__Secure-` prefix. */
const STATE_COOKIE = '__Secure-maxai_oidc';
const SESSION_COOKIE = '__Host-maxai_session';

type Claims = Record<string, unknown>;
interface AuditPage {
  data: { action: string; outcome: string; changes: unknown }[];
}
let sequence = 0;
const unique = (): string => `${Date.now()}-${++sequence}`;

function problemType(res: LightMyRequestResponse): string {
  return res.json<{ type: string }>().type.replace(/^.*\//, '');
}

function setCookieLines(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The cookies a browser would keep from a response (cleared ones dropped). */
function jarOf(res: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(
    res.cookies.filter((c) => c.value !== '').map((c) => [c.name, c.value]),
  );
}

describe('Sign in with Google (OpenID Connect)', () => {
  const provider = new OAuth2Server();
  let issuer: string;
  let port: number;
  let t: TestApp;
  /** Claims the mock provider puts in the next tokens (on top of its sub, aud, nonce). */
  let claims: Claims = {};

  beforeAll(async () => {
    await provider.issuer.keys.generate('RS256');
    // Learn a free port, then leave it closed: the app must start while Google is unreachable.
    await provider.start(0, 'localhost');
    issuer = provider.issuer.url!;
    port = provider.address().port;
    await provider.stop();
    provider.service.on('beforeTokenSigning', (token: MutableToken) => {
      Object.assign(token.payload, claims);
    });
    t = await startTestApp('api', {
      GOOGLE_OIDC_ISSUER: issuer,
      GOOGLE_OIDC_CLIENT_ID: 'maxai-test',
      GOOGLE_OIDC_CLIENT_SECRET: 'secret',
      PORTAL_URL: `${PORTAL}/`,
    });
  });
  afterAll(async () => {
    await t.close();
    if (provider.listening) await provider.stop();
  });

  const db = () => t.app.get<DatabaseHandle>(DATABASE).db;

  async function begin(returnTo?: string): Promise<{ authorizeUrl: URL; state: string }> {
    const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
    const res = await t.app.inject({ method: 'GET', url: `${START}${query}` });
    expect(res.statusCode).toBe(302);
    const cookie = res.cookies.find((c) => c.name === STATE_COOKIE);
    return { authorizeUrl: new URL(res.headers.location!), state: cookie!.value };
  }

  /** The browser at the provider: it signs the user in and redirects back with a code. */
  async function authorize(authorizeUrl: URL): Promise<URL> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  function callback(back: URL, stateCookie?: string): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'GET',
      url: `${CALLBACK}${back.search}`,
      cookies: stateCookie === undefined ? {} : { [STATE_COOKIE]: stateCookie },
    });
  }

  async function signIn(identity: Claims, returnTo?: string): Promise<LightMyRequestResponse> {
    claims = identity;
    const { authorizeUrl, state } = await begin(returnTo);
    return callback(await authorize(authorizeUrl), state);
  }

  async function me(res: LightMyRequestResponse) {
    const answer = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: jarOf(res) });
    expect(answer.statusCode).toBe(200);
    return answer.json<{
      user: { id: string; email: string; name: string | null; emailVerified: boolean };
      memberships: { tenantId: string }[];
    }>();
  }

  const identitiesOf = (userId: string) =>
    db().select().from(userIdentities).where(eq(userIdentities.userId, userId));
  const identity = (subject: string) =>
    db().select().from(userIdentities).where(eq(userIdentities.subject, subject));

  it('discovers the provider on first use, not at start, and retries a failed discovery', async () => {
    const down = await t.app.inject({ method: 'GET', url: START });
    expect(down.statusCode).toBe(503);
    expect(problemType(down)).toBe('service-unavailable');
    expect(setCookieLines(down)).toEqual([]);

    await provider.start(port, 'localhost');
    expect(provider.issuer.url).toBe(issuer);
    const up = await t.app.inject({ method: 'GET', url: START });
    expect(up.statusCode).toBe(302);
  });

  it('redirects to the provider with a PKCE S256 challenge, state and nonce in a sealed cookie', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${START}?returnTo=%2Fagents` });
    expect(res.statusCode).toBe(302);
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/authorize`);
    const p = url.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('scope')).toBe('openid email profile');
    expect(p.get('client_id')).toBe('maxai-test');
    expect(p.get('redirect_uri')).toBe('http://localhost:3000/v1/auth/oidc/google/callback');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    const state = p.get('state')!;
    const nonce = p.get('nonce')!;
    expect(state).toMatch(/^[\w-]{20,}$/);
    expect(nonce).toMatch(/^[\w-]{20,}$/);
    expect(nonce).not.toBe(state);

    const line = setCookieLines(res).find((l) => l.startsWith(`${STATE_COOKIE}=`))!;
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toMatch(/; Path=\/v1\/auth\/oidc/);
    expect(line).toMatch(/; Secure/);
    expect(line).toMatch(/; Max-Age=600/);
    // Sealed: neither the state, the nonce nor the verifier can be read from it.
    const value = res.cookies.find((c) => c.name === STATE_COOKIE)!.value;
    expect(value).not.toContain(state);
    expect(value).not.toContain(nonce);

    // Every start is a fresh attempt.
    const again = new URL((await t.app.inject({ method: 'GET', url: START })).headers.location!);
    expect(again.searchParams.get('state')).not.toBe(state);
    expect(again.searchParams.get('code_challenge')).not.toBe(p.get('code_challenge'));
  });

  it('creates a new user, signs them in with cookies and sends them to the portal', async () => {
    const sub = `g-${unique()}`;
    const email = `New.Person-${unique()}@Example.com`;
    const res = await signIn(
      { sub, email, email_verified: true, name: 'New Person' },
      '/welcome?tab=1',
    );
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`${PORTAL}/welcome?tab=1`);
    const lines = setCookieLines(res);
    // The state cookie is spent; the session cookies are set.
    expect(lines.find((l) => l.startsWith(`${STATE_COOKIE}=;`))).toMatch(/Path=\/v1\/auth\/oidc/);
    expect(lines.find((l) => l.startsWith(`${SESSION_COOKIE}=`))).toMatch(/HttpOnly/);

    const profile = await me(res);
    expect(profile.user).toMatchObject({
      email: email.toLowerCase(),
      name: 'New Person',
      emailVerified: true,
    });
    // No tenant until invited.
    expect(profile.memberships).toEqual([]);
    const [row] = await db().select().from(users).where(eq(users.id, profile.user.id));
    expect(row!.passwordHash).toBeNull();
    expect(await identitiesOf(profile.user.id)).toMatchObject([
      { provider: 'google', subject: sub, email: email.toLowerCase() },
    ]);
  });

  it('signs a returning identity in as the same user, by subject (even if the email changed)', async () => {
    const sub = `g-${unique()}`;
    const first = await me(
      await signIn({ sub, email: `ret-${unique()}@example.com`, email_verified: true }),
    );
    const res = await signIn({ sub, email: `renamed-${unique()}@example.com` });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`${PORTAL}/`);
    const second = await me(res);
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.email).toBe(first.user.email);
    expect(await identitiesOf(first.user.id)).toHaveLength(1);
  });

  it('creates an unverified user without a name when the provider says so', async () => {
    const email = `unverified-${unique()}@example.com`;
    const res = await signIn({ sub: `g-${unique()}`, email, email_verified: false, name: '  ' });
    expect(res.statusCode).toBe(302);
    expect((await me(res)).user).toMatchObject({ email, name: null, emailVerified: false });
  });

  it('links an existing account when the provider verified the same email, and audits it', async () => {
    const owner = await signupOwner(t.app);
    const sub = `g-${unique()}`;
    const res = await signIn({ sub, email: owner.email.toUpperCase(), email_verified: true });
    expect(res.statusCode).toBe(302);
    const profile = await me(res);
    expect(profile.user.email).toBe(owner.email);
    // Google vouched for the address.
    expect(profile.user.emailVerified).toBe(true);
    expect(profile.memberships.map((m) => m.tenantId)).toEqual([owner.tenantId]);
    expect(await identity(sub)).toMatchObject([{ userId: profile.user.id }]);

    const api = as(t.app, owner.token);
    const base = `/v1/tenants/${owner.tenantId}/audit-events`;
    const linked = (await api.get(`${base}?action=auth.identity_linked`)).json<AuditPage>();
    expect(linked.data).toMatchObject([{ outcome: 'success', changes: { provider: 'google' } }]);
    const signIns = (await api.get(`${base}?action=auth.sign_in`)).json<AuditPage>();
    expect(signIns.data[0]).toMatchObject({ outcome: 'success', changes: { method: 'oidc' } });

    // Next time the identity alone is enough.
    const again = await signIn({ sub, email: owner.email, email_verified: true });
    expect((await me(again)).user.id).toBe(profile.user.id);
    expect(await identity(sub)).toHaveLength(1);
  });

  it.each([
    ['false', false],
    ['absent', undefined],
    ['the string "true"', 'true'],
  ])(
    'refuses to link an existing account when email_verified is %s (account takeover guard)',
    async (_what, verified) => {
      const owner = await signupOwner(t.app);
      const sub = `g-${unique()}`;
      const res = await signIn({ sub, email: owner.email, email_verified: verified });
      expect(res.statusCode).toBe(409);
      expect(problemType(res)).toBe('conflict');
      // Nothing linked, nothing signed in.
      expect(await identity(sub)).toEqual([]);
      expect(res.cookies.map((c) => c.name)).toEqual([STATE_COOKIE]);
      expect(res.cookies[0]!.value).toBe('');
      const events = (
        await as(t.app, owner.token).get(
          `/v1/tenants/${owner.tenantId}/audit-events?action=auth.identity_link_refused`,
        )
      ).json<{ data: { outcome: string }[] }>();
      expect(events.data).toMatchObject([{ outcome: 'failure' }]);
    },
  );

  it('asks for the second factor of an account with TOTP on, through the portal', async () => {
    const owner = await signupOwner(t.app);
    const { secret } = await enrolTotp(t.app, owner.token);
    const res = await signIn(
      { sub: `g-${unique()}`, email: owner.email, email_verified: true },
      '/inbox',
    );
    expect(res.statusCode).toBe(302);
    // No session yet: only the cleared state cookie.
    expect(res.cookies.map((c) => c.name)).toEqual([STATE_COOKIE]);
    const location = new URL(res.headers.location!);
    expect(`${location.origin}${location.pathname}`).toBe(`${PORTAL}/sign-in/mfa`);
    expect(location.search).toBe('');
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('returnTo')).toBe('/inbox');
    const token = await verifyMfa(t.app, fragment.get('mfaToken')!, {
      code: totpCode(secret, 1),
    });
    const events = (
      await as(t.app, token).get(`/v1/tenants/${owner.tenantId}/audit-events?action=auth.sign_in`)
    ).json<AuditPage>();
    expect(events.data[0]).toMatchObject({ changes: { method: 'oidc', mfa: true } });
  });

  it('refuses a disabled user, whether found by identity or by email', async () => {
    const sub = `g-${unique()}`;
    const email = `disabled-${unique()}@example.com`;
    const user = await me(await signIn({ sub, email, email_verified: true }));
    await db().update(users).set({ status: 'disabled' }).where(eq(users.id, user.user.id));
    const byIdentity = await signIn({ sub, email, email_verified: true });
    expect(byIdentity.statusCode).toBe(403);
    expect(jarOf(byIdentity)).toEqual({});

    const owner = await signupOwner(t.app);
    await db().update(users).set({ status: 'disabled' }).where(eq(users.email, owner.email));
    const other = `g-${unique()}`;
    const byEmail = await signIn({ sub: other, email: owner.email, email_verified: true });
    expect(byEmail.statusCode).toBe(403);
    expect(jarOf(byEmail)).toEqual({});
    expect(await identity(other)).toEqual([]);
  });

  describe('refuses a callback that does not belong to the attempt', () => {
    async function codeFor(identityClaims: Claims = { sub: `g-${unique()}` }) {
      claims = { email: `x-${unique()}@example.com`, ...identityClaims };
      const started = await begin();
      return { ...started, back: await authorize(started.authorizeUrl) };
    }

    async function expectRefused(res: LightMyRequestResponse, type = 'oidc-failed') {
      expect(res.statusCode).toBe(400);
      expect(problemType(res)).toBe(type);
      expect(jarOf(res)).toEqual({});
    }

    it('without the state cookie', async () => {
      const { back } = await codeFor();
      await expectRefused(await callback(back));
    });

    it('with a tampered state cookie', async () => {
      const { back, state } = await codeFor();
      const tampered = `${state.slice(0, -4)}${state.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      await expectRefused(await callback(back, tampered));
      await expectRefused(await callback(back, 'not-sealed'));
    });

    it("with another attempt's state cookie", async () => {
      const { back } = await codeFor();
      const other = await begin();
      await expectRefused(await callback(back, other.state));
      const noState = new URL(back);
      noState.searchParams.delete('state');
      await expectRefused(await callback(noState, other.state));
    });

    it('with an expired or malformed state', async () => {
      const box = t.app.get<SecretBox>(SECRET_BOX);
      const { back, state } = await codeFor();
      const pending = JSON.parse(box.open(state, 'oidc-state')) as Record<string, unknown>;
      const expired = box.seal(
        JSON.stringify({ ...pending, expiresAt: Date.now() - 1 }),
        'oidc-state',
      );
      await expectRefused(await callback(back, expired));
      const otherContext = box.seal(JSON.stringify(pending), 'another-purpose');
      await expectRefused(await callback(back, otherContext));
      const offsite = box.seal(JSON.stringify({ ...pending, returnTo: '//evil' }), 'oidc-state');
      await expectRefused(await callback(back, offsite));
    });

    it('when the ID token carries another nonce', async () => {
      const sub = `g-${unique()}`;
      const { back, state } = await codeFor({ sub, nonce: 'forged-nonce' });
      await expectRefused(await callback(back, state));
      expect(await identity(sub)).toEqual([]);
    });

    it('when the code is replayed', async () => {
      const { back, state } = await codeFor();
      expect((await callback(back, state)).statusCode).toBe(302);
      await expectRefused(await callback(back, state));
    });

    it('when the provider answers with an error', async () => {
      provider.service.once('beforeAuthorizeRedirect', ({ url }: MutableRedirectUri) => {
        url.searchParams.delete('code');
        url.searchParams.set('error', 'access_denied');
      });
      const { back, state } = await codeFor();
      expect(back.searchParams.get('error')).toBe('access_denied');
      await expectRefused(await callback(back, state));
    });

    it('when the ID token has no usable email', async () => {
      const sub = `g-${unique()}`;
      const { back, state } = await codeFor({ sub, email: undefined });
      await expectRefused(await callback(back, state));
      expect(await identity(sub)).toEqual([]);
    });

    it('with an oversized parameter', async () => {
      const { back, state } = await codeFor();
      back.searchParams.set('code', 'x'.repeat(5000));
      await expectRefused(await callback(back, state), 'validation-error');
    });
  });

  it.each(['//evil.example', 'https://evil.example/', '/\\evil.example', 'dashboard', '/a\tb', ''])(
    'answers 400 for returnTo=%j (open redirect guard)',
    async (returnTo) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `${START}?returnTo=${encodeURIComponent(returnTo)}`,
      });
      expect(res.statusCode).toBe(400);
      expect(problemType(res)).toBe('validation-error');
      expect(setCookieLines(res)).toEqual([]);
    },
  );
});

describe('Sign in with Google, not configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('api', { AUTH_COOKIE_SECURE: 'false' });
  });
  afterAll(() => t.close());

  it.each([START, `${CALLBACK}?code=abc&state=def`])('answers 404 on %s', async (url) => {
    const res = await t.app.inject({ method: 'GET', url, cookies: { maxai_oidc: 'x' } });
    expect(res.statusCode).toBe(404);
    expect(problemType(res)).toBe('not-found');
  });
});
