import { connections, withTenant, type DatabaseHandle } from '@maxai/db';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SimulatorServer,
} from '@maxai/simulators';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError, ProviderError } from '@maxai/core';
import { GhlCalendar, GhlMessaging, GoogleCalendar } from '@maxai/integrations';
import { RETELL_SIM_WORKSPACE, TWILIO_SIM_ACCOUNT } from '@maxai/simulators';
import { PrincipalCache } from '../src/modules/iam/principal-cache';
import { PortAdapterFactory } from '../src/modules/integrations/port-adapters';
import { ConnectionsService } from '../src/modules/integrations/connections.service';
import {
  refreshTokenJob,
  TokenRefreshScheduler,
} from '../src/modules/integrations/token-refresh.scheduler';
import { DATABASE } from '../src/platform/database/database.module';
import { as, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

const PUBLIC_URL = 'http://platform.test';

describe('OAuth connect, refresh and the proxy, against the provider simulators', () => {
  let sim: SimulatorServer;
  let simUrl: string;
  let t: TestApp;
  let owner: Account;
  let base: string;

  beforeAll(async () => {
    sim = await createSimulatorServer({ vendors: allVendorSimulators() });
    simUrl = await sim.listen();
    t = await startTestApp('api', {
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      PUBLIC_URL,
      PORTAL_URL: 'http://portal.test',
    });
    owner = await signupOwner(t.app);
    base = `/v1/tenants/${owner.tenantId}/connections`;
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  /** Consent at the provider: its authorize page redirects back to our callback. */
  async function connect(provider: string, extra: Record<string, string> = {}): Promise<string> {
    const started = await as(t.app, owner.token).post(`${base}/${provider}/authorize`, {
      name: `${provider} main`,
    });
    expect(started.statusCode).toBe(200);
    const { authorizeUrl } = started.json<{ authorizeUrl: string }>();
    const consentUrl = new URL(authorizeUrl);
    for (const [key, value] of Object.entries(extra)) consentUrl.searchParams.set(key, value);
    const consent = await fetch(consentUrl, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const back = new URL(consent.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(`${PUBLIC_URL}/v1/oauth/callback/${provider}`);
    const callback = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
    expect(callback.statusCode).toBe(302);
    const landed = new URL(callback.headers.location!);
    expect(landed.origin).toBe('http://portal.test');
    // The same state again: spent.
    const replay = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
    expect(replay.statusCode).toBe(400);
    return landed.pathname.split('/').at(-1)!;
  }

  const tokenRequests = () =>
    sim.context.journal.filter((e) => e.vendor === 'ghl' && e.path === '/oauth/token').length;
  const liveToken = async (id: string) =>
    (await t.app.get(ConnectionsService).credentials(owner.tenantId, id)).secrets;
  const searchContacts = (id: string) =>
    t.app.inject({
      method: 'POST',
      url: `${base}/${id}/proxy/contacts/search`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { locationId: 'loc_sandbox', query: 'ana', pageLimit: 5 },
    });

  it('connects GoHighLevel: state, code exchange, tokens sealed, location kept', async () => {
    const started = await as(t.app, owner.token).post(`${base}/gohighlevel/authorize`, {
      name: 'x',
    });
    const url = new URL(started.json<{ authorizeUrl: string }>().authorizeUrl);
    expect(url.href.startsWith(`${simUrl}/ghl/oauth/chooselocation`)).toBe(true);
    expect(url.searchParams.get('client_id')).toBe('ghl_client_sandbox');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = await connect('gohighlevel');
    const connection = (await as(t.app, owner.token).get(`${base}/${id}`)).json<{
      authType: string;
      attributes: Record<string, string>;
      accessExpiresAt: string;
    }>();
    expect(connection).toMatchObject({
      authType: 'oauth2',
      attributes: { locationId: 'loc_sandbox', userType: 'Location' },
    });
    expect(Date.parse(connection.accessExpiresAt)).toBeGreaterThan(Date.now());
    const { accessToken } = await liveToken(id);
    const listed = await as(t.app, owner.token).get(base);
    expect(listed.body).not.toContain(accessToken!);
    // The proxy injects the token and GoHighLevel's Version header.
    const found = await searchContacts(id);
    expect(found.statusCode).toBe(200);
    expect(found.body).not.toContain(accessToken!);
  });

  it('uses PKCE with Google', async () => {
    const started = await as(t.app, owner.token).post(`${base}/google/authorize`, { name: 'g' });
    const url = new URL(started.json<{ authorizeUrl: string }>().authorizeUrl);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = await connect('google');
    expect((await liveToken(id)).refreshToken).toBeDefined();
  });

  it('refreshes on a 401, once, storing the rotated refresh token', async () => {
    const id = await connect('gohighlevel');
    const before = await liveToken(id);
    await fetch(`${simUrl}/_control/ghl/tokens/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: before.accessToken }),
    });
    const requestsBefore = tokenRequests();
    expect((await searchContacts(id)).statusCode).toBe(200);
    expect(tokenRequests() - requestsBefore).toBe(1);
    const after = await liveToken(id);
    expect(after.accessToken).not.toBe(before.accessToken);
    // GoHighLevel refresh tokens are single use: the new one was kept.
    expect(after.refreshToken).not.toBe(before.refreshToken);
  });

  it('refreshes an expired token exactly once for 50 concurrent calls', async () => {
    const id = await connect('gohighlevel');
    const { accessToken } = await liveToken(id);
    await fetch(`${simUrl}/_control/ghl/tokens/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken }),
    });
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    await withTenant(db, owner.tenantId, (tx) =>
      tx
        .update(connections)
        .set({ accessExpiresAt: new Date(Date.now() - 1000) })
        .where(eq(connections.id, id)),
    );
    await t.app.get(PrincipalCache).invalidate({ connections: [id] });
    const requestsBefore = tokenRequests();
    const results = await Promise.all(Array.from({ length: 50 }, () => searchContacts(id)));
    expect(results.map((r) => r.statusCode)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(tokenRequests() - requestsBefore).toBe(1);
  });

  it('marks the connection needs_reauth when the provider refuses the refresh', async () => {
    const id = await connect('gohighlevel');
    const { accessToken } = await liveToken(id);
    await fetch(`${simUrl}/_control/ghl/tokens/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken }),
    });
    sim.context.faults.add({
      vendor: 'ghl',
      pathIncludes: '/oauth/token',
      status: 400,
      remaining: 1,
    });
    const res = await searchContacts(id);
    expect(res.statusCode).toBe(409);
    const connection = (await as(t.app, owner.token).get(`${base}/${id}`)).json<{
      status: string;
      lastError: string;
    }>();
    expect(connection.status).toBe('needs_reauth');
    expect(connection.lastError).toMatch(/token refresh failed/);
    expect((await searchContacts(id)).statusCode).toBe(409);
    const trail = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=connection.needs_reauth`,
    );
    expect(trail.json<{ data: { targetId: string }[] }>().data[0]!.targetId).toBe(id);
    // …and emitted as a CloudEvent.
    const events = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/events?type=maxai.integrations.connection.needs_reauth`,
    );
    expect(events.json<{ data: unknown[] }>().data[0]).toMatchObject({
      specversion: '1.0',
      type: 'maxai.integrations.connection.needs_reauth',
      source: '/maxai/integrations',
      subject: `connections/${id}`,
      tenantid: owner.tenantId,
      data: { connectionId: id, provider: 'gohighlevel' },
    });
    const page = await as(t.app, owner.token).get(`/v1/tenants/${owner.tenantId}/events?limit=1`);
    const first = page.json<{ data: { id: string }[]; nextCursor: string | null }>();
    expect(first.nextCursor).toBe(first.data[0]!.id);
    const next = await as(t.app, owner.token).get(
      `/v1/tenants/${owner.tenantId}/events?limit=1&cursor=${first.nextCursor!}`,
    );
    expect(next.json<{ data: { id: string }[] }>().data[0]?.id).not.toBe(first.nextCursor);
  });

  it("issues a location's connection from an agency (Company) connection", async () => {
    // The agency picks "Company" on GoHighLevel's consent page.
    const agency = await connect('gohighlevel', { user_type: 'Company' });
    const api = as(t.app, owner.token);
    expect((await api.get(`${base}/${agency}`)).json()).toMatchObject({
      attributes: { userType: 'Company', companyId: 'comp_sandbox' },
    });
    const created = await api.post(`${base}/${agency}/location-token`, {
      locationId: 'loc_sandbox_2',
      name: 'Second location',
    });
    expect(created.statusCode).toBe(201);
    const location = created.json<{ id: string; attributes: Record<string, string> }>();
    expect(location.attributes).toMatchObject({
      userType: 'Location',
      locationId: 'loc_sandbox_2',
      companyConnectionId: agency,
    });
    const found = await t.app.inject({
      method: 'POST',
      url: `${base}/${location.id}/proxy/contacts/search`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { locationId: 'loc_sandbox_2', query: 'x' },
    });
    expect(found.statusCode).toBe(200);
    // Only an agency connection can do this.
    const fromLocation = await api.post(`${base}/${location.id}/location-token`, {
      locationId: 'loc_sandbox',
      name: 'x',
    });
    expect(fromLocation.statusCode).toBe(422);
    sim.context.faults.add({
      vendor: 'ghl',
      pathIncludes: '/oauth/locationToken',
      status: 400,
      remaining: 1,
    });
    const refused = await api.post(`${base}/${agency}/location-token`, {
      locationId: 'loc_sandbox',
      name: 'x',
    });
    expect(refused.statusCode).toBe(422);
  });

  it('refreshes tokens ahead of expiry through the background job', async () => {
    const id = await connect('gohighlevel');
    const before = await liveToken(id);
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const expireIn = async (ms: number) => {
      await withTenant(db, owner.tenantId, (tx) =>
        tx
          .update(connections)
          .set({ accessExpiresAt: new Date(Date.now() + ms) })
          .where(eq(connections.id, id)),
      );
      // Changed behind the API's back: drop the cached credentials.
      await t.app.get(PrincipalCache).invalidate({ connections: [id] });
    };
    await expireIn(5 * 60_000);
    const scheduler = t.app.get(TokenRefreshScheduler);
    expect(await scheduler.sweep()).toBeGreaterThanOrEqual(1);
    const job = refreshTokenJob(t.app.get(ConnectionsService));
    const payload = { tenantId: owner.tenantId, correlationId: 'test', connectionId: id };
    await job.handler(payload, {} as never);
    const after = await liveToken(id);
    expect(after.accessToken).not.toBe(before.accessToken);
    // Not due any more: the job leaves it alone.
    await job.handler(payload, {} as never);
    expect((await liveToken(id)).accessToken).toBe(after.accessToken);
    // The provider down: the job fails to be retried, the connection stays active.
    await expireIn(60_000);
    sim.context.faults.add({
      vendor: 'ghl',
      pathIncludes: '/oauth/token',
      status: 503,
      remaining: 1,
    });
    const down = await job.handler(payload, {} as never).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ProviderError);
    expect((await as(t.app, owner.token).get(`${base}/${id}`)).json()).toMatchObject({
      status: 'active',
    });
    // A refused refresh is final for the job.
    sim.context.faults.add({
      vendor: 'ghl',
      pathIncludes: '/oauth/token',
      status: 401,
      remaining: 1,
    });
    await expect(job.handler(payload, {} as never)).rejects.toBeInstanceOf(PermanentJobError);
    const gone = { ...payload, connectionId: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' };
    await expect(job.handler(gone, {} as never)).rejects.toBeInstanceOf(PermanentJobError);
    scheduler.start();
    scheduler.start();
    scheduler.stop();
  });

  it('builds, from bindings, an adapter for every port that works against its provider', async () => {
    const api = as(t.app, owner.token);
    const keyed = async (provider: string, credentials: Record<string, string>) => {
      const res = await api.post(base, { provider, name: provider, credentials });
      expect(res.statusCode).toBe(201);
      return res.json<{ id: string }>().id;
    };
    const ids = {
      crm: await connect('gohighlevel'),
      calendar: await connect('google'),
      messaging: await keyed('twilio', {
        accountSid: TWILIO_SIM_ACCOUNT.accountSid,
        authToken: TWILIO_SIM_ACCOUNT.authToken,
      }),
      voice: await keyed('retell', { apiKey: RETELL_SIM_WORKSPACE.apiKey }),
      llm: await keyed('openrouter', { apiKey: 'sk-or-v1-simulator' }),
      payments: await keyed('stripe', { secretKey: 'sk_test_simulator' }),
      workflow: await keyed('n8n', { headerName: 'x-n8n-key', headerValue: 'secret-value' }),
    };
    for (const [port, connectionId] of Object.entries(ids)) {
      expect(
        (await api.put(`/v1/tenants/${owner.tenantId}/bindings/${port}`, { connectionId }))
          .statusCode,
      ).toBe(200);
    }
    const factory = t.app.get(PortAdapterFactory);
    const tenantId = owner.tenantId;
    const crm = await factory.forScope(tenantId, 'crm', {});
    const { data: upserted } = await crm.upsertContact({ email: 'ana@example.com', name: 'Ana' });
    expect(upserted.contact.email).toBe('ana@example.com');
    const calendar = await factory.forScope(tenantId, 'calendar', {});
    expect(calendar).toBeInstanceOf(GoogleCalendar);
    const sms = await factory.forScope(tenantId, 'messaging', {});
    const sent = await sms.sendSms({
      from: TWILIO_SIM_ACCOUNT.phoneNumber,
      to: '+14155550123',
      body: 'hi',
    });
    expect(sent.usage?.units).toEqual([{ name: 'sms_segment', quantity: 1 }]);
    const voice = await factory.forScope(tenantId, 'voice', {});
    const agent = await voice.createAgent({
      name: 'Front Desk',
      prompt: 'Be kind.',
      voiceId: '11labs-Adrian',
    });
    expect(agent.data.id).not.toBe('');
    const llm = await factory.forScope(tenantId, 'llm', {});
    const completion = await llm.complete({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.usage?.provider).toBe('openrouter');
    const payments = await factory.forScope(tenantId, 'payments', {});
    expect((await payments.createCustomer({ email: 'payer@example.com' })).data.id).toMatch(
      /^cus_/,
    );
    const workflow = await factory.forScope(tenantId, 'workflow', {});
    const missing = await workflow
      .trigger({ webhookPath: 'not-registered', payload: {}, mode: 'sync' })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: 'not_found', provider: 'n8n' });
    // Each is a GoHighLevel CRM, Calendar or Messaging adapter by port.
    expect(await factory.forConnection(tenantId, ids.crm, 'calendar')).toBeInstanceOf(GhlCalendar);
    expect(await factory.forConnection(tenantId, ids.crm, 'messaging')).toBeInstanceOf(
      GhlMessaging,
    );
    await expect(factory.forConnection(tenantId, ids.llm, 'crm')).rejects.toMatchObject({
      status: 422,
    });
    const stranger = await signupOwner(t.app);
    await expect(factory.forScope(stranger.tenantId, 'crm', {})).rejects.toMatchObject({
      status: 422,
    });
  });

  it('refuses callbacks without state, with unknown state, or with a provider error', async () => {
    const cb = (query: string) =>
      t.app.inject({ method: 'GET', url: `/v1/oauth/callback/gohighlevel${query}` });
    expect((await cb('?code=x')).statusCode).toBe(400);
    expect((await cb('?code=x&state=unknown')).statusCode).toBe(400);
    expect((await cb('')).statusCode).toBe(400);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/oauth/callback/twilio?code=x&state=y' }))
        .statusCode,
    ).toBe(404);
    const started = await as(t.app, owner.token).post(`${base}/gohighlevel/authorize`, {
      name: 'e',
    });
    const state = new URL(started.json<{ authorizeUrl: string }>().authorizeUrl).searchParams.get(
      'state',
    )!;
    const denied = await cb(`?error=access_denied&state=${state}`);
    expect(denied.statusCode).toBe(400);
    expect(denied.json<{ detail: string }>().detail).toMatch(/access_denied/);
    const started2 = await as(t.app, owner.token).post(`${base}/gohighlevel/authorize`, {
      name: 'e',
    });
    const state2 = new URL(started2.json<{ authorizeUrl: string }>().authorizeUrl).searchParams.get(
      'state',
    )!;
    expect((await cb(`?code=not-a-code&state=${state2}`)).statusCode).toBe(400);
    expect(
      (await as(t.app, owner.token).post(`${base}/twilio/authorize`, { name: 'x' })).statusCode,
    ).toBe(404);
  });
});
