import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

type Jar = Record<string, string>;

/** The Set-Cookie headers of a response, by name (attributes kept for inspection). */
function setCookies(res: LightMyRequestResponse): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return new Map(list.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

function jarOf(res: LightMyRequestResponse): Jar {
  return Object.fromEntries(res.cookies.map((c) => [c.name, c.value]));
}

describe.each([
  {
    secure: true,
    access: '__Host-maxai_session',
    refresh: '__Secure-maxai_refresh',
    csrf: '__Host-maxai_csrf',
  },
  { secure: false, access: 'maxai_session', refresh: 'maxai_refresh', csrf: 'maxai_csrf' },
])('the cookie transport (secure: $secure)', (names) => {
  let t: TestApp;
  let owner: Account;

  beforeAll(async () => {
    t = await startTestApp('api', { AUTH_COOKIE_SECURE: String(names.secure) });
    owner = await signupOwner(t.app);
  });
  afterAll(() => t.close());

  async function cookieLogin(): Promise<{ jar: Jar; csrf: string; res: LightMyRequestResponse }> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'x-auth-transport': 'cookie' },
      payload: { email: owner.email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    return { jar: jarOf(res), csrf: res.json<{ csrfToken: string }>().csrfToken, res };
  }

  it('puts the tokens in httpOnly cookies, never in the body', async () => {
    const { res, csrf, jar } = await cookieLogin();
    const body = res.json<Record<string, unknown>>();
    expect(body).toEqual({ tokenType: 'Cookie', expiresIn: 900, csrfToken: csrf });
    const cookies = setCookies(res);
    const access = cookies.get(names.access);
    const refresh = cookies.get(names.refresh);
    const csrfCookie = cookies.get(names.csrf);
    expect(access).toMatch(/HttpOnly/);
    expect(access).toMatch(/SameSite=Lax/);
    expect(access).toMatch(/Path=\//);
    expect(refresh).toMatch(/HttpOnly/);
    expect(refresh).toMatch(/SameSite=Strict/);
    expect(refresh).toMatch(/Path=\/v1\/auth/);
    // The portal's scripts read the CSRF cookie: it is the one cookie that is not httpOnly.
    expect(csrfCookie).not.toMatch(/HttpOnly/);
    expect(jar[names.csrf]).toBe(csrf);
    for (const line of [access, refresh, csrfCookie]) {
      if (names.secure) expect(line).toMatch(/; Secure/);
      else expect(line).not.toMatch(/; Secure/);
    }
  });

  it('authenticates reads by cookie and demands the CSRF token for writes', async () => {
    const { jar, csrf } = await cookieLogin();
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: jar });
    expect(me.statusCode).toBe(200);
    expect(me.json<{ user: { email: string } }>().user.email).toBe(owner.email);

    const url = `/v1/tenants/${owner.tenantId}/clients`;
    const payload = { name: 'By cookie' };
    const bare = await t.app.inject({ method: 'POST', url, cookies: jar, payload });
    expect(bare.statusCode).toBe(403);
    expect(bare.json<{ type: string }>().type).toMatch(/\/csrf-failed$/);
    const forged = await t.app.inject({
      method: 'POST',
      url,
      cookies: jar,
      payload,
      headers: { 'x-csrf-token': `${csrf.slice(0, -2)}xx` },
    });
    expect(forged.statusCode).toBe(403);
    const ok = await t.app.inject({
      method: 'POST',
      url,
      cookies: jar,
      payload,
      headers: { 'x-csrf-token': csrf },
    });
    expect(ok.statusCode).toBe(201);
    // Another session's token does not fit this one.
    const other = await cookieLogin();
    const crossed = await t.app.inject({
      method: 'POST',
      url,
      cookies: jar,
      payload,
      headers: { 'x-csrf-token': other.csrf },
    });
    expect(crossed.statusCode).toBe(403);
  });

  it('needs no CSRF token on the bearer transport', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/tenants/${owner.tenantId}/clients`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { name: 'By bearer' },
    });
    expect(res.statusCode).toBe(201);
  });

  it('refreshes from the cookie only with the CSRF token, and rotates the cookies', async () => {
    const { jar, csrf } = await cookieLogin();
    const refreshCookie = { [names.refresh]: jar[names.refresh]! };
    const refresh = (headers: Record<string, string>, cookies: Jar) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {}, cookies, headers });

    const forged = await refresh({}, refreshCookie);
    expect(forged.statusCode).toBe(403);
    // The refused attempt spent nothing: the same cookie still refreshes.
    const rotated = await refresh({ 'x-csrf-token': csrf }, refreshCookie);
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json<{ tokenType: string; csrfToken: string }>();
    expect(body.tokenType).toBe('Cookie');
    // The session (and so its CSRF token) outlives the rotation.
    expect(body.csrfToken).toBe(csrf);
    const next = jarOf(rotated);
    expect(next[names.refresh]).not.toBe(jar[names.refresh]);
    expect(next[names.access]).toBeDefined();
    // The spent cookie replayed: the whole family ends.
    expect((await refresh({ 'x-csrf-token': csrf }, refreshCookie)).statusCode).toBe(401);
    expect(
      (await refresh({ 'x-csrf-token': csrf }, { [names.refresh]: next[names.refresh]! }))
        .statusCode,
    ).toBe(401);
  });

  it('asks for a refresh token when neither body nor cookie has one', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {} });
    expect(res.statusCode).toBe(401);
  });

  it('signs out by cookie, clearing the cookies', async () => {
    const { jar, csrf } = await cookieLogin();
    const refreshCookie = { [names.refresh]: jar[names.refresh]! };
    const logout = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        payload: {},
        cookies: refreshCookie,
        headers,
      });
    expect((await logout({})).statusCode).toBe(403);
    const res = await logout({ 'x-csrf-token': csrf });
    expect(res.statusCode).toBe(204);
    const cleared = setCookies(res);
    for (const name of [names.access, names.refresh, names.csrf]) {
      expect(cleared.get(name)).toMatch(/Expires=Thu, 01 Jan 1970/);
    }
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: {},
      cookies: refreshCookie,
      headers: { 'x-csrf-token': csrf },
    });
    expect(again.statusCode).toBe(401);
  });

  it('does not take an API key from a cookie', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: `/v1/tenants/${owner.tenantId}/api-keys`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { name: 'cookie?', permissions: ['clients:read'] },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<{ key: string }>().key;
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/tenants/${owner.tenantId}/clients`,
      cookies: { [names.access]: key },
    });
    expect(res.statusCode).toBe(401);
  });
});
