import { PrincipalCache } from '../src/modules/iam/principal-cache';
import { refreshTokens, users, type DatabaseHandle } from '@maxai/db';
import { eq, sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../src/modules/iam/auth.service';
import { DATABASE } from '../src/platform/database/database.module';
import { as, PASSWORD, signupOwner, staffToken } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let db: DatabaseHandle['db'];
beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  db = t.app.get<DatabaseHandle>(DATABASE).db;
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, payload });

describe('sessions at the edges', () => {
  it('refuses an expired refresh token', async () => {
    const { email } = await signupOwner(t.app);
    const session = (await post('/v1/auth/login', { email, password: PASSWORD })).json<{
      refreshToken: string;
    }>();
    const [user] = await db.select().from(users).where(eq(users.email, email));
    await db
      .update(refreshTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(refreshTokens.userId, user!.id));
    expect(
      (await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode,
    ).toBe(401);
  });

  it('shuts a disabled user out of sign-in, refresh and every token already issued', async () => {
    const owner = await signupOwner(t.app);
    const session = (
      await post('/v1/auth/login', { email: owner.email, password: PASSWORD })
    ).json<{
      accessToken: string;
      refreshToken: string;
    }>();
    await db.update(users).set({ status: 'disabled' }).where(eq(users.email, owner.email));
    // Changed behind the API's back: what an admin tool would announce to every replica.
    await t.app.get(PrincipalCache).invalidate('all');
    expect(
      (await post('/v1/auth/login', { email: owner.email, password: PASSWORD })).statusCode,
    ).toBe(401);
    expect(
      (await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode,
    ).toBe(401);
    expect((await as(t.app, session.accessToken).get('/v1/me')).statusCode).toBe(401);
    expect(await t.app.get(AuthService).principal(uuidv7())).toBeUndefined();
  });

  it('signs in through the service without request metadata', async () => {
    const { email } = await signupOwner(t.app);
    const session = await t.app.get(AuthService).login({ email, password: PASSWORD }, {});
    expect(session).toHaveProperty('tokenType', 'Bearer');
  });
});

describe('tenants at the edges', () => {
  it('answers 404 for a tenant that does not exist, even to platform staff', async () => {
    const owner = await signupOwner(t.app);
    const [user] = await db.select().from(users).where(eq(users.email, owner.email));
    await db.update(users).set({ platformRole: 'platform_admin' }).where(eq(users.id, user!.id));
    const admin = as(t.app, await staffToken(t.app, owner.email));
    const ghost = uuidv7();
    expect((await admin.get(`/v1/tenants/${ghost}`)).statusCode).toBe(404);
    expect((await admin.post(`/v1/tenants/${ghost}/suspend`, {})).statusCode).toBe(404);
  });

  it('lists no tenants for a user whose only tenant is suspended', async () => {
    const owner = await signupOwner(t.app);
    const token = owner.token;
    const adminOwner = await signupOwner(t.app);
    const [admin] = await db.select().from(users).where(eq(users.email, adminOwner.email));
    await db.update(users).set({ platformRole: 'platform_admin' }).where(eq(users.id, admin!.id));
    const adminToken = await staffToken(t.app, adminOwner.email);
    await as(t.app, adminToken).post(`/v1/tenants/${owner.tenantId}/suspend`, {});
    const listed = (await as(t.app, token).get('/v1/tenants')).json<{
      data: unknown[];
      nextCursor: null;
    }>();
    expect(listed).toEqual({ data: [], nextCursor: null });
  });
});
