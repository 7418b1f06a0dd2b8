import { oneTimeTokens } from '@maxai/db';
import type { DatabaseHandle } from '@maxai/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_SENDER } from '../src/modules/iam/iam.module';
import { DATABASE } from '../src/platform/database/database.module';
import type { SandboxEmailSender } from '../src/platform/email/sandbox-email-sender';
import { SmtpEmailSender } from '../src/platform/email/smtp-email-sender';
import { as, PASSWORD, signupOwner } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let outbox: SandboxEmailSender;
beforeAll(async () => {
  t = await startTestApp('api', { REDIS_URL: '' });
  outbox = t.app.get<SandboxEmailSender>(EMAIL_SENDER);
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload, headers });
const tokenIn = (email: string, label: string) => {
  const text = outbox.messagesTo(email).at(-1)?.text ?? '';
  const token = new RegExp(`${label} token: (mxt_[A-Za-z0-9_-]+)`).exec(text)?.[1];
  expect(token).toBeDefined();
  return token!;
};

describe('password reset', () => {
  it('answers the same for unknown emails, resets with a single-use token and signs out everywhere', async () => {
    const owner = await signupOwner(t.app);
    const session = (
      await post('/v1/auth/login', { email: owner.email, password: PASSWORD })
    ).json<{ refreshToken: string }>();
    expect(
      (await post('/v1/auth/password-reset/request', { email: 'nobody@example.com' })).statusCode,
    ).toBe(202);
    expect(outbox.messagesTo('nobody@example.com')).toEqual([]);
    expect(
      (await post('/v1/auth/password-reset/request', { email: owner.email.toUpperCase() }))
        .statusCode,
    ).toBe(202);
    const token = tokenIn(owner.email, 'Reset');

    const weak = await post('/v1/auth/password-reset/confirm', { token, password: 'password123' });
    expect(weak.statusCode).toBe(400);
    expect(
      (
        await post('/v1/auth/password-reset/confirm', {
          token,
          password: 'my fresh new passphrase',
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (
        await post('/v1/auth/password-reset/confirm', {
          token,
          password: 'another fresh passphrase',
        })
      ).statusCode,
    ).toBe(404);

    expect(
      (await post('/v1/auth/login', { email: owner.email, password: PASSWORD })).statusCode,
    ).toBe(401);
    expect(
      (await post('/v1/auth/login', { email: owner.email, password: 'my fresh new passphrase' }))
        .statusCode,
    ).toBe(200);
    expect(
      (await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode,
    ).toBe(401);
    const trail = (
      await as(t.app, owner.token).get(
        `/v1/tenants/${owner.tenantId}/audit-events?action=auth.password_reset`,
      )
    ).json<{ data: unknown[] }>();
    expect(trail.data).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const owner = await signupOwner(t.app);
    await post('/v1/auth/password-reset/request', { email: owner.email });
    const token = tokenIn(owner.email, 'Reset');
    await t.app
      .get<DatabaseHandle>(DATABASE)
      .db.update(oneTimeTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` });
    expect(
      (
        await post('/v1/auth/password-reset/confirm', {
          token,
          password: 'my fresh new passphrase',
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('email verification', () => {
  it('confirms the address with an emailed token, once', async () => {
    const owner = await signupOwner(t.app);
    const api = as(t.app, owner.token);
    expect((await api.get('/v1/me')).json()).toMatchObject({ user: { emailVerified: false } });
    expect((await api.post('/v1/auth/verify-email/request', {})).statusCode).toBe(202);
    const token = tokenIn(owner.email, 'Verification');
    expect((await post('/v1/auth/verify-email/confirm', { token })).statusCode).toBe(204);
    expect((await post('/v1/auth/verify-email/confirm', { token })).statusCode).toBe(404);
    expect((await api.get('/v1/me')).json()).toMatchObject({ user: { emailVerified: true } });
    // Already verified: nothing more is sent.
    const sent = outbox.messagesTo(owner.email).length;
    await api.post('/v1/auth/verify-email/request', {});
    expect(outbox.messagesTo(owner.email)).toHaveLength(sent);
  });

  it('has no address to verify for an API key', async () => {
    const owner = await signupOwner(t.app);
    const key = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/api-keys`, {
        name: 'k',
        permissions: ['clients:read'],
      })
    ).json<{ key: string }>().key;
    expect((await as(t.app, key).post('/v1/auth/verify-email/request', {})).statusCode).toBe(403);
  });
});

describe('email transport selection', () => {
  it('uses the SMTP adapter when configured', async () => {
    const smtp = await startTestApp('api', {
      REDIS_URL: '',
      EMAIL_TRANSPORT: 'smtp',
      SMTP_URL: 'smtp://127.0.0.1:2525',
    });
    try {
      expect(smtp.app.get(EMAIL_SENDER)).toBeInstanceOf(SmtpEmailSender);
    } finally {
      await smtp.close();
    }
  });
});
