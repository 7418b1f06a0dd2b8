import { afterEach, describe, expect, it, vi } from 'vitest';
import { seedBanner, SeedService } from '../src/modules/seed/seed.service';
import { as, staffToken } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

const started: TestApp[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const t of started.splice(0)) await t.close();
});

async function login(t: TestApp, email: string, password: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password },
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ accessToken: string }>().accessToken;
}

describe('seed', () => {
  it('creates the platform admin and the demo tenant on the first start, and prints the credentials once', async () => {
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += chunk.toString();
      return true;
    });
    const t = await startTestApp('api', {
      REDIS_URL: '',
      SEED_ON_START: 'true',
      SEED_ADMIN_EMAIL: 'root@example.com',
      SEED_ADMIN_PASSWORD: 'a long admin passphrase',
    });
    started.push(t);
    vi.restoreAllMocks();
    expect(printed).toContain('root@example.com');
    expect(printed).toContain('(from SEED_ADMIN_PASSWORD)');

    const token = await login(t, 'root@example.com', 'a long admin passphrase');
    const me = (await as(t.app, token).get('/v1/me')).json<{
      platformRole: string;
      memberships: { tenantId: string; role: string }[];
    }>();
    expect(me.platformRole).toBe('platform_admin');
    const tenantId = me.memberships[0]!.tenantId;
    // Platform staff act only after enrolling a second factor.
    const unverified = await as(t.app, token).get(`/v1/tenants/${tenantId}/clients`);
    expect(unverified.statusCode).toBe(403);
    expect(unverified.json<{ type: string }>().type).toMatch(/\/mfa-required$/);
    const verified = await staffToken(t.app, 'root@example.com', 'a long admin passphrase');
    const clients = (await as(t.app, verified).get(`/v1/tenants/${tenantId}/clients`)).json<{
      data: { id: string; name: string }[];
    }>();
    expect(clients.data.map((c) => c.name)).toEqual(['Bright Smiles Dental']);
    const agents = (
      await as(t.app, verified).get(`/v1/tenants/${tenantId}/clients/${clients.data[0]!.id}/agents`)
    ).json<{ data: { name: string }[] }>();
    expect(agents.data.map((a) => a.name)).toEqual(['Front Desk']);

    // A later start finds users and leaves everything alone.
    expect(
      await t.app.get(SeedService).seedIfEmpty({ email: 'other@example.com' }),
    ).toBeUndefined();
  });

  it('generates a password when none is configured', async () => {
    const t = await startTestApp('api', { REDIS_URL: '' });
    started.push(t);
    const seeded = await t.app.get(SeedService).seedIfEmpty({ email: 'admin@maxai.local' });
    expect(seeded?.generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(seedBanner(seeded!)).toContain(seeded!.generatedPassword!);
    await login(t, 'admin@maxai.local', seeded!.generatedPassword!);
  });
});
