import { memberships, users, withTenant, type DatabaseHandle } from '@maxai/db';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { expect } from 'vitest';
import { AuthService } from '../../src/modules/iam/auth.service';
import type { Authenticated } from '../../src/modules/iam/auth.guard';
import type { Permission, TenantRole } from '../../src/modules/iam/permissions';
import { hashPassword } from '../../src/modules/iam/passwords';
import { DATABASE } from '../../src/platform/database/database.module';
import { as, PASSWORD, type Account } from './accounts';

let sequence = 0;

/** A user holding one tenant-level role (set in the database, as `clientUser` does). */
export async function tenantUser(
  app: NestFastifyApplication,
  tenantId: string,
  role: TenantRole,
): Promise<Account & { userId: string }> {
  sequence += 1;
  const email = `tenant-user-${role}-${sequence}-${Date.now()}@example.com`;
  const { db } = app.get<DatabaseHandle>(DATABASE);
  const passwordHash = await hashPassword(PASSWORD);
  const userId = await withTenant(db, tenantId, async (tx) => {
    const [user] = await tx.insert(users).values({ email, passwordHash }).returning();
    await tx.insert(memberships).values({ tenantId, userId: user!.id, role });
    return user!.id;
  });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(res.statusCode).toBe(200);
  return { email, token: res.json<{ accessToken: string }>().accessToken, tenantId, userId };
}

/** An API key of the owner's tenant (or one client) with exactly these permissions. */
export async function apiKey(
  app: NestFastifyApplication,
  owner: Account,
  permissions: Permission[],
  clientId?: string,
): Promise<string> {
  const res = await as(app, owner.token).post(`/v1/tenants/${owner.tenantId}/api-keys`, {
    name: `key ${permissions.join(' ')}`,
    permissions,
    ...(clientId ? { clientId } : {}),
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ key: string }>().key;
}

/** The service-layer caller behind a token (to call services without the HTTP guard). */
export async function callerOf(app: NestFastifyApplication, token: string): Promise<Authenticated> {
  const me = await as(app, token).get('/v1/me');
  const userId = me.json<{ user: { id: string } }>().user.id;
  const loaded = await app.get(AuthService).principal(userId);
  return { ...loaded!, actor: { type: 'user', id: userId }, sessionId: 'test' };
}

/** `/v1/tenants/{t}[/clients/{c}]/prompts/{key}` with the key URL-encoded in one segment. */
export function promptUrl(tenantId: string, key: string, clientId?: string, rest = ''): string {
  const scope = clientId
    ? `/v1/tenants/${tenantId}/clients/${clientId}`
    : `/v1/tenants/${tenantId}`;
  return `${scope}/prompts/${encodeURIComponent(key)}${rest}`;
}
