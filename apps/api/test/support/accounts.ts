import { clientMemberships, users, withTenant, type DatabaseHandle } from '@maxai/db';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
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
    delete: (url: string) => app.inject({ method: 'DELETE', url, headers }),
  };
}
