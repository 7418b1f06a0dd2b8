import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenService } from '../src/modules/iam/token.service';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
});
afterAll(async () => {
  await t.close();
});

interface SessionBody {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });
const me = (token: string) =>
  t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });

let counter = 0;
async function signup(): Promise<{ email: string; session: SessionBody }> {
  counter += 1;
  const email = `Owner${counter}.${Date.now()}@Example.com`;
  const res = await post('/v1/auth/signup', {
    email,
    password: 'correct horse battery staple',
    name: 'Owner',
    tenantName: 'Acme Agency',
  });
  expect(res.statusCode).toBe(201);
  return { email, session: res.json<SessionBody>() };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication', () => {
  it('signs up an owner, who sees their tenant and permissions', async () => {
    const { session } = await signup();
    expect(session.expiresIn).toBe(900);
    expect(session.refreshToken).toMatch(/^mxr_/);
    const res = await me(session.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ memberships: { role: string; permissions: string[] }[] }>();
    expect(body.memberships).toHaveLength(1);
    expect(body.memberships[0]!.role).toBe('owner');
    expect(body.memberships[0]!.permissions).toContain('agents:delete');
  });

  it('refuses weak passwords and taken emails with clear problems', async () => {
    const weak = await post('/v1/auth/signup', {
      email: 'weak@example.com',
      password: 'password123',
      tenantName: 'X',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({
      errors: [{ field: 'password', message: 'is one of the most common passwords' }],
    });
    const { email } = await signup();
    const taken = await post('/v1/auth/signup', {
      email: email.toUpperCase(),
      password: 'another long passphrase',
      tenantName: 'Y',
    });
    expect(taken.statusCode).toBe(409);
  });

  it('signs in case-insensitively, and says the same for a wrong password and an unknown email', async () => {
    const { email } = await signup();
    const ok = await post('/v1/auth/login', {
      email: email.toLowerCase(),
      password: 'correct horse battery staple',
    });
    expect(ok.statusCode).toBe(200);
    const wrong = await post('/v1/auth/login', { email, password: 'not the password at all' });
    const unknown = await post('/v1/auth/login', {
      email: 'nobody@example.com',
      password: 'whatever whatever',
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail);
  });

  it('locks an account out after repeated failures, saying the same for unknown emails', async () => {
    const { email } = await signup();
    const attempt = (address: string, password: string) =>
      post('/v1/auth/login', { email: address, password }, { 'x-forwarded-for': '198.51.100.1' });
    for (let i = 0; i < 5; i += 1)
      expect((await attempt(email, 'wrong password!')).statusCode).toBe(401);
    const locked = await attempt(email, 'correct horse battery staple');
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 5; i += 1) await attempt('ghost@example.com', 'wrong password!');
    const ghost = await attempt('ghost@example.com', 'wrong password!');
    expect(ghost.statusCode).toBe(429);
    expect(ghost.json<{ detail: string }>().detail.replace(/\d+/g, 'N')).toBe(
      locked.json<{ detail: string }>().detail.replace(/\d+/g, 'N'),
    );
  });

  it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
    const { session } = await signup();
    const first = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(first.statusCode).toBe(200);
    const rotated = first.json<SessionBody>();
    expect(rotated.refreshToken).not.toBe(session.refreshToken);

    const replay = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(replay.statusCode).toBe(401);
    // The legitimate holder's newer token died with the family.
    const after = await post('/v1/auth/refresh', { refreshToken: rotated.refreshToken });
    expect(after.statusCode).toBe(401);
  });

  it('logs out: the refresh token stops working', async () => {
    const { session } = await signup();
    const out = await post('/v1/auth/logout', { refreshToken: session.refreshToken });
    expect(out.statusCode).toBe(204);
    expect(
      (await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode,
    ).toBe(401);
    expect((await post('/v1/auth/logout', { refreshToken: 'mxr_unknown' })).statusCode).toBe(204);
  });

  it('publishes the verification keys and survives a key rotation without logging anyone out', async () => {
    const { session } = await signup();
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string; d?: string }[];
    }>();
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const newKid = await t.app.get(TokenService).rotate();
    expect((await me(session.accessToken)).statusCode).toBe(200);
    const fresh = (
      await post('/v1/auth/refresh', { refreshToken: session.refreshToken })
    ).json<SessionBody>();
    const header = JSON.parse(
      Buffer.from(fresh.accessToken.split('.')[0]!, 'base64url').toString(),
    ) as { kid: string };
    expect(header.kid).toBe(newKid);
  });

  it('serves the role table', async () => {
    const roles = (await t.app.inject({ method: 'GET', url: '/v1/roles' })).json<
      Record<string, string[]>
    >();
    expect(roles.platform_support!.every((p) => p.endsWith(':read'))).toBe(true);
    expect(Object.keys(roles)).toEqual(
      expect.arrayContaining(['owner', 'client_viewer', 'platform_admin']),
    );
  });
});

describe('JWT attacks', () => {
  let valid: string;
  beforeAll(async () => {
    valid = (await signup()).session.accessToken;
  });

  const rejected = async (token: string) => {
    const res = await me(token);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  };

  it('rejects a missing or malformed token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/me' })).statusCode).toBe(401);
    await rejected('not-a-jwt');
  });

  it("rejects alg 'none'", async () => {
    const [, payload] = valid.split('.');
    await rejected(`${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`);
  });

  it('rejects HS256 signed with the public key', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    const key = jwks.keys[0]!;
    const [, payload] = valid.split('.');
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid });
    const signature = createHmac('sha256', JSON.stringify(key))
      .update(`${header}.${payload}`)
      .digest('base64url');
    await rejected(`${header}.${payload}.${signature}`);
  });

  it('rejects a tampered payload', async () => {
    const [header, payload, signature] = valid.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    await rejected(
      `${header}.${b64({ ...claims, sub: '00000000-0000-7000-8000-000000000000' })}.${signature}`,
    );
  });

  it('rejects an unknown kid', async () => {
    const [header, payload, signature] = valid.split('.');
    const parsed = JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    await rejected(`${b64({ ...parsed, kid: 'someone-elses-key' })}.${payload}.${signature}`);
  });

  it('rejects an expired token', async () => {
    const short = await startTestApp('api', { REDIS_URL: '', ACCESS_TOKEN_TTL_S: '60' });
    try {
      const tokens = short.app.get(TokenService);
      const issued = await tokens.issueAccessToken({
        sub: '00000000-0000-7000-8000-000000000000',
        sid: 's',
      });
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 120_000);
      try {
        await expect(tokens.verifyAccessToken(issued)).rejects.toThrow(/exp/);
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await short.close();
    }
  });
});
