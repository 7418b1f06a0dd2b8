import { PrincipalCache } from '../src/modules/iam/principal-cache';
import { users, type DatabaseHandle } from '@maxai/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_BOX } from '../src/modules/iam/iam.module';
import type { SecretBox } from '../src/platform/crypto/secret-box';
import { DATABASE } from '../src/platform/database/database.module';
import {
  as,
  enrolTotp,
  PASSWORD,
  signupOwner,
  staffToken,
  totpCode,
  verifyMfa,
  type Account,
} from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let db: DatabaseHandle['db'];

beforeAll(async () => {
  t = await startTestApp('api');
  db = t.app.get<DatabaseHandle>(DATABASE).db;
});
afterAll(() => t.close());

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload, headers });

async function challenge(email: string): Promise<string> {
  const res = await post('/v1/auth/login', { email, password: PASSWORD });
  expect(res.statusCode).toBe(200);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
  expect(body).not.toHaveProperty('accessToken');
  return body.mfaToken as string;
}

/** The tenant setting, through the API (so every replica hears of it). */
async function requireMfa(owner: Account): Promise<void> {
  const res = await as(t.app, owner.token).patch(`/v1/tenants/${owner.tenantId}/settings`, {
    requireMfa: true,
  });
  expect(res.statusCode).toBe(200);
}

const mfaStatus = async (token: string) =>
  (await as(t.app, token).get('/v1/auth/mfa')).json<{
    totpEnabled: boolean;
    recoveryCodesRemaining: number;
    sessionVerified: boolean;
    required: boolean;
  }>();

describe('TOTP enrolment', () => {
  it('hands out a secret as otpauth URI and QR code, active only once confirmed', async () => {
    const owner = await signupOwner(t.app);
    const api = as(t.app, owner.token);
    expect((await api.post('/v1/auth/mfa/totp/confirm', { code: '123456' })).statusCode).toBe(409);
    const enrolment = await api.post('/v1/auth/mfa/totp/enrol', {});
    expect(enrolment.statusCode).toBe(201);
    const { secret, otpauthUri, qrSvg } = enrolment.json<{
      secret: string;
      otpauthUri: string;
      qrSvg: string;
    }>();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('MaxAI');
    expect(decodeURIComponent(uri.pathname)).toContain(owner.email);
    expect(qrSvg).toMatch(/^<svg/);
    expect(await mfaStatus(owner.token)).toMatchObject({ totpEnabled: false, required: false });
    // Not on yet: sign-in still answers a session.
    const plain = await post('/v1/auth/login', { email: owner.email, password: PASSWORD });
    expect(plain.json()).toHaveProperty('accessToken');

    const wrong = await api.post('/v1/auth/mfa/totp/confirm', {
      code: totpCode(secret, 5),
    });
    expect(wrong.statusCode).toBe(400);
    const badShape = await api.post('/v1/auth/mfa/totp/confirm', { code: '12ab56' });
    expect(badShape.statusCode).toBe(400);
    const confirmed = await api.post('/v1/auth/mfa/totp/confirm', { code: totpCode(secret) });
    expect(confirmed.statusCode).toBe(200);
    const { recoveryCodes } = confirmed.json<{ recoveryCodes: string[] }>();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}$/);
    expect((await api.post('/v1/auth/mfa/totp/enrol', {})).statusCode).toBe(409);
    expect(
      (await api.post('/v1/auth/mfa/totp/confirm', { code: totpCode(secret, 1) })).statusCode,
    ).toBe(409);
    expect(await mfaStatus(owner.token)).toMatchObject({
      totpEnabled: true,
      recoveryCodesRemaining: 10,
      sessionVerified: false,
    });
    const [row] = await db.select().from(users).where(eq(users.email, owner.email));
    // Sealed at rest: the secret is nowhere in the stored value.
    expect(row!.totpSecretEncrypted).not.toContain(secret);
  });
});

describe('signing in with a second factor', () => {
  let owner: Account;
  let secret: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    owner = await signupOwner(t.app);
    ({ secret, recoveryCodes } = await enrolTotp(t.app, owner.token));
  });

  it('answers a challenge, then a session marked as verified; a code works once', async () => {
    const mfaToken = await challenge(owner.email);
    const code = totpCode(secret, 1);
    const token = await verifyMfa(t.app, mfaToken, { code });
    expect(await mfaStatus(token)).toMatchObject({ sessionVerified: true, totpEnabled: true });
    const replay = await post('/v1/auth/mfa/verify', { mfaToken, code });
    expect(replay.statusCode).toBe(401);
  });

  it('keeps the verified mark through refresh rotation', async () => {
    const mfaToken = await challenge(owner.email);
    const res = await post('/v1/auth/mfa/verify', { mfaToken, recoveryCode: recoveryCodes.pop() });
    const { refreshToken } = res.json<{ refreshToken: string }>();
    const rotated = await post('/v1/auth/refresh', { refreshToken });
    const { accessToken } = rotated.json<{ accessToken: string }>();
    expect(await mfaStatus(accessToken)).toMatchObject({ sessionVerified: true });
  });

  it('takes a recovery code once, whatever its case and dashes', async () => {
    const code = recoveryCodes.pop()!;
    const typed = ` ${code.toUpperCase().replace(/-/g, ' ')} `;
    await verifyMfa(t.app, await challenge(owner.email), { recoveryCode: typed });
    const again = await post('/v1/auth/mfa/verify', {
      mfaToken: await challenge(owner.email),
      recoveryCode: code,
    });
    expect(again.statusCode).toBe(401);
  });

  it('refuses forged, expired and malformed challenges', async () => {
    const box = t.app.get<SecretBox>(SECRET_BOX);
    const [row] = await db.select().from(users).where(eq(users.email, owner.email));
    const sealed = (payload: object) => box.seal(JSON.stringify(payload), 'mfa-challenge');
    const code = totpCode(secret);
    for (const mfaToken of [
      'not-a-challenge',
      sealed({ u: row!.id, m: 'password', exp: Date.now() - 1 }),
      sealed({ u: row!.id, m: 'magic', exp: Date.now() + 60_000 }),
      sealed({ u: 42, m: 'password', exp: Date.now() + 60_000 }),
      box.seal(JSON.stringify({ u: row!.id, m: 'password', exp: Date.now() + 60_000 }), 'other'),
    ]) {
      const res = await post('/v1/auth/mfa/verify', { mfaToken, code });
      expect(res.statusCode).toBe(401);
    }
    const both = await post('/v1/auth/mfa/verify', {
      mfaToken: await challenge(owner.email),
      code,
      recoveryCode: 'abcd-efgh-jk',
    });
    expect(both.statusCode).toBe(400);
    const neither = await post('/v1/auth/mfa/verify', { mfaToken: 'x' });
    expect(neither.statusCode).toBe(400);
  });

  it('can answer the session as cookies', async () => {
    const res = await post(
      '/v1/auth/mfa/verify',
      { mfaToken: await challenge(owner.email), recoveryCode: recoveryCodes.pop() },
      { 'x-auth-transport': 'cookie' },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tokenType: 'Cookie' });
  });

  it('locks the account out after repeated wrong codes', async () => {
    const other = await signupOwner(t.app);
    const enrolled = await enrolTotp(t.app, other.token);
    const mfaToken = await challenge(other.email);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await post('/v1/auth/mfa/verify', { mfaToken, recoveryCode: `wrong-code-${i}` });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    // Even a right code waits out the lockout.
    const locked = await post('/v1/auth/mfa/verify', {
      mfaToken,
      recoveryCode: enrolled.recoveryCodes[0],
    });
    expect(locked.statusCode).toBe(429);
    const trail = await as(t.app, other.token).get(
      `/v1/tenants/${other.tenantId}/audit-events?action=auth.mfa_failed`,
    );
    expect(trail.json<{ data: { outcome: string }[] }>().data[0]).toMatchObject({
      outcome: 'failure',
    });
  });

  it('refuses a challenge of a user disabled meanwhile', async () => {
    const other = await signupOwner(t.app);
    const enrolled = await enrolTotp(t.app, other.token);
    const mfaToken = await challenge(other.email);
    await db.update(users).set({ status: 'disabled' }).where(eq(users.email, other.email));
    const res = await post('/v1/auth/mfa/verify', {
      mfaToken,
      recoveryCode: enrolled.recoveryCodes[0],
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('managing the second factor', () => {
  it('replaces recovery codes and turns TOTP off with a valid proof, audited', async () => {
    const owner = await signupOwner(t.app);
    const { recoveryCodes } = await enrolTotp(t.app, owner.token);
    const token = await verifyMfa(t.app, await challenge(owner.email), {
      recoveryCode: recoveryCodes[0]!,
    });
    const api = as(t.app, token);
    expect(
      (await api.post('/v1/auth/mfa/recovery-codes', { recoveryCode: 'aaaa-bbbb-cc' })).statusCode,
    ).toBe(401);
    const fresh = await api.post('/v1/auth/mfa/recovery-codes', {
      recoveryCode: recoveryCodes[1],
    });
    expect(fresh.statusCode).toBe(200);
    const next = fresh.json<{ recoveryCodes: string[] }>().recoveryCodes;
    // The old set is gone.
    const old = await post('/v1/auth/mfa/verify', {
      mfaToken: await challenge(owner.email),
      recoveryCode: recoveryCodes[2],
    });
    expect(old.statusCode).toBe(401);
    expect(
      (await api.post('/v1/auth/mfa/totp/disable', { recoveryCode: next[0] })).statusCode,
    ).toBe(204);
    expect(await mfaStatus(token)).toMatchObject({ totpEnabled: false, recoveryCodesRemaining: 0 });
    expect((await api.post('/v1/auth/mfa/totp/disable', { code: '123456' })).statusCode).toBe(409);
    expect((await api.post('/v1/auth/mfa/recovery-codes', { code: '123456' })).statusCode).toBe(
      409,
    );
    const login = await post('/v1/auth/login', { email: owner.email, password: PASSWORD });
    expect(login.json()).toHaveProperty('accessToken');

    const trail = await api.get(`/v1/tenants/${owner.tenantId}/audit-events?limit=50`);
    const actions = trail.json<{ data: { action: string }[] }>().data.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.mfa_enabled',
        'auth.recovery_codes_regenerated',
        'auth.mfa_disabled',
      ]),
    );
  });

  it('keeps platform staff on a second factor', async () => {
    const staff = await signupOwner(t.app);
    await db
      .update(users)
      .set({ platformRole: 'platform_support' })
      .where(eq(users.email, staff.email));
    await t.app.get(PrincipalCache).invalidate('all');
    const unverified = await as(t.app, staff.token).get(`/v1/tenants/${staff.tenantId}`);
    expect(unverified.statusCode).toBe(403);
    expect(unverified.json<{ type: string }>().type).toMatch(/\/mfa-required$/);
    expect(await mfaStatus(staff.token)).toMatchObject({ required: true });
    const token = await staffToken(t.app, staff.email);
    expect((await as(t.app, token).get(`/v1/tenants/${staff.tenantId}`)).statusCode).toBe(200);
    const disable = await as(t.app, token).post('/v1/auth/mfa/totp/disable', {
      code: totpCode('JBSWY3DPEHPK3PXP'),
    });
    expect(disable.statusCode).toBe(403);
  });

  it('has no second factor for API keys', async () => {
    const owner = await signupOwner(t.app);
    const created = await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/api-keys`, {
      name: 'k',
      permissions: ['clients:read'],
    });
    const key = created.json<{ key: string }>().key;
    expect((await as(t.app, key).get('/v1/auth/mfa')).statusCode).toBe(403);
  });
});

describe("a tenant's MFA requirement", () => {
  it('holds members without a verified session out of that tenant only', async () => {
    const owner = await signupOwner(t.app, 'Strict Co');
    const elsewhere = await signupOwner(t.app, 'Lax Co');
    await requireMfa(owner);
    const key = (
      await as(t.app, elsewhere.token).post(`/v1/tenants/${elsewhere.tenantId}/api-keys`, {
        name: 'k',
        permissions: ['clients:read'],
      })
    ).json<{ key: string }>().key;
    expect(key).toMatch(/^mk_live_/);

    const api = as(t.app, owner.token);
    const refused = await api.get(`/v1/tenants/${owner.tenantId}/clients`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ type: string }>().type).toMatch(/\/mfa-required$/);
    expect((await api.get('/v1/me')).statusCode).toBe(200);
    expect(await mfaStatus(owner.token)).toMatchObject({ required: true });
    // Other tenants' rules are their own.
    expect(
      (await as(t.app, elsewhere.token).get(`/v1/tenants/${elsewhere.tenantId}/clients`))
        .statusCode,
    ).toBe(200);

    const { secret } = await enrolTotp(t.app, owner.token);
    const verified = await verifyMfa(t.app, await challenge(owner.email), {
      code: totpCode(secret, 1),
    });
    expect(
      (await as(t.app, verified).get(`/v1/tenants/${owner.tenantId}/clients`)).statusCode,
    ).toBe(200);
    // Sign-in events say how the user signed in.
    const trail = await as(t.app, verified).get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=auth.sign_in`,
    );
    expect(trail.json<{ data: { changes: unknown }[] }>().data[0]!.changes).toEqual({
      method: 'password',
      mfa: true,
    });
  });

  it('does not apply to API keys of that tenant', async () => {
    const owner = await signupOwner(t.app, 'Keyed Strict Co');
    const created = await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/api-keys`, {
      name: 'server',
      permissions: ['clients:read'],
    });
    const key = created.json<{ key: string }>().key;
    await requireMfa(owner);
    expect((await as(t.app, key).get(`/v1/tenants/${owner.tenantId}/clients`)).statusCode).toBe(
      200,
    );
  });
});
