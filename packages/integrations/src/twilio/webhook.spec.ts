import fc from 'fast-check';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  TWILIO_SIM_ACCOUNT,
  twilioSignature,
  twilioSignedJsonUrl,
  twilioSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import {
  deltas,
  expectMappedAsPublished,
  expectSchemaValid,
  expectTotal,
  fixture,
  flipByte,
  flipHeaderByte,
  inbound,
  positions,
} from '../../test/webhook-kit';
import type { WebhookSecrets } from '../webhooks/contract';
import { parseTwilioForm, TWILIO_EMPTY_TWIML, twilioWebhooks } from './webhook';

const AUTH_TOKEN = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const secrets: WebhookSecrets = { provider: 'twilio', authToken: AUTH_TOKEN };
const PUBLIC_URL = 'https://hooks.maxai.example/webhooks/twilio/t_1?channel=sms';
const NOW = 1_796_137_200_000;
const FORM = 'application/x-www-form-urlencoded';

/** Twilio's own signer, from its SDK: what a real delivery carries. */
const sdkSign = (url: string, params: Record<string, string | string[]>) =>
  twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

function formRequest(body: Buffer, signature: string | undefined, url = PUBLIC_URL) {
  return inbound(body, { 'content-type': FORM, 'x-twilio-signature': signature }, url);
}
const reasonOf = (result: ReturnType<typeof twilioWebhooks.verify>) =>
  result.valid ? 'valid' : result.reason;

describe('twilioWebhooks.verify (X-Twilio-Signature, twilio.com/docs/usage/webhooks/webhooks-security)', () => {
  const body = fixture('twilio', 'inbound-sms.txt');
  const params = parseTwilioForm(body);

  it('accepts what the twilio SDK signs, and the SDK accepts it', () => {
    const signature = sdkSign(PUBLIC_URL, params);
    expect(twilioWebhooks.verify(formRequest(body, signature), secrets, NOW)).toEqual({
      valid: true,
      scheme: 'twilio-hmac-sha1',
    });
    expect(twilio.validateRequest(AUTH_TOKEN, signature, PUBLIC_URL, params)).toBe(true);
  });

  it('behind a proxy: verified against the public URL, with or without :443', () => {
    const withPort = 'https://hooks.maxai.example:443/webhooks/twilio/t_1?channel=sms';
    // Twilio signed the URL as configured; we know it as configured too, in either form.
    expect(
      twilioWebhooks.verify(formRequest(body, sdkSign(withPort, params)), secrets, NOW).valid,
    ).toBe(true);
    expect(
      twilioWebhooks.verify(formRequest(body, sdkSign(PUBLIC_URL, params), withPort), secrets, NOW)
        .valid,
    ).toBe(true);
    // The URL the app sees behind the proxy is not what Twilio signed.
    const local = 'http://10.0.0.7:3000/webhooks/twilio/t_1?channel=sms';
    expect(
      reasonOf(
        twilioWebhooks.verify(formRequest(body, sdkSign(PUBLIC_URL, params), local), secrets, NOW),
      ),
    ).toBe('bad_signature');
  });

  it('signs repeated keys as arrays, like the SDK', () => {
    const repeated = Buffer.from('To=%2B14155551212&Body=b&Body=a&Body=b&MessageSid=SM1');
    const parsed = parseTwilioForm(repeated);
    expect({ ...parsed }).toEqual({ To: '+14155551212', Body: ['b', 'a', 'b'], MessageSid: 'SM1' });
    const signature = sdkSign(PUBLIC_URL, { ...parsed });
    expect(twilio.validateRequest(AUTH_TOKEN, signature, PUBLIC_URL, { ...parsed })).toBe(true);
    expect(twilioWebhooks.verify(formRequest(repeated, signature), secrets, NOW).valid).toBe(true);
    const protoKey = parseTwilioForm(Buffer.from('__proto__=x&constructor=y'));
    expect(Object.keys(protoKey)).toEqual(['__proto__', 'constructor']);
  });

  it('the JSON variant: bodySHA256 in the signed URL covers the raw body', () => {
    const json = Buffer.from(JSON.stringify({ MessageSid: 'SM9', MessageStatus: 'delivered' }));
    const url = twilioSignedJsonUrl(PUBLIC_URL, json.toString('utf8'));
    const signature = sdkSign(url, {});
    const request = inbound(
      json,
      { 'content-type': 'application/json', 'x-twilio-signature': signature },
      url,
    );
    expect(twilioWebhooks.verify(request, secrets, NOW)).toEqual({
      valid: true,
      scheme: 'twilio-body-sha256',
    });
    expect(twilio.validateRequestWithBody(AUTH_TOKEN, signature, url, json.toString('utf8'))).toBe(
      true,
    );
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const tampered = { ...request, rawBody: flipByte(json, position, delta) };
        expect(twilioWebhooks.verify(tampered, secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every single-byte change of the body that changes what it says, and of the header', () => {
    const signature = sdkSign(PUBLIC_URL, params);
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const tampered = flipByte(body, position, delta);
        const result = twilioWebhooks.verify(formRequest(tampered, signature), secrets, NOW);
        // Twilio signs the decoded parameters, not the bytes: `+` and `%20` (or `%2B` and
        // `%2b`) say the same thing. Any change to what the form says must fail.
        if (result.valid) expect({ ...parseTwilioForm(tampered) }).toEqual({ ...params });
        else expect(result.reason).toBe('bad_signature');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const changed = flipHeaderByte(signature, position, delta);
        expect(twilioWebhooks.verify(formRequest(body, changed), secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('names missing, malformed and bad signatures apart', () => {
    const signature = sdkSign(PUBLIC_URL, params);
    const reason = (value: string | undefined, s: WebhookSecrets = secrets, url = PUBLIC_URL) =>
      reasonOf(twilioWebhooks.verify(formRequest(body, value, url), s, NOW));
    expect(reason(undefined)).toBe('missing_signature');
    expect(reason('')).toBe('missing_signature');
    expect(reason('not base64!')).toBe('malformed_signature');
    expect(reason(Buffer.alloc(32).toString('base64'))).toBe('malformed_signature');
    expect(reason(signature, { provider: 'twilio', authToken: 'other-token' })).toBe(
      'bad_signature',
    );
    expect(reason(signature, { provider: 'twilio', authToken: '' })).toBe('bad_signature');
    expect(reason(signature, { provider: 'stripe', signingSecrets: [AUTH_TOKEN] })).toBe(
      'bad_signature',
    );
    expect(reason(signature, secrets, 'not a url')).toBe('bad_signature');
  });

  it('acknowledges with the empty TwiML the SDK writes', () => {
    expect(twilioWebhooks.acknowledgement).toEqual({
      status: 200,
      contentType: 'text/xml',
      body: TWILIO_EMPTY_TWIML,
    });
    expect(new twilio.twiml.MessagingResponse().toString()).toBe(TWILIO_EMPTY_TWIML);
    expect(twilioWebhooks.contentTypes).toEqual([FORM, 'application/json']);
  });

  it('never throws, whatever the request', () => {
    expectTotal(twilioWebhooks, secrets, ['x-twilio-signature', 'content-type']);
  });
});

describe('twilioWebhooks.normalize', () => {
  const normalize = (name: string, contentType = FORM) =>
    twilioWebhooks.normalize(inbound(fixture('twilio', name), { 'content-type': contentType }));

  it('an incoming message → maxai.messaging.sms.received', () => {
    const result = normalize('inbound-sms.txt');
    const sid = 'MM5a2b9c0d1e2f3a4b5c6d7e8f9a0b1c2d';
    expect(result).toEqual({
      ok: true,
      providerEventId: `${sid}:received`,
      providerEventType: 'message.received',
      attribution: { phoneNumber: '+14155551212' },
      events: [
        {
          type: 'maxai.messaging.sms.received',
          subject: sid,
          data: {
            provider: 'twilio',
            messageId: sid,
            from: '+14155559999',
            to: '+14155551212',
            body: 'Can I book for Tuesday? 🙂',
            segments: 1,
            media: [
              {
                url: `https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/${sid}/Media/ME0123456789abcdef0123456789abcdef`,
                contentType: 'image/jpeg',
              },
            ],
            accountId: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
            messagingServiceId: 'MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('twilio', result);
  });

  it('a message status callback → maxai.messaging.sms.status_changed', () => {
    const result = normalize('message-status.txt');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'SM1342fe1b2c904d1ab04f0fc7a58abca9:undelivered',
      providerEventType: 'message.status',
      attribution: { phoneNumber: '+15017122661' },
      events: [
        {
          type: 'maxai.messaging.sms.status_changed',
          subject: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
          data: {
            provider: 'twilio',
            messageId: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
            status: 'undelivered',
            errorCode: '30003',
            from: '+15017122661',
            to: '+15558675310',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('twilio', result);
  });

  it('a voice status callback, no answer → maxai.voice.call.ended, unanswered', () => {
    const result = normalize('voice-status-no-answer.txt');
    const sid = 'CAaaf5bf3f1c6d4a8a9f3c2b1d0e9f8a7b';
    expect(result).toEqual({
      ok: true,
      providerEventId: `${sid}:no-answer`,
      providerEventType: 'call.status',
      attribution: { phoneNumber: '+15017122661' },
      events: [
        {
          type: 'maxai.voice.call.ended',
          subject: sid,
          time: '2026-12-01T15:00:30.000Z',
          data: {
            provider: 'twilio',
            callId: sid,
            direction: 'outbound',
            from: '+15017122661',
            to: '+15558675310',
            endedAt: '2026-12-01T15:00:30.000Z',
            durationSeconds: 0,
            outcome: 'unanswered',
            sipResponseCode: '487',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('twilio', result);
  });

  it('maps each final call status; other statuses are known but emit nothing', () => {
    const call = (fields: Record<string, string>) =>
      twilioWebhooks.normalize(
        inbound(new URLSearchParams({ CallSid: 'CA1', ...fields }).toString()),
      );
    const outcomes = {
      completed: 'completed',
      busy: 'busy',
      failed: 'failed',
      canceled: 'unanswered',
    };
    for (const [status, outcome] of Object.entries(outcomes)) {
      const result = call({ CallStatus: status, From: '+1555', To: '+1666', Direction: 'inbound' });
      expect(result).toMatchObject({
        ok: true,
        providerEventId: `CA1:${status}`,
        attribution: { phoneNumber: '+1666' },
        events: [{ data: { outcome, direction: 'inbound' } }],
      });
      expectSchemaValid(result);
    }
    expect(
      call({ CallStatus: 'completed', AnsweredBy: 'machine_end_beep', Direction: 'outbound-api' }),
    ).toMatchObject({
      attribution: { phoneNumber: undefined },
      events: [{ data: { outcome: 'voicemail', from: '', to: '' } }],
    });
    expect(call({ CallStatus: 'ringing' })).toEqual({
      ok: true,
      providerEventId: 'CA1:ringing',
      providerEventType: 'call.status',
      attribution: { phoneNumber: undefined },
      events: [],
    });
  });

  it('a <Dial> action request, forward not answered → maxai.voice.call.ended of the parent, unanswered', () => {
    const result = normalize('voice-dial-action-no-answer.txt');
    const sid = 'CA1b2c3d4e5f60718293a4b5c6d7e8f901';
    const dialSid = 'CAf0e1d2c3b4a5968778695a4b3c2d1e0f';
    expect(result).toEqual({
      ok: true,
      // Apart from the parent's own status callback (`${sid}:completed`).
      providerEventId: `${sid}:dial:${dialSid}`,
      providerEventType: 'call.dial',
      attribution: { phoneNumber: '+15558675310' },
      events: [
        {
          type: 'maxai.voice.call.ended',
          subject: sid,
          data: {
            provider: 'twilio',
            callId: sid,
            direction: 'inbound',
            from: '+15017122661',
            to: '+15558675310',
            durationSeconds: 0,
            outcome: 'unanswered',
            forwardedCallId: dialSid,
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('twilio', result);
  });

  it('maps each DialCallStatus, whatever the parent CallStatus; unknown ones emit nothing', () => {
    const dial = (fields: Record<string, string>) =>
      twilioWebhooks.normalize(
        inbound(
          new URLSearchParams({
            CallSid: 'CA1',
            From: '+1555',
            To: '+1666',
            Direction: 'inbound',
            CallStatus: 'completed',
            ...fields,
          }).toString(),
        ),
      );
    const outcomes = {
      'no-answer': 'unanswered',
      canceled: 'unanswered',
      busy: 'busy',
      failed: 'failed',
      completed: 'completed',
      answered: 'completed',
    };
    for (const [status, outcome] of Object.entries(outcomes)) {
      const result = dial({ DialCallStatus: status, DialCallSid: 'CA2', DialCallDuration: '12' });
      expect(result).toMatchObject({
        ok: true,
        providerEventId: 'CA1:dial:CA2',
        providerEventType: 'call.dial',
        attribution: { phoneNumber: '+1666' },
        events: [
          {
            subject: 'CA1',
            data: { callId: 'CA1', outcome, direction: 'inbound', forwardedCallId: 'CA2' },
          },
        ],
      });
      expectSchemaValid(result);
    }
    // No forwarded leg (the dial failed before one existed): keyed by the status instead.
    const failed = dial({ DialCallStatus: 'failed' });
    expect(failed).toMatchObject({ ok: true, providerEventId: 'CA1:dial:failed' });
    expect(failed.ok && failed.events[0]?.data).toEqual({
      provider: 'twilio',
      callId: 'CA1',
      direction: 'inbound',
      from: '+1555',
      to: '+1666',
      outcome: 'failed',
    });
    expect(
      dial({ DialCallStatus: 'busy', Direction: 'outbound-api', From: '+1777', To: '' }),
    ).toMatchObject({
      attribution: { phoneNumber: '+1777' },
      events: [{ data: { direction: 'outbound', outcome: 'busy', to: '' } }],
    });
    expect(twilioWebhooks.normalize(inbound('CallSid=CA1&DialCallStatus=ringing'))).toEqual({
      ok: true,
      providerEventId: 'CA1:dial:ringing',
      providerEventType: 'call.dial',
      attribution: { phoneNumber: undefined },
      events: [],
    });
  });

  it('reads the JSON variant, SmsStatus-only callbacks and media edge cases', () => {
    const json = twilioWebhooks.normalize(
      inbound(
        JSON.stringify({
          SmsSid: 'SM2',
          SmsStatus: 'sent',
          From: '+1555',
          Retries: 2,
          Flag: true,
          Nested: {},
        }),
        { 'content-type': 'application/json; charset=utf-8' },
      ),
    );
    expect(json).toMatchObject({
      ok: true,
      providerEventId: 'SM2:sent',
      events: [{ data: { messageId: 'SM2', status: 'sent', from: '+1555' } }],
    });
    const media = twilioWebhooks.normalize(
      inbound(
        'MessageSid=MM1&Body=&NumMedia=3&MediaUrl0=https%3A%2F%2Fm.example%2F0&MediaUrl2=https%3A%2F%2Fm.example%2F2&MediaContentType2=image%2Fpng',
      ),
    );
    expect(media).toMatchObject({
      ok: true,
      providerEventId: 'MM1:received',
      attribution: { phoneNumber: undefined },
      events: [
        {
          data: {
            body: '',
            from: '',
            to: '',
            segments: 1,
            media: [
              { url: 'https://m.example/0', contentType: 'application/octet-stream' },
              { url: 'https://m.example/2', contentType: 'image/png' },
            ],
          },
        },
      ],
    });
    expectSchemaValid(media);
    // Repeated keys: the first value is the field; no NumMedia means no media.
    const repeated = twilioWebhooks.normalize(
      inbound('MessageSid=SM3&MessageSid=SM4&Body=one&Body=two&NumSegments=2'),
    );
    expect(repeated).toMatchObject({
      providerEventId: 'SM3:received',
      events: [{ data: { messageId: 'SM3', body: 'one', segments: 2, media: [] } }],
    });
  });

  it('calls the rest unparseable', () => {
    const of = (body: string, contentType = FORM) =>
      twilioWebhooks.normalize(inbound(body, { 'content-type': contentType }));
    expect(of('[1]', 'application/json')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(of('Foo=bar')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(of('CallSid=CA1')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(of('MessageSid=SM1&To=%2B1')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(twilioWebhooks.normalize(inbound('MessageSid=&CallSid='))).toMatchObject({
      ok: false,
    });
  });
});

describe('the Twilio simulator’s signed webhooks verify and normalize', () => {
  let server: SimulatorServer;
  const url = 'http://127.0.0.1:9/webhooks/twilio';
  const simSecrets: WebhookSecrets = {
    provider: 'twilio',
    authToken: TWILIO_SIM_ACCOUNT.authToken,
  };

  beforeAll(async () => {
    server = await createSimulatorServer({ vendors: [twilioSimulator({ stepDelayMs: null })] });
  });
  afterAll(() => server.close());

  const control = async (path: string, payload: Record<string, unknown>) =>
    (await server.app.inject({ method: 'POST', url: `/_control/twilio${path}`, payload })).json<
      Record<string, unknown>
    >();

  it('an inbound SMS, form-encoded and JSON', async () => {
    for (const format of ['form', 'json'] as const) {
      await control('/inbound', {
        from: '+14155550123',
        to: TWILIO_SIM_ACCOUNT.phoneNumber,
        body: 'Hi there',
        mediaUrls: ['https://media.example/a.jpg'],
        url,
        format,
      });
      const webhook = server.context.webhooks.sent.at(-1);
      const request = inbound(webhook?.body ?? '', webhook?.headers, webhook?.url);
      expect(twilioWebhooks.verify(request, simSecrets, NOW)).toMatchObject({ valid: true });
      const result = twilioWebhooks.normalize(request);
      expectSchemaValid(result);
      expect(result).toMatchObject({
        ok: true,
        attribution: { phoneNumber: TWILIO_SIM_ACCOUNT.phoneNumber },
        events: [
          {
            type: 'maxai.messaging.sms.received',
            data: {
              from: '+14155550123',
              body: 'Hi there',
              media: [{ url: 'https://media.example/a.jpg', contentType: 'image/jpeg' }],
            },
          },
        ],
      });
    }
  });

  it('a status callback of a sent message', async () => {
    const sent = await server.app.inject({
      method: 'POST',
      url: `/twilio/2010-04-01/Accounts/${TWILIO_SIM_ACCOUNT.accountSid}/Messages.json`,
      headers: {
        authorization: `Basic ${Buffer.from(`${TWILIO_SIM_ACCOUNT.accountSid}:${TWILIO_SIM_ACCOUNT.authToken}`).toString('base64')}`,
        'content-type': FORM,
      },
      payload: new URLSearchParams({
        To: '+14155550123',
        From: TWILIO_SIM_ACCOUNT.phoneNumber,
        Body: 'Your appointment is confirmed.',
        StatusCallback: `${url}/status`,
      }).toString(),
    });
    const sid = sent.json<{ sid: string }>().sid;
    await control(`/messages/${sid}/status`, { status: 'undelivered', errorCode: 30003 });
    const webhook = server.context.webhooks.sent.at(-1);
    const request = inbound(webhook?.body ?? '', webhook?.headers, webhook?.url);
    expect(twilioWebhooks.verify(request, simSecrets, NOW)).toMatchObject({ valid: true });
    const result = twilioWebhooks.normalize(request);
    expectSchemaValid(result);
    expect(result).toMatchObject({
      providerEventId: `${sid}:undelivered`,
      attribution: { phoneNumber: TWILIO_SIM_ACCOUNT.phoneNumber },
      events: [{ data: { messageId: sid, status: 'undelivered', errorCode: '30003' } }],
    });
  });

  it('its signer matches ours', () => {
    const body = fixture('twilio', 'message-status.txt');
    const params = parseTwilioForm(body);
    const signature = twilioSignature(AUTH_TOKEN, PUBLIC_URL, { ...params });
    expect(twilioWebhooks.verify(formRequest(body, signature), secrets, NOW).valid).toBe(true);
  });
});
