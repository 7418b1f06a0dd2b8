import { ProviderError } from '@maxai/core';
import { TwilioMessaging, twilioErrorKind } from '@maxai/integrations';
import {
  createSimulatorServer,
  TWILIO_SIM_ACCOUNT,
  twilioSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runMessagingContract } from './contracts/messaging.contract';

let server: SimulatorServer;
let root: string;
let baseUrl: string;

beforeAll(async () => {
  server = await createSimulatorServer({ vendors: [twilioSimulator({ stepDelayMs: null })] });
  root = await server.listen(0);
  baseUrl = `${root}/twilio`;
});
afterAll(async () => {
  // A socket a timed-out client opened but never sent a request on is not "idle" to Node: it
  // would hold close() until headersTimeout (60 s).
  server.app.server.closeAllConnections();
  await server.close();
});

async function control(path: string, body: unknown, method = 'POST'): Promise<unknown> {
  const res = await fetch(`${root}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

const adapter = (overrides: Partial<ConstructorParameters<typeof TwilioMessaging>[0]> = {}) =>
  new TwilioMessaging({
    accountSid: TWILIO_SIM_ACCOUNT.accountSid,
    authToken: TWILIO_SIM_ACCOUNT.authToken,
    baseUrl,
    retryBaseMs: 1,
    ...overrides,
  });

runMessagingContract('TwilioMessaging against the Twilio simulator', () =>
  Promise.resolve({
    adapter: adapter(),
    from: TWILIO_SIM_ACCOUNT.phoneNumber,
    foreignFrom: '+15005550099',
    unknownMessageId: `SM${'0'.repeat(32)}`,
    deliver: async (sid: string) => {
      await control(`/_control/twilio/messages/${sid}/status`, { status: 'sent' });
      await control(`/_control/twilio/messages/${sid}/status`, { status: 'delivered' });
    },
    seed: async ({ direction, them, body, at }) => {
      const ours = TWILIO_SIM_ACCOUNT.phoneNumber;
      await control('/_control/twilio/messages', {
        ...(direction === 'inbound' ? { from: them, to: ours } : { from: ours, to: them }),
        direction: direction === 'inbound' ? 'inbound' : 'outbound-api',
        body,
        dateSent: at,
      });
    },
  }),
);

describe('TwilioMessaging', () => {
  const from = TWILIO_SIM_ACCOUNT.phoneNumber;
  const to = '+14155550123';

  beforeEach(async () => {
    await control('/_control/reset', {});
    await control('/_control/twilio/settings', { stepDelayMs: null }, 'PUT');
  });

  it('reports the price once Twilio knows it, and the error code of an undelivered message', async () => {
    const { data } = await adapter().sendSms({
      from,
      to,
      body: 'hi',
      statusCallbackUrl: 'http://127.0.0.1:9/cb',
    });
    await control(`/_control/twilio/messages/${data.id}/status`, {
      status: 'undelivered',
      errorCode: 30003,
    });
    const read = await adapter().getMessage(data.id);
    expect(read.data).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    expect(read.usage).toBeUndefined();
  });

  it('keeps tenants apart: another account cannot read the message', async () => {
    const other = (await control('/_control/twilio/accounts', { numbers: ['+15005550100'] })) as {
      accountSid: string;
      authToken: string;
    };
    const { data } = await adapter().sendSms({ from, to, body: 'private' });
    const error = await adapter({ accountSid: other.accountSid, authToken: other.authToken })
      .getMessage(data.id)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'not_found', providerCode: '20404' });
  });

  describe('listMessages', () => {
    const them = '+14155550166';
    const seed = (message: Record<string, unknown>) =>
      control('/_control/twilio/messages', { dateSent: new Date().toISOString(), ...message });

    it('reads To and From them (and our number when given), one page of the limit each', async () => {
      const second = '+15005550007';
      await control(`/_control/twilio/accounts/${TWILIO_SIM_ACCOUNT.accountSid}/numbers`, {
        phoneNumber: second,
      });
      await seed({ from: them, to: from, body: 'to-first', dateSent: '2024-05-01T10:00:00Z' });
      await seed({ from: them, to: second, body: 'to-second', dateSent: '2024-05-01T10:01:00Z' });
      const urls: URL[] = [];
      const recording: typeof fetch = (input, init) => {
        urls.push(new URL(input instanceof Request ? input.url : String(input)));
        return fetch(input, init);
      };
      const listing = adapter({ fetch: recording });

      expect((await listing.listMessages({ with: them })).data.map((m) => m.body)).toEqual([
        'to-second',
        'to-first',
      ]);
      expect(urls.map((u) => Object.fromEntries(u.searchParams))).toEqual(
        expect.arrayContaining([
          { To: them, PageSize: '20' },
          { From: them, PageSize: '20' },
        ]),
      );
      urls.length = 0;
      const narrowed = await listing.listMessages({ with: them, ours: second, limit: 500 });
      expect(narrowed.data).toMatchObject([{ body: 'to-second', from: them, to: second }]);
      expect(urls.map((u) => Object.fromEntries(u.searchParams))).toEqual(
        expect.arrayContaining([
          { To: them, From: second, PageSize: '100' },
          { From: them, To: second, PageSize: '100' },
        ]),
      );
      expect(urls[0]?.pathname).toBe(
        `/twilio/2010-04-01/Accounts/${TWILIO_SIM_ACCOUNT.accountSid}/Messages.json`,
      );
    });

    it('keeps each direction in order for messages of the same second, to the end of both', async () => {
      const at = '2024-05-01T10:00:00.000Z';
      await seed({ from: them, to: from, body: 'in-a', dateSent: at });
      await seed({ from: them, to: from, body: 'in-b', dateSent: at });
      await seed({ from, to: them, body: 'out-c', direction: 'outbound-api', dateSent: at });
      await seed({
        from,
        to: them,
        body: 'out-earlier',
        direction: 'outbound-api',
        dateSent: '2024-05-01T09:00:00.000Z',
      });
      const { data } = await adapter().listMessages({ with: them });
      expect(data.map((m) => m.body)).toEqual(['out-c', 'in-b', 'in-a', 'out-earlier']);
    });

    it('maps failures as sends and reads do', async () => {
      expect(
        await adapter({ authToken: 'wrong' })
          .listMessages({ with: them })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'auth', status: 401, providerCode: '20003' });
      await control('/_control/faults', {
        vendor: 'twilio',
        method: 'GET',
        status: 500,
        remaining: 1,
      });
      expect((await adapter().listMessages({ with: them })).data).toEqual([]);
      await control('/_control/faults', {
        vendor: 'twilio',
        method: 'GET',
        status: 429,
        retryAfterS: 2,
        remaining: 2,
      });
      expect(
        await adapter({ maxRetries: 0 })
          .listMessages({ with: them })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'rate_limited', providerCode: '20429', retryAfterMs: 2000 });
    });
  });

  describe('error mapping', () => {
    it('wrong credentials → auth (20003)', async () => {
      const error = await adapter({ authToken: 'wrong' })
        .sendSms({ from, to, body: 'x' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        kind: 'auth',
        status: 401,
        providerCode: '20003',
        provider: 'twilio',
      });
    });

    it("invalid 'To' → invalid (21211)", async () => {
      const error = await adapter()
        .sendSms({ from, to: '12', body: 'x' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'invalid', status: 400, providerCode: '21211' });
      expect((error as Error).message).toContain("The 'To' number 12 is not a valid phone number.");
    });

    it('unknown message → not_found (20404)', async () => {
      const error = await adapter()
        .getMessage(`SM${'1'.repeat(32)}`)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'not_found', status: 404, providerCode: '20404' });
    });

    it('500 on a read → transient, retried, then success', async () => {
      const { data } = await adapter().sendSms({ from, to, body: 'x' });
      await control('/_control/faults', {
        vendor: 'twilio',
        method: 'GET',
        status: 500,
        remaining: 1,
      });
      const read = await adapter().getMessage(data.id);
      expect(read.data.id).toBe(data.id);
    });

    it('503 on a send → transient, not retried (Twilio takes no idempotency key)', async () => {
      await control('/_control/faults', {
        vendor: 'twilio',
        method: 'POST',
        status: 503,
        remaining: 1,
      });
      const error = await adapter()
        .sendSms({ from, to, body: 'x' }, { idempotencyKey: 'k1' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'transient', status: 503, providerCode: '20503' });
    });

    it('429 + Retry-After → rate_limited, retried after the delay it asked for', async () => {
      await control('/_control/faults', {
        vendor: 'twilio',
        status: 429,
        retryAfterS: 1,
        remaining: 1,
      });
      const waits: number[] = [];
      const sent = await adapter({ sleep: (ms) => Promise.resolve(void waits.push(ms)) }).sendSms({
        from,
        to,
        body: 'x',
      });
      expect(sent.data.status).toBe('queued');
      expect(waits).toEqual([1000]);

      await control('/_control/faults', {
        vendor: 'twilio',
        status: 429,
        retryAfterS: 2,
        remaining: 1,
      });
      const error = await adapter({ maxRetries: 0 })
        .sendSms({ from, to, body: 'x' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        kind: 'rate_limited',
        providerCode: '20429',
        retryAfterMs: 2000,
      });
    });

    it('no answer in time → transient', async () => {
      await control('/_control/faults', { vendor: 'twilio', latencyMs: 300, remaining: 1 });
      const error = await adapter({ timeoutMs: 50, maxRetries: 0 })
        .getMessage('SMx')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'transient' });
    });

    it('classifies by Twilio code where the status says less', () => {
      expect(twilioErrorKind('14107', 'invalid')).toBe('rate_limited');
      expect(twilioErrorKind('99999', 'invalid')).toBe('invalid');
      expect(twilioErrorKind(undefined, 'transient')).toBe('transient');
    });

    it('reclassifies a 400 carrying a rate-limit code', async () => {
      const fetchStub: typeof fetch = () =>
        Promise.resolve(
          new Response(
            JSON.stringify({ code: 14107, message: 'SMS rate limit exceeded', status: 400 }),
            {
              status: 400,
              headers: { 'content-type': 'application/json' },
            },
          ),
        );
      const error = await adapter({ fetch: fetchStub, maxRetries: 0 })
        .sendSms({ from, to, body: 'x' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'rate_limited', status: 400, providerCode: '14107' });
      expect((error as ProviderError).cause).toBeInstanceOf(ProviderError);
    });

    it('passes a non-JSON error and an abort through', async () => {
      const fetchStub: typeof fetch = () =>
        Promise.resolve(new Response('<html>bad gateway</html>', { status: 502 }));
      const error = await adapter({ fetch: fetchStub, maxRetries: 0 })
        .getMessage('SMx')
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'transient', status: 502, providerCode: undefined });

      const aborted = await adapter()
        .getMessage('SMx', { signal: AbortSignal.abort() })
        .catch((e: unknown) => e);
      expect(aborted).not.toBeInstanceOf(ProviderError);
    });
  });

  it('never lets the credentials out in errors', async () => {
    const secret = 'tok_very_secret_value_1234567890';
    const account = (await control('/_control/twilio/accounts', {
      authToken: secret,
      numbers: ['+15005550111'],
    })) as { accountSid: string };
    const basic = Buffer.from(`${account.accountSid}:${secret}`).toString('base64');
    const errors: unknown[] = [];
    const leaky = adapter({
      accountSid: account.accountSid,
      authToken: secret,
      maxRetries: 0,
      timeoutMs: 50,
    });
    errors.push(
      await leaky.sendSms({ from: '+15005550111', to: 'bad', body: 'x' }).catch((e: unknown) => e),
    );
    errors.push(await leaky.getMessage('SMnope').catch((e: unknown) => e));
    await control('/_control/faults', { vendor: 'twilio', latencyMs: 200, remaining: 1 });
    errors.push(await leaky.getMessage('SMslow').catch((e: unknown) => e));
    errors.push(
      await adapter({ accountSid: account.accountSid, authToken: `${secret}x` })
        .getMessage('SMx')
        .catch((e: unknown) => e),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const text = [
        JSON.stringify(error),
        (error as Error).message,
        (error as Error).stack ?? '',
        String((error as Error).cause),
        JSON.stringify(error, Object.getOwnPropertyNames(error)),
      ].join('\n');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(basic);
    }
  });

  it('maps every Twilio status and tolerates sparse resources', async () => {
    const resource = (fields: Record<string, unknown>) => ({
      sid: 'SMabc',
      status: 'queued',
      from: '+1555',
      to: '+1666',
      body: 'hi',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      error_code: null,
      date_sent: null,
      ...fields,
    });
    const stub =
      (body: unknown): typeof fetch =>
      () =>
        Promise.resolve(Response.json(body, { status: 201 }));
    const cases: [string, string][] = [
      ['accepted', 'queued'],
      ['scheduled', 'queued'],
      ['sending', 'sending'],
      ['read', 'delivered'],
      ['partially_delivered', 'sent'],
      ['failed', 'failed'],
      ['canceled', 'failed'],
      ['receiving', 'received'],
      ['received', 'received'],
      ['something_new', 'queued'],
    ];
    for (const [twilio, ours] of cases) {
      const { data } = await adapter({ fetch: stub(resource({ status: twilio })) }).getMessage(
        'SMabc',
      );
      expect(data.status).toBe(ours);
    }
    const sparse = await adapter({
      fetch: stub(resource({ from: null, body: null, num_segments: null, date_sent: 'garbage' })),
    }).sendSms({ from, to, body: 'x' });
    expect(sparse.data).toMatchObject({ from: '', body: '', segments: 1, sentAt: undefined });
    const priced = await adapter({
      fetch: stub(resource({ price: '-0.01580', date_sent: 'Thu, 24 Aug 2023 05:01:45 +0000' })),
    }).sendSms({ from, to, body: 'x' });
    expect(priced.usage?.costUsd).toBeCloseTo(0.0158);
    expect(priced.data.sentAt).toBe('2023-08-24T05:01:45.000Z');
    const foreign = await adapter({
      fetch: stub(resource({ price: '-0.5', price_unit: 'EUR' })),
    }).sendSms({
      from,
      to,
      body: 'x',
    });
    expect(foreign.usage?.costUsd).toBeUndefined();
    const odd = await adapter({ fetch: stub(resource({ price: 'n/a' })) }).sendSms({
      from,
      to,
      body: 'x',
    });
    expect(odd.usage?.costUsd).toBeUndefined();
  });
});
