import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connections, withTenant, type DatabaseHandle } from '@maxai/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE } from '../src/platform/database/database.module';
import { as, clientUser, signupOwner, type Account } from './support/accounts';
import { startTestApp, type TestApp } from './support/test-app';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'twilio-auth-token-that-must-never-leak';

/** A stand-in provider API on loopback: echoes what it received, answers scripted statuses. */
function fakeProvider(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const status = /status=(\d+)/.exec(req.url!)?.[1];
      res.writeHead(Number(status ?? 200), {
        'content-type': 'application/json',
        'set-cookie': 'provider=1',
        'x-provider-request-id': 'req_123',
        connection: 'close',
      });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
      }),
    ),
  );
}

describe('connections and the proxy', () => {
  let t: TestApp;
  let provider: Awaited<ReturnType<typeof fakeProvider>>;
  let owner: Account;
  let base: string;

  beforeAll(async () => {
    provider = await fakeProvider();
    t = await startTestApp('api', { PROVIDERS: 'sandbox', SIMULATORS_URL: provider.url });
    owner = await signupOwner(t.app);
    base = `/v1/tenants/${owner.tenantId}/connections`;
  });
  afterAll(async () => {
    await t.close();
    provider.server.close();
  });

  async function twilio(name = 'Main'): Promise<string> {
    const res = await as(t.app, owner.token).post(base, {
      provider: 'twilio',
      name,
      credentials: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  }

  it('stores API-key credentials sealed and never shows them', async () => {
    const id = await twilio();
    const api = as(t.app, owner.token);
    for (const res of [await api.get(base), await api.get(`${base}/${id}`)]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(AUTH_TOKEN);
      expect(res.body).not.toContain('credentials');
    }
    expect((await api.get(`${base}/${id}`)).json()).toMatchObject({
      provider: 'twilio',
      authType: 'api_key',
      status: 'active',
    });
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    const [row] = await withTenant(db, owner.tenantId, (tx) =>
      tx.select().from(connections).where(eq(connections.id, id)),
    );
    expect(row!.credentialsSealed).toMatch(/^v1\./);
    expect(row!.credentialsSealed).not.toContain(AUTH_TOKEN);
    const trail = await api.get(
      `/v1/tenants/${owner.tenantId}/audit-events?action=connection.created`,
    );
    expect(trail.body).toContain(id);
    expect(trail.body).not.toContain(AUTH_TOKEN);
  });

  it('refuses bad credentials without echoing them, unknown providers and OAuth ones', async () => {
    const api = as(t.app, owner.token);
    const bad = await api.post(base, {
      provider: 'twilio',
      name: 'x',
      credentials: { accountSid: 'not-a-sid', authToken: 'secret-value-123' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('secret-value-123');
    expect(bad.body).not.toContain('not-a-sid');
    const unknown = await api.post(base, { provider: 'myspace', name: 'x', credentials: {} });
    expect(unknown.statusCode).toBe(404);
    const oauth = await api.post(base, { provider: 'google', name: 'x', credentials: {} });
    expect(oauth.statusCode).toBe(422);
  });

  it('forwards calls with the credentials injected, stripping what must not pass', async () => {
    const id = await twilio('Proxy');
    const res = await t.app.inject({
      method: 'POST',
      url: `${base}/${id}/proxy/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?x=1`,
      headers: {
        authorization: `Bearer ${owner.token}`,
        cookie: 'session=abc',
        'x-custom': 'kept',
        'content-type': 'application/json',
      },
      payload: { To: '+15550100', Body: 'hi' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-provider-request-id']).toBe('req_123');
    expect(res.headers['set-cookie']).toBeUndefined();
    const seen = provider.seen.at(-1)!;
    expect(seen.url).toBe(`/twilio/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?x=1`);
    expect(seen.headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-custom']).toBe('kept');
    expect(JSON.parse(seen.body)).toEqual({ To: '+15550100', Body: 'hi' });
    expect(res.body).not.toContain(AUTH_TOKEN);

    const failed = await as(t.app, owner.token).get(`${base}/${id}/proxy/anything?status=503`);
    expect(failed.statusCode).toBe(503);
  });

  it.each(['..%2f..%2fghl/contacts', '%2e%2e/ghl', '..%5cghl', '%2fevil.example'])(
    'refuses the path %j (no SSRF through path tricks)',
    async (path) => {
      const id = await twilio(`ssrf ${path}`);
      const before = provider.seen.length;
      const res = await as(t.app, owner.token).get(`${base}/${id}/proxy/${path}`);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(provider.seen.length).toBe(before);
    },
  );

  it("keeps a client user to their client's connections, and use apart from read", async () => {
    const client = (
      await as(t.app, owner.token).post(`/v1/tenants/${owner.tenantId}/clients`, { name: 'C' })
    ).json<{ id: string }>();
    const tenantWide = await twilio('Tenant-wide');
    const viewer = await clientUser(t.app, owner.tenantId, client.id, 'client_viewer');
    const viewerApi = as(t.app, viewer.token);
    expect((await viewerApi.get(`${base}/${tenantWide}`)).statusCode).toBe(403);
    const own = await as(t.app, owner.token).post(base, {
      provider: 'retell',
      name: 'Client voice',
      clientId: client.id,
      credentials: { apiKey: 'key_0123456789' },
    });
    const ownId = own.json<{ id: string }>().id;
    expect((await viewerApi.get(`${base}/${ownId}`)).statusCode).toBe(200);
    const listed = (await viewerApi.get(base)).json<{ data: { id: string }[] }>().data;
    expect(listed.map((c) => c.id)).toEqual([ownId]);
    // Viewers read; they do not use the credentials.
    expect((await viewerApi.get(`${base}/${ownId}/proxy/list-agents`)).statusCode).toBe(403);
    const editor = await clientUser(t.app, owner.tenantId, client.id, 'client_editor');
    const used = await as(t.app, editor.token).get(`${base}/${ownId}/proxy/list-agents`);
    expect(used.statusCode).toBe(200);
    expect(provider.seen.at(-1)!.headers.authorization).toBe('Bearer key_0123456789');
    expect((await as(t.app, editor.token).delete(`${base}/${ownId}`)).statusCode).toBe(403);
  });

  it('disconnects, and answers 404 for unknown connections', async () => {
    const id = await twilio('Gone');
    const api = as(t.app, owner.token);
    expect((await api.delete(`${base}/${id}`)).statusCode).toBe(204);
    expect((await api.get(`${base}/${id}`)).statusCode).toBe(404);
    expect((await api.delete(`${base}/${id}`)).statusCode).toBe(404);
    expect((await api.get(`${base}/${id}/proxy/x`)).statusCode).toBe(404);
  });
});
