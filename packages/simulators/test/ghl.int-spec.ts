import {
  createSimulatorServer,
  GHL_SANDBOX_CLIENT,
  GHL_SANDBOX_LOCATION,
  ghlSimulator,
  verifyGhlEd25519,
  verifyGhlRsa,
  type SimulatorServer,
} from '@maxai/simulators';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver } from './receiver';

describe('GoHighLevel simulator fidelity', () => {
  let server: SimulatorServer;
  let url: string;
  let token: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        version: '2021-07-28',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };
  const control = (path: string, body: unknown = {}) => call('POST', `/_control/ghl/${path}`, body);

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await createSimulatorServer({
      vendors: [ghlSimulator()],
      publicUrl: 'http://127.0.0.1:9',
    });
    url = await server.listen(0);
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(async () => {
    await call('POST', '/_control/reset');
    token = String((await control('tokens')).body.access_token);
  });

  it('requires the Version header (401 "version header was not found.") and a published version', async () => {
    const missing = await fetch(`${url}/ghl/contacts/abc`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      statusCode: 401,
      message: 'version header was not found.',
      error: 'Unauthorized',
    });
    const invalid = await call('GET', '/ghl/contacts/abc', undefined, { version: '2020-01-01' });
    expect(invalid).toMatchObject({ status: 401, body: { message: 'version header is invalid' } });
  });

  it('every API route answers 401 without a valid token', async () => {
    const routes: [string, string][] = [
      ['POST', '/ghl/oauth/locationToken'],
      ['POST', '/ghl/contacts/upsert'],
      ['GET', '/ghl/contacts/x'],
      ['POST', '/ghl/contacts/search'],
      ['POST', '/ghl/contacts/x/notes'],
      ['POST', '/ghl/contacts/x/tags'],
      ['DELETE', '/ghl/contacts/x/tags'],
      ['POST', '/ghl/opportunities/'],
      ['PUT', '/ghl/opportunities/x'],
      ['GET', '/ghl/calendars/events'],
      ['GET', '/ghl/calendars/blocked-slots'],
      ['POST', '/ghl/calendars/events/appointments'],
      ['PUT', '/ghl/calendars/events/appointments/x'],
      ['DELETE', '/ghl/calendars/events/x'],
      ['POST', '/ghl/conversations/messages'],
      ['GET', '/ghl/conversations/messages/x'],
      ['GET', '/ghl/conversations/search?locationId=x'],
      ['GET', '/ghl/conversations/x/messages'],
    ];
    for (const [method, path] of routes) {
      const res = await call(method, path, method === 'GET' ? undefined : {}, {
        authorization: 'Bearer nope',
      });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
    }
  });

  it('upsert replaces tags when given; search works without filters or a page limit', async () => {
    const base = { locationId: GHL_SANDBOX_LOCATION, email: 'tags@example.com' };
    await call('POST', '/ghl/contacts/upsert', { ...base, tags: ['a', 'b'] });
    const replaced = await call('POST', '/ghl/contacts/upsert', { ...base, tags: ['c'] });
    expect(replaced.body).toMatchObject({ new: false, contact: { tags: ['c'] } });
    const found = await call('POST', '/ghl/contacts/search', {
      locationId: GHL_SANDBOX_LOCATION,
      filters: [{ field: 'city', value: 'x' }],
    });
    expect(found.body).toMatchObject({ total: 1 });
    expect(
      (
        await call('POST', '/ghl/contacts/search', {
          locationId: GHL_SANDBOX_LOCATION,
          pageLimit: 0,
        })
      ).body,
    ).toMatchObject({ total: 1 });
    expect((await control('calendars', {})).body).toMatchObject({
      id: expect.any(String),
      timeZone: 'America/New_York',
    });
  });

  it('answers 401 with GoHighLevel’s body for a missing or unknown bearer token', async () => {
    const res = await fetch(`${url}/ghl/contacts/abc`, { headers: { version: '2021-07-28' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      statusCode: 401,
      message: 'Invalid token: access token is invalid',
      error: 'Unauthorized',
    });
  });

  it('scopes tokens to their location (403 for another locationId)', async () => {
    const res = await call('POST', '/ghl/contacts/upsert', {
      locationId: 'loc_other',
      email: 'a@example.com',
    });
    expect(res).toMatchObject({ status: 403, body: { statusCode: 403, error: 'Forbidden' } });
  });

  it('validates requests as GoHighLevel does (422 arrays, 400 messages)', async () => {
    expect(await call('POST', '/ghl/contacts/upsert', { email: 'a@example.com' })).toMatchObject({
      status: 422,
      body: { message: ['locationId should not be empty'] },
    });
    expect(
      await call('POST', '/ghl/contacts/upsert', { locationId: GHL_SANDBOX_LOCATION }),
    ).toMatchObject({
      status: 400,
    });
    expect(await call('POST', '/ghl/contacts/search', {})).toMatchObject({ status: 422 });
    const created = await call('POST', '/ghl/contacts/upsert', {
      locationId: GHL_SANDBOX_LOCATION,
      phone: '+15550001111',
      customFields: [{ id: 'cf_1', field_value: 'x' }, { field_value: 'anon' }],
    });
    expect(created).toMatchObject({
      status: 201,
      body: { new: true, traceId: expect.any(String) },
    });
    const contact = created.body.contact as { id: string; customFields: unknown[] };
    expect(contact.customFields).toEqual([
      { id: 'cf_1', value: 'x' },
      { id: 'unknown', value: 'anon' },
    ]);
    const updated = await call('POST', '/ghl/contacts/upsert', {
      locationId: GHL_SANDBOX_LOCATION,
      phone: '+15550001111',
      customFields: [{ key: 'cf_1', field_value: 'y' }],
    });
    expect((updated.body.contact as { customFields: unknown[] }).customFields).toContainEqual({
      id: 'cf_1',
      value: 'y',
    });
    expect(await call('POST', `/ghl/contacts/${contact.id}/notes`, {})).toMatchObject({
      status: 422,
    });
    expect(await call('POST', `/ghl/contacts/${contact.id}/tags`, { tags: 'x' })).toMatchObject({
      status: 422,
    });
    expect(await call('DELETE', `/ghl/contacts/${contact.id}/tags`, { tags: [1] })).toMatchObject({
      status: 422,
    });
    expect(
      await call('POST', '/ghl/opportunities/', { locationId: GHL_SANDBOX_LOCATION }),
    ).toMatchObject({
      status: 422,
    });
    const opp = await call('POST', '/ghl/opportunities/', {
      locationId: GHL_SANDBOX_LOCATION,
      pipelineId: 'p',
      name: 'n',
      contactId: contact.id,
      status: 'open',
    });
    expect(opp.status).toBe(201);
    const oppId = (opp.body.opportunity as { id: string }).id;
    expect(await call('PUT', `/ghl/opportunities/${oppId}`, { status: 'nope' })).toMatchObject({
      status: 422,
    });
    expect(await call('PUT', `/ghl/opportunities/${oppId}`, { name: 'renamed' })).toMatchObject({
      status: 200,
      body: { opportunity: { name: 'renamed', status: 'open' } },
    });
  });

  it('calendars: range validation, unknown calendars, status edits and deletes', async () => {
    await control('calendars', { id: 'cal_x' });
    const contact = (
      await call('POST', '/ghl/contacts/upsert', {
        locationId: GHL_SANDBOX_LOCATION,
        email: 'c@example.com',
      })
    ).body.contact as { id: string };
    const base = { locationId: GHL_SANDBOX_LOCATION, calendarId: 'cal_x', contactId: contact.id };
    const v = { version: '2021-04-15' };
    expect(
      await call('GET', `/ghl/calendars/events?locationId=${GHL_SANDBOX_LOCATION}`, undefined, v),
    ).toMatchObject({
      status: 422,
    });
    expect(
      await call('POST', '/ghl/calendars/events/appointments', { ...base, calendarId: 'nope' }, v),
    ).toMatchObject({
      status: 400,
      body: { message: 'Calendar not found' },
    });
    expect(
      await call('POST', '/ghl/calendars/events/appointments', { ...base, contactId: 'nope' }, v),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await call(
        'POST',
        '/ghl/calendars/events/appointments',
        { ...base, startTime: '2026-12-01T10:00:00Z', appointmentStatus: 'weird' },
        v,
      ),
    ).toMatchObject({ status: 422 });
    const made = await call(
      'POST',
      '/ghl/calendars/events/appointments',
      { ...base, startTime: '2026-12-01T10:00:00Z' },
      v,
    );
    expect(made).toMatchObject({
      status: 201,
      body: {
        appointmentStatus: 'new',
        startTime: '2026-12-01T05:00:00-05:00',
        endTime: '2026-12-01T05:30:00-05:00',
        title: 'Appointment',
      },
    });
    const id = String(made.body.id);
    expect(
      await call(
        'POST',
        '/ghl/calendars/events/appointments',
        { ...base, startTime: '2026-12-01T10:10:00Z', ignoreFreeSlotValidation: true },
        v,
      ),
    ).toMatchObject({ status: 201 });
    expect(
      await call('PUT', `/ghl/calendars/events/appointments/${id}`, { appointmentStatus: 'x' }, v),
    ).toMatchObject({
      status: 422,
    });
    expect(
      await call('PUT', `/ghl/calendars/events/appointments/${id}`, { title: 'Renamed' }, v),
    ).toMatchObject({
      status: 200,
      body: { title: 'Renamed' },
    });
    expect(await call('DELETE', `/ghl/calendars/events/${id}`, undefined, v)).toMatchObject({
      status: 200,
      body: { succeeded: true },
    });
    expect(await call('DELETE', `/ghl/calendars/events/${id}`, undefined, v)).toMatchObject({
      status: 404,
    });
  });

  it('conversations: SMS only, a known contact, a message and a phone', async () => {
    const v = { version: '2021-04-15' };
    const noPhone = (
      await call('POST', '/ghl/contacts/upsert', {
        locationId: GHL_SANDBOX_LOCATION,
        email: 'nophone@example.com',
      })
    ).body.contact as { id: string };
    expect(await call('POST', '/ghl/conversations/messages', { type: 'Email' }, v)).toMatchObject({
      status: 422,
    });
    expect(
      await call('POST', '/ghl/conversations/messages', { type: 'SMS', contactId: 'x' }, v),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await call('POST', '/ghl/conversations/messages', { type: 'SMS', contactId: noPhone.id }, v),
    ).toMatchObject({
      status: 422,
    });
    expect(
      await call(
        'POST',
        '/ghl/conversations/messages',
        { type: 'SMS', contactId: noPhone.id, message: 'hi' },
        v,
      ),
    ).toMatchObject({ status: 400, body: { message: 'Contact does not have a phone number' } });
    const first = await call(
      'POST',
      '/ghl/conversations/messages',
      { type: 'SMS', contactId: noPhone.id, message: 'hi', toNumber: '+15550002222' },
      v,
    );
    const second = await call(
      'POST',
      '/ghl/conversations/messages',
      { type: 'SMS', contactId: noPhone.id, message: 'again', toNumber: '+15550002222' },
      v,
    );
    expect(second.body.conversationId).toBe(first.body.conversationId);
    const read = await call(
      'GET',
      `/ghl/conversations/messages/${String(first.body.messageId)}`,
      undefined,
      v,
    );
    expect(read.body.message).toMatchObject({
      messageType: 'TYPE_SMS',
      direction: 'outbound',
      status: 'pending',
      from: '+15550001000',
    });
    const search = await call(
      'GET',
      `/ghl/conversations/search?locationId=${GHL_SANDBOX_LOCATION}&contactId=${noPhone.id}&limit=x`,
      undefined,
      v,
    );
    expect(search.body).toMatchObject({
      total: 1,
      conversations: [{ id: first.body.conversationId, phone: '', lastMessageBody: 'again' }],
    });
    const listed = await call(
      'GET',
      `/ghl/conversations/${String(first.body.conversationId)}/messages?limit=0`,
      undefined,
      v,
    );
    expect((listed.body.messages as { messages: unknown[] }).messages).toHaveLength(2);
  });

  it('conversations: search by contact, messages newest first, paged by lastMessageId', async () => {
    const v = { version: '2021-04-15' };
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    const them = '+15550003333';
    await control('messages', { phone: them, body: 'in-300', dateAdded: ago(300) });
    await control('messages', {
      phone: them,
      body: 'out-200',
      direction: 'outbound',
      dateAdded: ago(200),
    });
    const seeded = await control('messages', { phone: them, body: 'in-100', dateAdded: ago(100) });
    expect(seeded).toMatchObject({
      status: 201,
      body: { direction: 'inbound', from: them, to: '+15550001000', messageType: 'TYPE_SMS' },
    });
    await control('messages', { phone: '+15550004444', body: 'other', dateAdded: ago(50) });
    await control('messages', { phone: '+15550005555', locationId: 'loc_sandbox_2' });
    const contactId = String(seeded.body.contactId);

    const all = await call(
      'GET',
      `/ghl/conversations/search?locationId=${GHL_SANDBOX_LOCATION}`,
      undefined,
      v,
    );
    expect(all.body).toMatchObject({ total: 2 });
    expect(
      (all.body.conversations as { lastMessageBody: string }[]).map((c) => c.lastMessageBody),
    ).toEqual(['other', 'in-100']);
    const search = await call(
      'GET',
      `/ghl/conversations/search?locationId=${GHL_SANDBOX_LOCATION}&contactId=${contactId}&limit=5`,
      undefined,
      v,
    );
    expect(search.body).toMatchObject({
      total: 1,
      conversations: [
        {
          id: seeded.body.conversationId,
          contactId,
          locationId: GHL_SANDBOX_LOCATION,
          lastMessageBody: 'in-100',
          lastMessageType: 'TYPE_SMS',
          type: 'TYPE_PHONE',
          phone: them,
        },
      ],
    });
    const conversation = `/ghl/conversations/${String(seeded.body.conversationId)}/messages`;
    const page1 = await call('GET', `${conversation}?limit=2`, undefined, v);
    const inner = page1.body.messages as {
      lastMessageId: string;
      nextPage: boolean;
      messages: { body: string; id: string }[];
    };
    expect(inner.messages.map((m) => m.body)).toEqual(['in-100', 'out-200']);
    expect(inner).toMatchObject({ nextPage: true, lastMessageId: inner.messages[1]?.id });
    const page2 = await call(
      'GET',
      `${conversation}?limit=2&lastMessageId=${inner.lastMessageId}`,
      undefined,
      v,
    );
    expect(page2.body.messages).toMatchObject({ nextPage: false, messages: [{ body: 'in-300' }] });
    const defaults = await call('GET', conversation, undefined, v);
    expect((defaults.body.messages as { messages: unknown[] }).messages).toHaveLength(3);
    const calls = await call('GET', `${conversation}?type=TYPE_CALL`, undefined, v);
    expect(calls.body.messages).toEqual({ lastMessageId: '', nextPage: false, messages: [] });
    const sms = await call('GET', `${conversation}?type=TYPE_CALL,TYPE_SMS`, undefined, v);
    expect((sms.body.messages as { messages: unknown[] }).messages).toHaveLength(3);

    expect(await call('GET', '/ghl/conversations/nope/messages', undefined, v)).toMatchObject({
      status: 400,
      body: { message: 'Conversation not found' },
    });
    expect(await call('GET', '/ghl/conversations/search', undefined, v)).toMatchObject({
      status: 422,
    });
    const other = String(
      (await control('tokens', { locationId: 'loc_sandbox_2' })).body.access_token,
    );
    expect(
      await call('GET', conversation, undefined, { ...v, authorization: `Bearer ${other}` }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('GET', `/ghl/conversations/search?locationId=${GHL_SANDBOX_LOCATION}`, undefined, {
        ...v,
        authorization: `Bearer ${other}`,
      }),
    ).toMatchObject({ status: 403 });
    for (const bad of [{}, { phone: 'x' }, { phone: them, dateAdded: 'yesterday' }]) {
      expect(await control('messages', bad)).toMatchObject({ status: 400 });
    }
  });

  it('OAuth: chooselocation redirects back with code and state; bad requests are refused', async () => {
    const redirect = 'https://app.example.com/cb';
    const ok = await call(
      'GET',
      `/ghl/v2/oauth/chooselocation?response_type=code&client_id=${GHL_SANDBOX_CLIENT.clientId}&redirect_uri=${encodeURIComponent(redirect)}&state=xyz&scope=contacts.readonly`,
    );
    expect(ok.status).toBe(302);
    const location = new URL(ok.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('code')).toMatch(/^ghl_code_/);
    const noState = await call(
      'GET',
      `/ghl/oauth/chooselocation?response_type=code&client_id=${GHL_SANDBOX_CLIENT.clientId}&redirect_uri=${encodeURIComponent(redirect)}&locationId=loc_sandbox_2`,
    );
    expect(new URL(noState.headers.get('location') ?? '').searchParams.has('state')).toBe(false);
    expect(
      await call('GET', `/ghl/oauth/chooselocation?response_type=token&client_id=x`),
    ).toMatchObject({ status: 400 });
    const form = async (body: Record<string, string>) => {
      const res = await fetch(`${url}/ghl/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const client = {
      client_id: GHL_SANDBOX_CLIENT.clientId,
      client_secret: GHL_SANDBOX_CLIENT.clientSecret,
    };
    expect(await form({ ...client, grant_type: 'password' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    const code = location.searchParams.get('code') ?? '';
    const tokens = await form({ ...client, grant_type: 'authorization_code', code });
    expect(tokens).toMatchObject({
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: 86399,
        userType: 'Location',
        companyId: 'comp_sandbox',
        locationId: 'loc_sandbox',
        isBulkInstallation: false,
      },
    });
    // A client registered through the control API can refresh only its own tokens.
    await control('clients', { clientId: 'other', clientSecret: 'other-secret' });
    expect(await control('clients', {})).toMatchObject({ status: 400 });
    expect(
      await form({
        client_id: 'other',
        client_secret: 'other-secret',
        grant_type: 'refresh_token',
        refresh_token: String(tokens.body.refresh_token),
      }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('control: unknown tokens, slots and messages are refused; expiring works', async () => {
    expect(await control('tokens/expire', { accessToken: 'nope' })).toMatchObject({ status: 404 });
    expect(await control('slots', { calendarId: 'nope' })).toMatchObject({ status: 400 });
    expect(await control('messages/nope/status', { status: 'delivered' })).toMatchObject({
      status: 404,
    });
    expect(await control('webhooks', {})).toMatchObject({ status: 400 });
    expect(await control('contacts', { email: 'seeded@example.com' })).toMatchObject({
      status: 201,
      body: { locationId: GHL_SANDBOX_LOCATION, email: 'seeded@example.com' },
    });
  });

  it('sends webhooks signed with Ed25519 (x-ghl-signature) and RSA-SHA256 (x-wh-signature)', async () => {
    const keys = (await call('GET', '/_control/ghl/webhook-keys')).body as {
      ed25519PublicKey: string;
      rsaPublicKey: string;
    };
    expect(keys.ed25519PublicKey).toContain('BEGIN PUBLIC KEY');
    const sent = await control('webhooks', {
      url: receiver.url,
      type: 'InboundMessage',
      contactId: 'c1',
      conversationId: 'conv1',
      body: 'Yes, Tuesday works',
      direction: 'inbound',
      messageType: 'SMS',
      from: '+15557654321',
      to: '+15550001000',
    });
    expect(sent).toMatchObject({ status: 201, body: { status: 200, vendor: 'ghl' } });
    const got = receiver.received.at(-1);
    const raw = got?.body ?? '';
    const payload = JSON.parse(raw) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 'InboundMessage',
      locationId: GHL_SANDBOX_LOCATION,
      webhookId: expect.any(String),
      timestamp: expect.any(String),
      body: 'Yes, Tuesday works',
    });
    const ed = String(got?.headers['x-ghl-signature']);
    const rsa = String(got?.headers['x-wh-signature']);
    expect(verifyGhlEd25519(raw, ed, keys.ed25519PublicKey)).toBe(true);
    expect(verifyGhlRsa(raw, rsa, keys.rsaPublicKey)).toBe(true);
    // A changed byte, a signature from the other scheme, or garbage does not verify.
    expect(verifyGhlEd25519(raw.replace('Tuesday', 'Monday'), ed, keys.ed25519PublicKey)).toBe(
      false,
    );
    expect(verifyGhlRsa(raw.replace('Tuesday', 'Monday'), rsa, keys.rsaPublicKey)).toBe(false);
    expect(verifyGhlEd25519(raw, ed, 'not a key')).toBe(false);
    expect(verifyGhlRsa(raw, rsa, 'not a key')).toBe(false);

    // Default target: the platform's /webhooks/gohighlevel; the caller may pin webhookId/timestamp.
    const pinned = await control('webhooks', {
      type: 'AppointmentCreate',
      webhookId: 'wh_fixed',
      timestamp: '2026-12-01T00:00:00.000Z',
      appointment: { id: 'a1', calendarId: 'cal', startTime: '2026-12-01T09:00:00-05:00' },
    });
    expect(pinned.body).toMatchObject({
      url: 'http://127.0.0.1:9/webhooks/gohighlevel',
      status: 'error',
    });
    expect(JSON.parse(String(pinned.body.body))).toMatchObject({
      webhookId: 'wh_fixed',
      timestamp: '2026-12-01T00:00:00.000Z',
    });
  });
});
