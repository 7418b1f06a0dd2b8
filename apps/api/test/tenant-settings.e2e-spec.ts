import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticated } from '../src/modules/iam/auth.guard';
import { AuthService } from '../src/modules/iam/auth.service';
import { TenantSettingsService } from '../src/modules/tenancy/tenant-settings.service';
import { ProblemError } from '../src/platform/errors/problem';
import {
  as,
  clientUser,
  enrolTotp,
  PASSWORD,
  signupOwner,
  totpCode,
  verifyMfa,
  type Account,
} from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;
/** The owner's first session, opened without a second factor. */
let unverifiedToken: string;
let url: string;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  owner = await signupOwner(t.app);
  unverifiedToken = owner.token;
  // The owner turns requireMfa on below, so acts with a second factor throughout.
  const { secret } = await enrolTotp(t.app, owner.token);
  const login = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: owner.email, password: PASSWORD },
  });
  const mfaToken = login.json<{ mfaToken: string }>().mfaToken;
  owner = { ...owner, token: await verifyMfa(t.app, mfaToken, { code: totpCode(secret, 1) }) };
  url = `/v1/tenants/${owner.tenantId}/settings`;
});
afterAll(async () => {
  await t.close();
});

async function callerOf(token: string): Promise<Authenticated> {
  const me = await as(t.app, token).get('/v1/me');
  const userId = me.json<{ user: { id: string } }>().user.id;
  const loaded = await t.app.get(AuthService).principal(userId);
  return { ...loaded!, actor: { type: 'user', id: userId }, sessionId: 'test' };
}

async function problemOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error.problemType;
    throw error;
  }
  return 'none';
}

describe('tenant settings', () => {
  it('reads the defaults and changes them, auditing only what changed', async () => {
    const api = as(t.app, owner.token);
    expect((await api.get(url)).json()).toEqual({
      requireMfa: false,
      auditRetentionDays: 2557,
      requirePromptApproval: false,
      flowHttpAllowlist: [],
    });

    const changed = await api.patch(url, { requireMfa: true, auditRetentionDays: 2557 });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({
      requireMfa: true,
      auditRetentionDays: 2557,
      requirePromptApproval: false,
      flowHttpAllowlist: [],
    });
    // In force at once: a session without a second factor is held out of the tenant.
    const held = await as(t.app, unverifiedToken).get(url);
    expect(held.statusCode).toBe(403);
    expect(held.json<{ type: string }>().type).toMatch(/\/mfa-required$/);
    expect((await api.patch(url, { auditRetentionDays: 3650 })).json()).toEqual({
      requireMfa: true,
      auditRetentionDays: 3650,
      requirePromptApproval: false,
      flowHttpAllowlist: [],
    });
    // Nothing changes: nothing is written or audited.
    expect((await api.patch(url, { requireMfa: true })).statusCode).toBe(200);
    expect((await api.get(url)).json()).toEqual({
      requireMfa: true,
      auditRetentionDays: 3650,
      requirePromptApproval: false,
      flowHttpAllowlist: [],
    });
    expect((await api.patch(url, { requirePromptApproval: true })).json()).toMatchObject({
      requirePromptApproval: true,
    });
    expect((await api.patch(url, { requirePromptApproval: false })).statusCode).toBe(200);
    const hosts = await api.patch(url, {
      flowHttpAllowlist: ['API.example.com', '*.hooks.example.org'],
    });
    expect(hosts.json()).toMatchObject({
      flowHttpAllowlist: ['api.example.com', '*.hooks.example.org'],
    });
    // The same list again changes nothing (compared by value).
    await api.patch(url, { flowHttpAllowlist: ['api.example.com', '*.hooks.example.org'] });

    const events = (
      await api.get(`/v1/tenants/${owner.tenantId}/audit-events?action=tenant.settings_updated`)
    ).json<{ data: { changes: unknown; targetId: string }[] }>();
    expect(events.data.map((e) => e.changes)).toEqual([
      {
        flowHttpAllowlist: {
          from: [],
          to: ['api.example.com', '*.hooks.example.org'],
        },
      },
      { requirePromptApproval: { from: true, to: false } },
      { requirePromptApproval: { from: false, to: true } },
      { auditRetentionDays: { from: 2557, to: 3650 } },
      { requireMfa: { from: false, to: true } },
    ]);
    expect(events.data[0]!.targetId).toBe(owner.tenantId);
  });

  it('refuses a retention below seven years, and bodies that are empty or unknown', async () => {
    const api = as(t.app, owner.token);
    const short = await api.patch(url, { auditRetentionDays: 365 });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/validation-error',
      errors: [expect.objectContaining({ message: expect.stringContaining('2557') })],
    });
    expect((await api.patch(url, { auditRetentionDays: 36_501 })).statusCode).toBe(400);
    expect((await api.patch(url, { auditRetentionDays: 3000.5 })).statusCode).toBe(400);
    expect((await api.patch(url, {})).statusCode).toBe(400);
    expect((await api.patch(url, { requireMFA: true })).statusCode).toBe(400);
    for (const host of ['https://api.example.com', 'a..b', '*', 'x.*.com', 'host/path']) {
      const refused = await api.patch(url, { flowHttpAllowlist: [host] });
      expect(refused.statusCode, host).toBe(400);
    }
  });

  it('is for owners and admins; the role table says so', async () => {
    const client = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'C' })
    ).json<{ id: string }>();
    const viewer = await clientUser(t.app, owner.tenantId, client.id, 'client_admin');
    expect((await as(t.app, viewer.token).get(url)).statusCode).toBe(403);
    expect((await as(t.app, viewer.token).patch(url, { requireMfa: false })).statusCode).toBe(403);
    const stranger = await signupOwner(t.app);
    expect((await as(t.app, stranger.token).get(url)).statusCode).toBe(404);

    const roles = (await as(t.app, owner.token).get('/v1/roles')).json<Record<string, string[]>>();
    for (const role of ['owner', 'admin']) {
      expect(roles[role]).toEqual(expect.arrayContaining(['settings:read', 'settings:write']));
    }
    for (const role of ['member', 'billing', 'client_admin']) {
      expect(roles[role]).not.toContain('settings:read');
    }
    expect(roles.platform_support).toContain('settings:read');
    expect(roles.platform_support).not.toContain('settings:write');
  });

  it('checks the caller again in the service, without the HTTP guard', async () => {
    const service = t.app.get(TenantSettingsService);
    const client = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'S' })
    ).json<{ id: string }>();
    const viewer = await callerOf(
      (await clientUser(t.app, owner.tenantId, client.id, 'client_viewer')).token,
    );
    const stranger = await callerOf((await signupOwner(t.app)).token);
    expect(await problemOf(service.get(viewer, owner.tenantId))).toBe('forbidden');
    expect(await problemOf(service.update(viewer, owner.tenantId, { requireMfa: false }, {}))).toBe(
      'forbidden',
    );
    expect(await problemOf(service.get(stranger, owner.tenantId))).toBe('not-found');

    const admin: Authenticated = {
      principal: {
        kind: 'user',
        id: uuidv7(),
        platformRole: 'platform_admin',
        memberships: new Map(),
      },
      actor: { type: 'user', id: 'staff' },
    };
    expect(await problemOf(service.get(admin, uuidv7()))).toBe('not-found');
    expect(await problemOf(service.update(admin, uuidv7(), { requireMfa: true }, {}))).toBe(
      'not-found',
    );
  });
});
