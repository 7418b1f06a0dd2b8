import {
  twilioWebhooks,
  validateTwilioSignature,
  validateTwilioSignatureWithBody,
} from '@maxai/integrations';
import {
  allVendorSimulators,
  createSimulatorServer,
  parseForm,
  TWILIO_SIM_ACCOUNT,
  twilioSegments,
  twilioSignature,
  twilioSimulator,
  type SentWebhook,
  type SimulatorServer,
} from '@maxai/simulators';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver } from './receiver';

let server: SimulatorServer;
let root: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const { accountSid, authToken, phoneNumber } = TWILIO_SIM_ACCOUNT;
const messagesPath = `/twilio/2010-04-01/Accounts/${accountSid}/Messages`;
const basic = (sid: string, token: string) =>
  `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`;

beforeAll(async () => {
  receiver = await startReceiver();
  server = await createSimulatorServer({
    vendors: [twilioSimulator({ stepDelayMs: 20 })],
    publicUrl: receiver.url,
  });
  root = await server.listen(0);
});
afterAll(async () => {
  await receiver.close();
  await server.close();
});
beforeEach(async () => {
  await fetch(`${root}/_control/reset`, { method: 'POST' });
  receiver.received.length = 0;
});

async function send(
  form: Record<string, string>,
  auth = basic(accountSid, authToken),
  path = messagesPath,
) {
  const res = await fetch(`${root}${path}.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function control(path: string, body?: unknown, method = 'POST') {
  const res = await fetch(`${root}/_control/twilio${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
};

describe('Twilio simulator: Messages API', () => {
  it('creates a message as Twilio answers it (201, SM… sid, queued, RFC 2822 dates)', async () => {
    const { status, body } = await send({ To: '+14155550123', From: phoneNumber, Body: 'Hello' });
    expect(status).toBe(201);
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(body).toMatchObject({
      account_sid: accountSid,
      api_version: '2010-04-01',
      status: 'queued',
      direction: 'outbound-api',
      num_segments: '1',
      num_media: '0',
      price: null,
      price_unit: 'USD',
      date_sent: null,
      error_code: null,
      to: '+14155550123',
      from: phoneNumber,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${String(body.sid)}.json`,
    });
    expect(body.date_created).toMatch(
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
  });

  it('401 with Twilio 20003 body for missing or wrong credentials', async () => {
    for (const auth of [
      '',
      basic(accountSid, 'wrong'),
      'Bearer x',
      basic('ACnobody', authToken),
      'Basic Og==',
    ]) {
      const { status, body } = await send(
        { To: '+14155550123', From: phoneNumber, Body: 'x' },
        auth,
      );
      expect(status).toBe(401);
      expect(body).toEqual({
        code: 20003,
        detail: 'Your AccountSid or AuthToken was incorrect.',
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
    }
    const read = await fetch(`${root}${messagesPath}/SM1.json`);
    expect(read.status).toBe(401);
  });

  it('validation errors with Twilio codes', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ From: phoneNumber, Body: 'x' }, 21604],
      [{ To: '555', From: phoneNumber, Body: 'x' }, 21211],
      [{ To: '+15005550001', From: phoneNumber, Body: 'x' }, 21211],
      [{ To: '+15005550002', From: phoneNumber, Body: 'x' }, 21612],
      [{ To: '+15005550003', From: phoneNumber, Body: 'x' }, 21408],
      [{ To: '+15005550004', From: phoneNumber, Body: 'x' }, 21610],
      [{ To: '+15005550009', From: phoneNumber, Body: 'x' }, 21614],
      [{ To: '+14155550123', Body: 'x' }, 21603],
      [{ To: '+14155550123', From: '+14155550999', Body: 'x' }, 21606],
      [{ To: phoneNumber, From: phoneNumber, Body: 'x' }, 21266],
      [{ To: '+14155550123', From: phoneNumber }, 21602],
      [{ To: '+14155550123', From: phoneNumber, Body: 'x'.repeat(1601) }, 21617],
    ];
    for (const [form, code] of cases) {
      const { status, body } = await send(form);
      expect({ status, code: body.code }).toEqual({ status: 400, code });
      expect(body.more_info).toBe(`https://www.twilio.com/docs/errors/${String(code)}`);
    }
    const media = await send({
      To: '+14155550123',
      From: phoneNumber,
      MediaUrl: 'https://x.test/a.jpg',
    });
    expect(media.body).toMatchObject({ status: 'queued', num_media: '1' });
    const repeated = await fetch(`${root}${messagesPath}.json`, {
      method: 'POST',
      headers: {
        authorization: basic(accountSid, authToken),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'To=%2B14155550123&To=%2B14155550124&From=%2B15005550006&Body=hi',
    });
    expect(((await repeated.json()) as { to: string }).to).toBe('+14155550123');
  });

  it("another account's path or message is not found (20404)", async () => {
    const other = await control('/accounts', { numbers: ['+15005550100'] });
    const otherAuth = basic(String(other.body.accountSid), String(other.body.authToken));
    const created = await send({ To: '+14155550123', From: phoneNumber, Body: 'x' });
    const onOtherPath = await send(
      { To: '+14155550123', From: '+15005550100', Body: 'x' },
      otherAuth,
    );
    expect(onOtherPath.status).toBe(404);
    expect(onOtherPath.body).toMatchObject({ code: 20404, status: 404 });
    for (const path of [
      `${messagesPath}/${String(created.body.sid)}`,
      `/twilio/2010-04-01/Accounts/${String(other.body.accountSid)}/Messages/${String(created.body.sid)}.json`,
    ]) {
      const res = await fetch(`${root}${path}`, { headers: { authorization: otherAuth } });
      expect(res.status).toBe(404);
    }
    const noJson = await fetch(`${root}${messagesPath}/${String(created.body.sid)}`, {
      headers: { authorization: basic(accountSid, authToken) },
    });
    expect(noJson.status).toBe(404);
  });

  it('progresses queued → sent → delivered, pricing on send, posting signed status callbacks', async () => {
    const callback = `${receiver.url}/status?tenant=t1`;
    const { body } = await send({
      To: '+14155550123',
      From: phoneNumber,
      Body: 'a'.repeat(170),
      StatusCallback: callback,
    });
    await until(() => receiver.received.length >= 2);
    const statuses = receiver.received.map((r) => parseForm(r.body).MessageStatus);
    expect(statuses).toEqual(['sent', 'delivered']);
    for (const hit of receiver.received) {
      const params = parseForm(hit.body);
      const signature = String(hit.headers['x-twilio-signature']);
      expect(twilio.validateRequest(authToken, signature, callback, params)).toBe(true);
      expect(validateTwilioSignature(authToken, callback, params, signature)).toBe(true);
      expect(params).toMatchObject({
        MessageSid: body.sid,
        AccountSid: accountSid,
        From: phoneNumber,
      });
      expect(hit.headers['content-type']).toBe('application/x-www-form-urlencoded');
    }
    const read = await fetch(`${root}${messagesPath}/${String(body.sid)}.json`, {
      headers: { authorization: basic(accountSid, authToken) },
    });
    expect(await read.json()).toMatchObject({
      status: 'delivered',
      num_segments: '2',
      price: '-0.01580',
    });
  });

  describe('listing messages', () => {
    const them = '+14155550123';
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    const list = async (query: Record<string, string>, auth = basic(accountSid, authToken)) => {
      const res = await fetch(
        `${root}${messagesPath}.json?${new URLSearchParams(query).toString()}`,
        {
          headers: { authorization: auth },
        },
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const bodies = (body: Record<string, unknown>) =>
      (body.messages as { body: string }[]).map((m) => m.body);

    beforeEach(async () => {
      await control('/messages', {
        from: them,
        to: phoneNumber,
        body: 'in-300',
        dateSent: ago(300),
      });
      await control('/messages', {
        from: phoneNumber,
        to: them,
        body: 'out-200',
        direction: 'outbound-api',
        dateSent: ago(200),
      });
      await control('/messages', {
        from: them,
        to: phoneNumber,
        body: 'in-100',
        dateSent: ago(100),
      });
      await control('/messages', { from: '+14155550999', to: phoneNumber, body: 'other-50' });
      await send({ To: them, From: phoneNumber, Body: 'out-now' });
    });

    it("filters by To and From, most recent first, in Twilio's list envelope", async () => {
      const toThem = await list({ To: them });
      expect(toThem.status).toBe(200);
      expect(bodies(toThem.body)).toEqual(['out-now', 'out-200']);
      const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
      expect(toThem.body).toMatchObject({
        page: 0,
        page_size: 50,
        start: 0,
        end: 1,
        uri: `${path}?To=%2B14155550123&PageSize=50&Page=0`,
        first_page_uri: `${path}?To=%2B14155550123&PageSize=50&Page=0`,
        next_page_uri: null,
        previous_page_uri: null,
      });
      expect((toThem.body.messages as Record<string, unknown>[])[1]).toMatchObject({
        direction: 'outbound-api',
        status: 'delivered',
        from: phoneNumber,
        to: them,
        date_sent: expect.stringMatching(/ \+0000$/) as string,
      });
      expect(bodies((await list({ From: them })).body)).toEqual(['in-100', 'in-300']);
      const repeated = await fetch(
        `${root}${messagesPath}.json?To=${encodeURIComponent(them)}&To=%2B14155550100`,
        { headers: { authorization: basic(accountSid, authToken) } },
      );
      expect(bodies((await repeated.json()) as Record<string, unknown>)).toEqual([
        'out-now',
        'out-200',
      ]);
      expect(bodies((await list({ From: them, To: phoneNumber })).body)).toEqual([
        'in-100',
        'in-300',
      ]);
      expect(bodies((await list({})).body)).toEqual([
        'out-now',
        'other-50',
        'in-100',
        'out-200',
        'in-300',
      ]);
      expect((await list({ To: '+14155550100' })).body).toMatchObject({
        messages: [],
        start: 0,
        end: 0,
        next_page_uri: null,
      });
    });

    it('pages with PageSize and Page', async () => {
      const first = await list({ PageSize: '2' });
      expect(bodies(first.body)).toEqual(['out-now', 'other-50']);
      expect(first.body.next_page_uri).toMatch(/PageSize=2&Page=1$/);
      const res = await fetch(`${root}/twilio${String(first.body.next_page_uri)}`, {
        headers: { authorization: basic(accountSid, authToken) },
      });
      const second = (await res.json()) as Record<string, unknown>;
      expect(bodies(second)).toEqual(['in-100', 'out-200']);
      expect(second).toMatchObject({ page: 1, start: 2, end: 3 });
      expect(second.previous_page_uri).toMatch(/PageSize=2&Page=0$/);
      const last = await list({ PageSize: '2', Page: '2' });
      expect(bodies(last.body)).toEqual(['in-300']);
      expect(last.body.next_page_uri).toBeNull();
    });

    it('reads through the twilio SDK, which follows next_page_uri', async () => {
      const base = `${root}/twilio`;
      class SimClient extends twilio.RequestClient {
        override request<T>(opts: RequestClient.RequestOptions<T>) {
          return super.request<T>({
            ...opts,
            uri: opts.uri.replace('https://api.twilio.com', base),
          });
        }
      }
      const client = twilio(accountSid, authToken, { httpClient: new SimClient() });
      const read = await client.messages.list({ to: them, pageSize: 1, limit: 5 });
      expect(read.map((m) => m.body)).toEqual(['out-now', 'out-200']);
      expect(read[1]?.dateSent).toBeInstanceOf(Date);
      expect(read[1]?.direction).toBe('outbound-api');
    });

    it('refuses bad paging (400), wrong credentials (401) and another account (404)', async () => {
      const bad: Record<string, string>[] = [
        { PageSize: '0' },
        { PageSize: '1001' },
        { PageSize: 'x' },
        { Page: '-1' },
      ];
      for (const query of bad) {
        const res = await list(query);
        expect(res).toMatchObject({ status: 400, body: { code: 20001, status: 400 } });
      }
      expect((await list({}, basic(accountSid, 'wrong'))).body).toMatchObject({ code: 20003 });
      const other = await control('/accounts', { numbers: ['+15005550100'] });
      const res = await fetch(`${root}${messagesPath}.json`, {
        headers: {
          authorization: basic(String(other.body.accountSid), String(other.body.authToken)),
        },
      });
      expect(res.status).toBe(404);
      const own = await fetch(
        `${root}/twilio/2010-04-01/Accounts/${String(other.body.accountSid)}/Messages.json`,
        {
          headers: {
            authorization: basic(String(other.body.accountSid), String(other.body.authToken)),
          },
        },
      );
      expect(((await own.json()) as Record<string, unknown>).messages).toEqual([]);
    });
  });

  it('answers injected faults in Twilio error shape', async () => {
    for (const [status, code] of [
      [500, 20500],
      [503, 20503],
      [429, 20429],
      [403, 20403],
      [418, 20001],
    ] as const) {
      await fetch(`${root}/_control/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vendor: 'twilio', status, remaining: 1 }),
      });
      const res = await send({ To: '+14155550123', From: phoneNumber, Body: 'x' });
      expect(res).toMatchObject({ status, body: { code, status, message: 'injected fault' } });
    }
  });

  it('signs exactly as the twilio SDK expects, repeated params included', () => {
    const url = 'https://platform.example/webhooks/twilio';
    const params = { Body: 'hi', MediaUrl: ['b', 'a', 'b'], To: '+1', A: 'x', a: 'y' };
    expect(twilioSignature(authToken, url, params)).toBe(
      twilio.getExpectedTwilioSignature(authToken, url, params),
    );
  });

  it('counts segments as Twilio bills them', () => {
    expect(twilioSegments('')).toBe(1);
    expect(twilioSegments('a'.repeat(160))).toBe(1);
    expect(twilioSegments('a'.repeat(161))).toBe(2);
    expect(twilioSegments('€'.repeat(80))).toBe(1);
    expect(twilioSegments('€'.repeat(81))).toBe(2);
    expect(twilioSegments('é'.repeat(160))).toBe(1);
    expect(twilioSegments('ü👋'.repeat(23))).toBe(1);
    expect(twilioSegments('ж'.repeat(71))).toBe(2);
  });

  it('is registered among all vendor simulators', () => {
    expect(allVendorSimulators().map((v) => v.prefix)).toContain('twilio');
  });
});

describe('Twilio simulator: control API', () => {
  it('registers accounts and numbers', async () => {
    const fixed = await control('/accounts', {
      accountSid: `AC${'1'.repeat(32)}`,
      authToken: 'tok',
    });
    expect(fixed).toMatchObject({
      status: 201,
      body: { accountSid: `AC${'1'.repeat(32)}`, numbers: [] },
    });
    const fresh = await control('/accounts');
    expect(fresh.body.accountSid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(
      await control(`/accounts/AC${'1'.repeat(32)}/numbers`, { phoneNumber: '+15005550200' }),
    ).toMatchObject({
      status: 201,
      body: { numbers: ['+15005550200'] },
    });
    expect(
      (await control('/accounts/ACnone/numbers', { phoneNumber: '+15005550200' })).status,
    ).toBe(404);
    expect(
      (await control(`/accounts/AC${'1'.repeat(32)}/numbers`, { phoneNumber: '12' })).status,
    ).toBe(400);
    expect((await control(`/accounts/AC${'1'.repeat(32)}/numbers`)).status).toBe(400);
    const sent = await send(
      { To: '+14155550123', From: '+15005550200', Body: 'x' },
      basic(`AC${'1'.repeat(32)}`, 'tok'),
      `/twilio/2010-04-01/Accounts/AC${'1'.repeat(32)}/Messages`,
    );
    expect(sent.status).toBe(201);
  });

  it('forces statuses (with error codes), with automatic progression off', async () => {
    expect((await control('/settings', { stepDelayMs: null }, 'PUT')).body).toEqual({
      stepDelayMs: null,
    });
    expect((await control('/settings', undefined, 'PUT')).body).toEqual({ stepDelayMs: null });
    const { body } = await send({
      To: '+14155550123',
      From: phoneNumber,
      Body: 'x',
      StatusCallback: `${receiver.url}/s`,
    });
    const sid = String(body.sid);
    const failed = await control(`/messages/${sid}/status`, {
      status: 'undelivered',
      errorCode: 30003,
    });
    expect(failed.body.message).toMatchObject({ status: 'undelivered', error_code: 30003 });
    const webhook = failed.body.webhook as SentWebhook;
    expect(parseForm(webhook.body)).toMatchObject({
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    expect((await control(`/messages/${sid}/status`, { status: 'bogus' })).status).toBe(400);
    expect((await control(`/messages/${sid}/status`)).status).toBe(400);
    expect((await control('/messages/SMnone/status', { status: 'sent' })).status).toBe(404);
    const quiet = await send({ To: '+14155550123', From: phoneNumber, Body: 'x' });
    const sent = await control(`/messages/${String(quiet.body.sid)}/status`, { status: 'sent' });
    expect(sent.body.webhook).toBeUndefined();
    expect(sent.body.message).toMatchObject({ status: 'sent', price: '-0.00790' });
  });

  it('stops pending progression on reset and skips finished messages', async () => {
    await control('/settings', { stepDelayMs: 30 }, 'PUT');
    const a = await send({
      To: '+14155550123',
      From: phoneNumber,
      Body: 'x',
      StatusCallback: `${receiver.url}/a`,
    });
    await control(`/messages/${String(a.body.sid)}/status`, { status: 'failed' });
    await new Promise((r) => setTimeout(r, 80));
    expect(receiver.received.map((r) => parseForm(r.body).MessageStatus)).toEqual(['failed']);
    await send({
      To: '+14155550123',
      From: phoneNumber,
      Body: 'x',
      StatusCallback: `${receiver.url}/b`,
    });
    await fetch(`${root}/_control/reset`, { method: 'POST' });
    await new Promise((r) => setTimeout(r, 80));
    expect(receiver.received).toHaveLength(1);
  });

  it('sends a signed inbound SMS webhook (form), readable afterwards as a received message', async () => {
    const url = `${receiver.url}/webhooks/twilio?tenant=t1`;
    const { status, body } = await control('/inbound', {
      from: '+14155550123',
      to: phoneNumber,
      body: 'Can I move my visit?',
      url,
      mediaUrls: ['https://x.test/a.jpg'],
    });
    expect(status).toBe(202);
    const hit = receiver.received[0];
    expect(hit?.url).toBe('/webhooks/twilio?tenant=t1');
    const params = parseForm(hit?.body ?? '');
    expect(params).toMatchObject({
      MessageSid: body.messageSid,
      SmsSid: body.messageSid,
      AccountSid: accountSid,
      From: '+14155550123',
      To: phoneNumber,
      Body: 'Can I move my visit?',
      NumMedia: '1',
      NumSegments: '1',
      MediaUrl0: 'https://x.test/a.jpg',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    });
    const signature = String(hit?.headers['x-twilio-signature']);
    expect(twilio.validateRequest(authToken, signature, url, params)).toBe(true);
    expect(validateTwilioSignature(authToken, url, params, signature)).toBe(true);
    expect(validateTwilioSignature('other-token', url, params, signature)).toBe(false);
    const read = await fetch(`${root}${messagesPath}/${String(body.messageSid)}.json`, {
      headers: { authorization: basic(accountSid, authToken) },
    });
    expect(await read.json()).toMatchObject({ direction: 'inbound', status: 'received' });
  });

  it('sends the JSON bodySHA256 variant, and defaults to the platform URL', async () => {
    await control('/inbound', {
      from: '+14155550123',
      to: phoneNumber,
      body: 'hi',
      url: `${receiver.url}/j`,
      format: 'json',
    });
    const hit = receiver.received[0];
    const signedUrl = `${receiver.url}${hit?.url ?? ''}`;
    expect(signedUrl).toMatch(/\/j\?bodySHA256=[0-9a-f]{64}$/);
    const signature = String(hit?.headers['x-twilio-signature']);
    expect(twilio.validateRequestWithBody(authToken, signature, signedUrl, hit?.body ?? '')).toBe(
      true,
    );
    expect(validateTwilioSignatureWithBody(authToken, signedUrl, hit?.body ?? '', signature)).toBe(
      true,
    );

    const withQuery = await control('/inbound', {
      from: '+14155550123',
      to: phoneNumber,
      url: `${receiver.url}/j?x=1`,
      format: 'json',
    });
    expect((withQuery.body.webhook as SentWebhook).url).toMatch(/\/j\?x=1&bodySHA256=/);

    const defaulted = await control('/inbound', { from: '+14155550123', to: phoneNumber });
    expect((defaulted.body.webhook as SentWebhook).url).toBe(`${receiver.url}/webhooks/twilio`);
  });

  it('seeds message history without posting anything', async () => {
    const inbound = await control('/messages', {
      from: '+14155550123',
      to: phoneNumber,
      body: 'earlier',
      dateSent: '2024-01-02T03:04:05.000Z',
    });
    expect(inbound).toMatchObject({
      status: 201,
      body: {
        direction: 'inbound',
        status: 'received',
        price: null,
        date_sent: 'Tue, 02 Jan 2024 03:04:05 +0000',
      },
    });
    const outbound = await control('/messages', {
      from: phoneNumber,
      to: '+14155550123',
      direction: 'outbound-api',
    });
    expect(outbound).toMatchObject({
      status: 201,
      body: { direction: 'outbound-api', status: 'delivered', body: '', price: '-0.00790' },
    });
    expect(receiver.received).toHaveLength(0);
    for (const bad of [
      { from: '+14155550123', to: '+19999999999' },
      { from: 'x', to: phoneNumber },
      { from: '+14155550123', to: phoneNumber, direction: 'outbound-api' },
      { from: '+14155550123', to: phoneNumber, dateSent: 'yesterday' },
      undefined,
    ]) {
      expect((await control('/messages', bad)).status).toBe(400);
    }
  });

  it('refuses inbound messages to unknown numbers or from invalid ones', async () => {
    expect((await control('/inbound', { from: '+14155550123', to: '+19999999999' })).status).toBe(
      400,
    );
    expect((await control('/inbound', { from: 'x', to: phoneNumber })).status).toBe(400);
    expect((await control('/inbound')).status).toBe(400);
  });
});

describe('Twilio simulator: inbound call status callbacks', () => {
  const caller = '+14155550123';

  it('posts the signed status callback of an inbound call nobody answered', async () => {
    const url = `${receiver.url}/webhooks/twilio?tenant=t1`;
    const { status, body } = await control('/calls/inbound', {
      from: caller,
      to: phoneNumber,
      url,
    });
    expect(status).toBe(202);
    expect(body.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    const hit = receiver.received[0];
    expect(hit?.url).toBe('/webhooks/twilio?tenant=t1');
    expect(hit?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const params = parseForm(hit?.body ?? '');
    expect(params).toEqual(body.params);
    expect(params).toMatchObject({
      CallSid: body.callSid,
      AccountSid: accountSid,
      From: caller,
      Caller: caller,
      To: phoneNumber,
      Called: phoneNumber,
      CallStatus: 'no-answer',
      Direction: 'inbound',
      CallDuration: '0',
      ApiVersion: '2010-04-01',
      CallbackSource: 'call-progress-events',
      SequenceNumber: '0',
    });
    expect(params.Timestamp).toMatch(
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    const signature = String(hit?.headers['x-twilio-signature']);
    expect(twilio.validateRequest(authToken, signature, url, params)).toBe(true);
    expect(validateTwilioSignature(authToken, url, params, signature)).toBe(true);
    expect(validateTwilioSignature('other-token', url, params, signature)).toBe(false);
    expect(hit?.headers['i-twilio-idempotency-token']).toMatch(/^[0-9a-f]{32}$/);
  });

  it("is what the platform's Twilio normalizer reads as an inbound call that ended", async () => {
    const ended = async (input: object) => {
      const { body } = await control('/calls/inbound', { from: caller, to: phoneNumber, ...input });
      const webhook = body.webhook as SentWebhook;
      const result = twilioWebhooks.normalize({
        rawBody: Buffer.from(webhook.body),
        headers: webhook.headers,
        publicUrl: webhook.url,
      });
      expect(result.ok).toBe(true);
      return result.ok ? { id: result.providerEventId, events: result.events } : undefined;
    };
    const busy = await ended({ status: 'busy' });
    expect(busy?.events).toEqual([
      {
        type: 'maxai.voice.call.ended',
        subject: expect.stringMatching(/^CA/),
        time: expect.any(String),
        data: expect.objectContaining({
          provider: 'twilio',
          direction: 'inbound',
          from: caller,
          to: phoneNumber,
          outcome: 'busy',
          durationSeconds: 0,
        }),
      },
    ]);
    expect(busy?.id).toBe(`${String(busy?.events[0]?.subject)}:busy`);
    expect((await ended({}))?.events[0]?.data).toMatchObject({ outcome: 'unanswered' });
    expect((await ended({ status: 'canceled' }))?.events[0]?.data).toMatchObject({
      outcome: 'unanswered',
    });
    expect(
      (await ended({ status: 'completed', durationSeconds: 95 }))?.events[0]?.data,
    ).toMatchObject({ outcome: 'completed', durationSeconds: 95 });
    expect((await ended({ status: 'completed' }))?.events[0]?.data).toMatchObject({
      durationSeconds: 30,
    });
    expect((await ended({ status: 'failed' }))?.events[0]?.data).toMatchObject({
      outcome: 'failed',
    });
  });

  it('defaults to the platform URL', async () => {
    const { body } = await control('/calls/inbound', { from: caller, to: phoneNumber });
    expect((body.webhook as SentWebhook).url).toBe(`${receiver.url}/webhooks/twilio`);
  });

  it('refuses unknown numbers, invalid callers, statuses and durations', async () => {
    for (const bad of [
      { from: caller, to: '+19999999999' },
      { from: 'x', to: phoneNumber },
      { from: caller, to: phoneNumber, status: 'ringing' },
      { from: caller, to: phoneNumber, status: 'no-answer', durationSeconds: 5 },
      { from: caller, to: phoneNumber, status: 'completed', durationSeconds: -1 },
      { from: caller, to: phoneNumber, status: 'completed', durationSeconds: 1.5 },
      undefined,
    ]) {
      expect((await control('/calls/inbound', bad)).status).toBe(400);
    }
    expect(receiver.received).toHaveLength(0);
  });
});

describe('Twilio simulator: inbound calls forwarded with <Dial action>', () => {
  const caller = '+14155550123';
  const normalized = (webhook: SentWebhook) => {
    const result = twilioWebhooks.normalize({
      rawBody: Buffer.from(webhook.body),
      headers: webhook.headers,
      publicUrl: webhook.url,
    });
    expect(result.ok).toBe(true);
    return result.ok ? { id: result.providerEventId, events: result.events } : undefined;
  };

  it('posts the signed <Dial> action request of a forward nobody answered, then the completed status callback', async () => {
    const url = `${receiver.url}/webhooks/twilio?tenant=t1`;
    const actionUrl = `${receiver.url}/webhooks/twilio/dial?tenant=t1`;
    const { status, body } = await control('/calls/inbound', {
      from: caller,
      to: phoneNumber,
      url,
      forward: { url: actionUrl },
    });
    expect(status).toBe(202);
    const forward = body.forward as { dialCallSid: string; params: Record<string, string> };
    expect(forward.dialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(forward.dialCallSid).not.toBe(body.callSid);
    // The action request first (Twilio waits for its TwiML), then the parent's end.
    expect(receiver.received.map((r) => r.url)).toEqual([
      '/webhooks/twilio/dial?tenant=t1',
      '/webhooks/twilio?tenant=t1',
    ]);
    const [action, ended] = receiver.received;
    expect(action?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const params = parseForm(action?.body ?? '');
    expect(params).toEqual(forward.params);
    expect(params).toMatchObject({
      CallSid: body.callSid,
      AccountSid: accountSid,
      From: caller,
      Caller: caller,
      To: phoneNumber,
      Called: phoneNumber,
      Direction: 'inbound',
      CallStatus: 'in-progress',
      ApiVersion: '2010-04-01',
      DialCallStatus: 'no-answer',
      DialCallSid: forward.dialCallSid,
      DialCallDuration: '0',
      DialBridged: 'false',
    });
    const signature = String(action?.headers['x-twilio-signature']);
    expect(twilio.validateRequest(authToken, signature, actionUrl, params)).toBe(true);
    expect(twilio.validateRequest('0'.repeat(32), signature, actionUrl, params)).toBe(false);
    expect(action?.headers['i-twilio-idempotency-token']).toMatch(/^[0-9a-f]{32}$/);
    const endedParams = parseForm(ended?.body ?? '');
    expect(endedParams).toMatchObject({
      CallSid: body.callSid,
      CallStatus: 'completed',
      CallDuration: '20',
    });
    expect(
      twilio.validateRequest(
        authToken,
        String(ended?.headers['x-twilio-signature']),
        url,
        endedParams,
      ),
    ).toBe(true);
  });

  it('is what the normalizer reads as a missed call apart from the completed parent', async () => {
    const forwarded = async (input: object) => {
      const { body } = await control('/calls/inbound', { from: caller, to: phoneNumber, ...input });
      const forward = body.forward as { dialCallSid: string; webhook: SentWebhook };
      return {
        callSid: String(body.callSid),
        dialCallSid: forward.dialCallSid,
        action: normalized(forward.webhook),
        ended: normalized(body.webhook as SentWebhook),
      };
    };
    const missed = await forwarded({ forward: {} });
    expect(missed.action).toEqual({
      id: `${missed.callSid}:dial:${missed.dialCallSid}`,
      events: [
        {
          type: 'maxai.voice.call.ended',
          subject: missed.callSid,
          data: {
            provider: 'twilio',
            callId: missed.callSid,
            direction: 'inbound',
            from: caller,
            to: phoneNumber,
            durationSeconds: 0,
            outcome: 'unanswered',
            forwardedCallId: missed.dialCallSid,
          },
        },
      ],
    });
    expect(missed.ended?.id).toBe(`${missed.callSid}:completed`);
    expect(missed.ended?.events[0]?.data).toMatchObject({ outcome: 'completed' });

    const busy = await forwarded({ forward: { status: 'busy' } });
    expect(busy.action?.events[0]?.data).toMatchObject({ outcome: 'busy' });
    const taken = await forwarded({ forward: { status: 'completed', durationSeconds: 95 } });
    expect(taken.action?.events[0]?.data).toMatchObject({
      outcome: 'completed',
      durationSeconds: 95,
    });
    expect(taken.ended?.events[0]?.data).toMatchObject({
      outcome: 'completed',
      durationSeconds: 115,
    });
    const conference = await forwarded({
      status: 'completed',
      durationSeconds: 40,
      forward: { status: 'answered' },
    });
    expect(conference.action?.events[0]?.data).toMatchObject({
      outcome: 'completed',
      durationSeconds: 30,
    });
    expect(conference.ended?.events[0]?.data).toMatchObject({ durationSeconds: 40 });
  });

  it('sends the action request to the status callback URL by default', async () => {
    const { body } = await control('/calls/inbound', {
      from: caller,
      to: phoneNumber,
      forward: { status: 'failed' },
    });
    const forward = body.forward as { webhook: SentWebhook };
    expect(forward.webhook.url).toBe(`${receiver.url}/webhooks/twilio`);
    expect(parseForm(forward.webhook.body)).toMatchObject({
      DialCallStatus: 'failed',
      DialBridged: 'false',
    });
  });

  it('refuses a forward of a call not completed, unknown forward statuses and durations', async () => {
    for (const bad of [
      { status: 'no-answer', forward: {} },
      { forward: { status: 'ringing' } },
      { forward: { status: 'no-answer', durationSeconds: 3 } },
      { forward: { status: 'completed', durationSeconds: 1.5 } },
      { forward: { status: 'completed', durationSeconds: -1 } },
      { durationSeconds: 10, forward: { status: 'completed', durationSeconds: 30 } },
    ]) {
      expect(
        (await control('/calls/inbound', { from: caller, to: phoneNumber, ...bad })).status,
      ).toBe(400);
    }
    expect(receiver.received).toHaveLength(0);
  });
});
