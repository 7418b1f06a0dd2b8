import { randomBytes } from 'node:crypto';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SimulatorServer,
} from '@maxai/simulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../packages/db/test/test-database';
import { spawnTs, type Spawned } from './support/child-process';

const PASSWORD = 'correct horse battery staple';
const TWILIO_TOKEN = `twilio-secret-${randomBytes(8).toString('hex')}`;

/**
 * The platform as it runs, logging at debug: connect providers, proxy calls, fail some — then
 * scan everything it printed for the credentials it handled. None may appear.
 */
describe.skipIf(!process.env.DATABASE_URL)('secrets in logs', () => {
  let sim: SimulatorServer;
  let db: TestDatabase;
  let platform: Spawned;
  let url: string;

  beforeAll(async () => {
    sim = await createSimulatorServer({ vendors: allVendorSimulators() });
    const simUrl = await sim.listen();
    db = await createTestDatabase();
    platform = spawnTs('apps/api/src/main.ts', {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: `logs-${randomBytes(4).toString('hex')}`,
      MASTER_KEY: randomBytes(32).toString('base64'),
      SEED_ON_START: 'false',
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      PUBLIC_URL: 'http://platform.test',
    });
    url = `http://127.0.0.1:${String(await platform.ready)}`;
  });
  afterAll(async () => {
    platform.child.kill('SIGTERM');
    await platform.exited;
    await sim.close();
    await db.drop();
  });

  const call = async (path: string, init: { method?: string; token?: string; body?: unknown }) => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : null,
    });
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  };

  it('never prints a password, access token, provider token or API secret', async () => {
    const signup = await call('/v1/auth/signup', {
      method: 'POST',
      body: { email: 'logs@example.com', password: PASSWORD, tenantName: 'Logs' },
    });
    const { accessToken, refreshToken } = JSON.parse(signup.text) as Record<string, string>;
    const me = JSON.parse((await call('/v1/me', { token: accessToken })).text) as {
      memberships: { tenantId: string }[];
    };
    const base = `/v1/tenants/${me.memberships[0]!.tenantId}/connections`;
    const twilio = await call(base, {
      method: 'POST',
      token: accessToken,
      body: {
        provider: 'twilio',
        name: 'T',
        credentials: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: TWILIO_TOKEN },
      },
    });
    const twilioId = (JSON.parse(twilio.text) as { id: string }).id;
    // A provider refusal (wrong account) and a validation failure echoing nothing.
    await call(
      `${base}/${twilioId}/proxy/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json`,
      {
        token: accessToken,
      },
    );
    await call(base, {
      method: 'POST',
      token: accessToken,
      body: {
        provider: 'twilio',
        name: 'bad',
        credentials: { accountSid: 'x', authToken: TWILIO_TOKEN },
      },
    });
    // An OAuth connect, a proxied call, an expired token refreshed.
    const authorize = await call(`${base}/gohighlevel/authorize`, {
      method: 'POST',
      token: accessToken,
      body: { name: 'G' },
    });
    const consent = await fetch(
      (JSON.parse(authorize.text) as { authorizeUrl: string }).authorizeUrl,
      {
        redirect: 'manual',
      },
    );
    const back = new URL(consent.headers.get('location')!);
    const callback = await call(`${back.pathname}${back.search}`, {});
    const ghlId = callback.location!.split('/').at(-1)!.split('?')[0]!;
    sim.context.faults.add({
      vendor: 'ghl',
      pathIncludes: '/contacts/search',
      status: 401,
      remaining: 1,
    });
    const search = await call(`${base}/${ghlId}/proxy/contacts/search`, {
      method: 'POST',
      token: accessToken,
      body: { locationId: 'loc_sandbox', query: 'x' },
    });
    expect(search.status).toBe(200);
    await call('/v1/auth/refresh', { method: 'POST', body: { refreshToken } });

    await new Promise((r) => setTimeout(r, 300));
    const printed = platform.output();
    expect(printed).toContain('proxied provider call');
    for (const secret of [PASSWORD, accessToken!, refreshToken!, TWILIO_TOKEN]) {
      expect(printed).not.toContain(secret);
    }
    expect(printed).not.toMatch(/ghl_(at|rt)_[0-9a-f]{8}/);
  });
});
