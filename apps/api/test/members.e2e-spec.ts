import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_SENDER } from '../src/modules/iam/iam.module';
import type { SandboxEmailSender } from '../src/platform/email/sandbox-email-sender';
import { as, PASSWORD, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let owner: Account;
let outbox: SandboxEmailSender;

beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  outbox = t.app.get<SandboxEmailSender>(EMAIL_SENDER);
  owner = await signupOwner(t.app);
});
afterAll(async () => {
  await t.close();
});

const base = () => `/v1/tenants/${owner.tenantId}`;
const tokenSentTo = (email: string): string => {
  const message = outbox.messagesTo(email).at(-1);
  const token = /Invitation token: (mxi_[A-Za-z0-9_-]+)/.exec(message?.text ?? '')?.[1];
  expect(token).toBeDefined();
  return token!;
};
const accept = (payload: object) =>
  t.app.inject({ method: 'POST', url: '/v1/invitations/accept', payload });

describe('invitations and members', () => {
  it('invites a newcomer, who accepts by choosing a password and lands with the invited role', async () => {
    const api = as(t.app, owner.token);
    const invited = await api.post(`${base()}/invitations`, {
      email: 'New.Member@Example.com',
      role: 'member',
    });
    expect(invited.statusCode).toBe(201);
    expect(invited.json()).toMatchObject({
      email: 'new.member@example.com',
      role: 'member',
      acceptedAt: null,
    });
    const token = tokenSentTo('new.member@example.com');

    expect((await accept({ token })).statusCode).toBe(400);
    const accepted = await accept({ token, password: 'a brand new passphrase', name: 'Newcomer' });
    expect(accepted.statusCode).toBe(200);
    const me = (
      await as(t.app, accepted.json<{ accessToken: string }>().accessToken).get('/v1/me')
    ).json<{
      memberships: { tenantId: string; role: string }[];
    }>();
    expect(me.memberships).toEqual([
      expect.objectContaining({ tenantId: owner.tenantId, role: 'member' }),
    ]);
    expect((await accept({ token, password: 'a brand new passphrase' })).statusCode).toBe(404);

    const members = (await api.get(`${base()}/members`)).json<{
      data: { email: string; role: string }[];
    }>();
    expect(members.data.map((m) => m.role).sort()).toEqual(['member', 'owner']);
    const trail = (await api.get(`${base()}/audit-events?action=invitation.accepted`)).json<{
      data: unknown[];
    }>();
    expect(trail.data).toHaveLength(1);
  });

  it('lets an existing account accept a client role without a password; revoked invitations fail', async () => {
    const api = as(t.app, owner.token);
    const client = (await api.post(`${base()}/clients`, { name: 'Invited Client' })).json<{
      id: string;
    }>();
    const other = await signupOwner(t.app, 'Elsewhere');
    await api.post(`${base()}/invitations`, {
      email: other.email,
      clientId: client.id,
      clientRole: 'client_editor',
    });
    expect((await accept({ token: tokenSentTo(other.email) })).statusCode).toBe(200);
    expect((await as(t.app, other.token).get(`${base()}/clients/${client.id}`)).statusCode).toBe(
      200,
    );

    const doomed = (
      await api.post(`${base()}/invitations`, { email: 'late@example.com', role: 'member' })
    ).json<{ id: string }>();
    const doomedToken = tokenSentTo('late@example.com');
    expect((await api.delete(`${base()}/invitations/${doomed.id}`)).statusCode).toBe(204);
    expect(
      (await accept({ token: doomedToken, password: 'another long passphrase' })).statusCode,
    ).toBe(404);
    // Revoking again is harmless.
    expect((await api.delete(`${base()}/invitations/${doomed.id}`)).statusCode).toBe(204);
    const listed = (await api.get(`${base()}/invitations`)).json<{
      data: { id: string; revokedAt: string | null }[];
    }>();
    expect(listed.data.find((i) => i.id === doomed.id)?.revokedAt).not.toBeNull();
    expect((await api.post(`${base()}/invitations`, { email: 'x@example.com' })).statusCode).toBe(
      400,
    );
  });

  it('keeps ownership with owners and always keeps one owner', async () => {
    const api = as(t.app, owner.token);
    await api.post(`${base()}/invitations`, { email: 'admin.person@example.com', role: 'admin' });
    const adminSession = (
      await accept({
        token: tokenSentTo('admin.person@example.com'),
        password: 'admin long passphrase',
      })
    ).json<{ accessToken: string }>();
    const admin = as(t.app, adminSession.accessToken);
    expect(
      (await admin.post(`${base()}/invitations`, { email: 'o2@example.com', role: 'owner' }))
        .statusCode,
    ).toBe(403);

    const members = (await api.get(`${base()}/members`)).json<{
      data: { userId: string; email: string; role: string }[];
    }>();
    const ownerId = members.data.find((m) => m.role === 'owner')!.userId;
    const adminId = members.data.find((m) => m.email === 'admin.person@example.com')!.userId;
    expect((await admin.patch(`${base()}/members/${ownerId}`, { role: 'member' })).statusCode).toBe(
      403,
    );
    expect((await api.patch(`${base()}/members/${ownerId}`, { role: 'member' })).statusCode).toBe(
      409,
    );
    expect((await api.delete(`${base()}/members/${ownerId}`)).statusCode).toBe(409);
    expect((await api.patch(`${base()}/members/${adminId}`, { role: 'owner' })).statusCode).toBe(
      204,
    );
    expect((await api.patch(`${base()}/members/${adminId}`, { role: 'admin' })).statusCode).toBe(
      204,
    );
    expect(
      (await api.patch(`${base()}/members/0190d1a8-0000-7000-8000-00000000abcd`, { role: 'admin' }))
        .statusCode,
    ).toBe(404);
  });

  it('removes a member, whose access ends on the next request', async () => {
    const api = as(t.app, owner.token);
    await api.post(`${base()}/invitations`, { email: 'leaver@example.com', role: 'member' });
    const session = (
      await accept({ token: tokenSentTo('leaver@example.com'), password: PASSWORD })
    ).json<{ accessToken: string }>();
    const leaver = as(t.app, session.accessToken);
    expect((await leaver.get(`${base()}/clients`)).statusCode).toBe(200);
    const members = (await api.get(`${base()}/members`)).json<{
      data: { userId: string; email: string }[];
    }>();
    const leaverId = members.data.find((m) => m.email === 'leaver@example.com')!.userId;
    expect((await api.delete(`${base()}/members/${leaverId}`)).statusCode).toBe(204);
    expect((await leaver.get(`${base()}/clients`)).statusCode).toBe(404);
    expect((await api.delete(`${base()}/members/${leaverId}`)).statusCode).toBe(404);
  });
});
