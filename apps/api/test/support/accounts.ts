import { clientMemberships, users, withTenant, type DatabaseHandle } from '@maxai/db';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import { DATABASE } from '../../src/platform/database/database.module';
import { hashPassword } from '../../src/modules/iam/passwords';
import type { ClientRole } from '../../src/modules/iam/permissions';

export const PASSWORD = 'correct horse battery staple';
let sequence = 0;

export interface Account {
  email: string;
  token: string;
  tenantId: string;
}

/** Signs up a new owner with a tenant of their own, through the public API. */
export async function signupOwner(
  app: NestFastifyApplication,
  tenantName = 'Acme Agency',
): Promise<Account> {
  sequence += 1;
  const email = `owner-${sequence}-${Date.now()}@example.com`;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { email, password: PASSWORD, tenantName },
  });
  expect(res.statusCode).toBe(201);
  const token = res.json<{ accessToken: string }>().accessToken;
  const me = await app.inject({
    method: 'GET',
    url: '/v1/me',
    headers: { authorization: `Bearer ${token}` },
  });
  const tenantId = me.json<{ memberships: { tenantId: string }[] }>().memberships[0]!.tenantId;
  return { email, token, tenantId };
}

/** A user holding one client-level role (set in the database: invitations arrive later). */
export async function clientUser(
  app: NestFastifyApplication,
  tenantId: string,
  clientId: string,
  role: ClientRole,
): Promise<Account> {
  sequence += 1;
  const email = `client-user-${sequence}-${Date.now()}@example.com`;
  const { db } = app.get<DatabaseHandle>(DATABASE);
  const passwordHash = await hashPassword(PASSWORD);
  await withTenant(db, tenantId, async (tx) => {
    const [user] = await tx.insert(users).values({ email, passwordHash }).returning();
    await tx.insert(clientMemberships).values({ tenantId, clientId, userId: user!.id, role });
  });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(res.statusCode).toBe(200);
  return { email, token: res.json<{ accessToken: string }>().accessToken, tenantId };
}

export function as(app: NestFastifyApplication, token: string) {
  const headers = { authorization: `Bearer ${token}` };
  return {
    get: (url: string) => app.inject({ method: 'GET', url, headers }),
    post: (url: string, payload: object) => app.inject({ method: 'POST', url, headers, payload }),
    patch: (url: string, payload: object) => app.inject({ method: 'PATCH', url, headers, payload }),
    put: (url: string, payload: object) => app.inject({ method: 'PUT', url, headers, payload }),
    delete: (url: string) => app.inject({ method: 'DELETE', url, headers }),
  };
}

/** A TOTP code of an enrolled secret, `steps` periods from now. */
export function totpCode(secret: string, steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + steps * 30_000,
  });
}

/** Enrols TOTP for the signed-in user through the API; answers the secret and recovery codes. */
export async function enrolTotp(
  app: NestFastifyApplication,
  token: string,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const api = as(app, token);
  const enrolment = await api.post('/v1/auth/mfa/totp/enrol', {});
  expect(enrolment.statusCode).toBe(201);
  const { secret } = enrolment.json<{ secret: string }>();
  const confirmed = await api.post('/v1/auth/mfa/totp/confirm', { code: totpCode(secret) });
  expect(confirmed.statusCode).toBe(200);
  return { secret, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes };
}

/** Completes a sign-in challenge with a one-time proof; answers the access token. */
export async function verifyMfa(
  app: NestFastifyApplication,
  mfaToken: string,
  proof: { code: string } | { recoveryCode: string },
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/mfa/verify',
    payload: { mfaToken, ...proof },
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ accessToken: string }>().accessToken;
}

const staffProofs = new Map<string, string[]>();

/**
 * An access token for platform staff (who must use a second factor): enrols TOTP on the first
 * call for an account, then signs in with a recovery code each time (TOTP codes are single use
 * per 30 s step, recovery codes are not time-bound).
 */
export async function staffToken(
  app: NestFastifyApplication,
  email: string,
  password = PASSWORD,
): Promise<string> {
  const login = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password },
  });
  expect(login.statusCode).toBe(200);
  const body = login.json<{ accessToken?: string; mfaToken?: string }>();
  if (body.accessToken) {
    const { recoveryCodes } = await enrolTotp(app, body.accessToken);
    staffProofs.set(email, recoveryCodes);
    return staffToken(app, email, password);
  }
  const recoveryCode = staffProofs.get(email)?.pop();
  if (!recoveryCode) throw new Error(`no recovery code left for ${email}`);
  return verifyMfa(app, body.mfaToken!, { recoveryCode });
}
