import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  generateGhlWebhookKeys,
  ghlSimulator,
  GHL_SANDBOX_LOCATION,
  publicKeyPem,
  signGhlWebhook,
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
import type { InboundWebhook, WebhookSecrets } from '../webhooks/contract';
import { gohighlevelWebhooks } from './webhook';

const keys = generateGhlWebhookKeys();
const secrets: WebhookSecrets = {
  provider: 'gohighlevel',
  ed25519PublicKeyPem: publicKeyPem(keys.ed25519.publicKey),
  rsaPublicKeyPem: publicKeyPem(keys.rsa.publicKey),
};
const ed25519Only: WebhookSecrets = { ...secrets, rsaPublicKeyPem: undefined };

function signedRequest(body: Buffer, headers: Record<string, string | undefined> = {}) {
  return inbound(body, {
    'content-type': 'application/json',
    ...signGhlWebhook(body.toString('utf8'), keys),
    ...headers,
  });
}
const timestampOf = (body: Buffer) =>
  Date.parse((JSON.parse(body.toString('utf8')) as { timestamp: string }).timestamp);
const reasonOf = (result: ReturnType<typeof gohighlevelWebhooks.verify>) =>
  result.valid ? result.scheme : result.reason;

describe('gohighlevelWebhooks.verify (x-ghl-signature Ed25519, legacy x-wh-signature RSA)', () => {
  const body = fixture('gohighlevel', 'ContactCreate.json');
  const now = timestampOf(body);

  it('accepts the Ed25519 signature, and the legacy RSA one only when it is alone', () => {
    const request = signedRequest(body);
    expect(gohighlevelWebhooks.verify(request, secrets, now)).toEqual({
      valid: true,
      scheme: 'ghl-ed25519',
    });
    const legacy = signedRequest(body, { 'x-ghl-signature': undefined });
    expect(reasonOf(gohighlevelWebhooks.verify(legacy, secrets, now))).toBe('ghl-rsa-sha256');
    // Without a configured RSA key the legacy header is not accepted.
    expect(reasonOf(gohighlevelWebhooks.verify(legacy, ed25519Only, now))).toBe(
      'missing_signature',
    );
    expect(
      reasonOf(gohighlevelWebhooks.verify(legacy, { ...secrets, rsaPublicKeyPem: '' }, now)),
    ).toBe('missing_signature');
    // A wrong Ed25519 signature is not rescued by a right RSA one.
    const other = generateGhlWebhookKeys();
    const forged = signedRequest(body, {
      'x-ghl-signature': signGhlWebhook(body.toString('utf8'), other)['x-ghl-signature'],
    });
    expect(reasonOf(gohighlevelWebhooks.verify(forged, secrets, now))).toBe('bad_signature');
  });

  it('rejects every single-byte change of the body or of either signature header', () => {
    const request = signedRequest(body);
    const legacy = signedRequest(body, { 'x-ghl-signature': undefined });
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const rawBody = flipByte(body, position, delta);
        expect(gohighlevelWebhooks.verify({ ...request, rawBody }, secrets, now).valid).toBe(false);
        expect(gohighlevelWebhooks.verify({ ...legacy, rawBody }, secrets, now).valid).toBe(false);
      }),
      { numRuns: 150 },
    );
    const changeHeader = (base: InboundWebhook, name: string, position: number, delta: number) => ({
      ...base,
      headers: {
        ...base.headers,
        [name]: flipHeaderByte(base.headers[name] ?? '', position, delta),
      },
    });
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const ed = changeHeader(request, 'x-ghl-signature', position, delta);
        expect(gohighlevelWebhooks.verify(ed, secrets, now).valid).toBe(false);
        const rsa = changeHeader(legacy, 'x-wh-signature', position, delta);
        expect(gohighlevelWebhooks.verify(rsa, secrets, now).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('bounds replays with the signed timestamp, ±5 minutes', () => {
    const request = signedRequest(body);
    const at = (t: number) => reasonOf(gohighlevelWebhooks.verify(request, secrets, t));
    expect(at(now + 300_000)).toBe('ghl-ed25519');
    expect(at(now - 300_000)).toBe('ghl-ed25519');
    expect(at(now + 300_001)).toBe('stale_timestamp');
    expect(at(now - 300_001)).toBe('future_timestamp');
    const legacy = signedRequest(body, { 'x-ghl-signature': undefined });
    expect(reasonOf(gohighlevelWebhooks.verify(legacy, secrets, now + 600_000))).toBe(
      'stale_timestamp',
    );
    const epochMs = Buffer.from(JSON.stringify({ type: 'AppInstall', timestamp: now }));
    expect(reasonOf(gohighlevelWebhooks.verify(signedRequest(epochMs), secrets, now))).toBe(
      'ghl-ed25519',
    );
  });

  it('names missing, malformed and bad signatures apart', () => {
    const reason = (request: InboundWebhook, s: WebhookSecrets = secrets) =>
      reasonOf(gohighlevelWebhooks.verify(request, s, now));
    expect(reason(inbound(body, {}))).toBe('missing_signature');
    expect(reason(inbound(body, { 'x-ghl-signature': '' }))).toBe('missing_signature');
    expect(reason(inbound(body, { 'x-ghl-signature': 'bm90IGEgc2lnbmF0dXJl' }))).toBe(
      'malformed_signature',
    );
    expect(reason(inbound(body, { 'x-ghl-signature': '!!!' }))).toBe('malformed_signature');
    expect(reason(inbound(body, { 'x-wh-signature': 'abc' }))).toBe('malformed_signature');
    // Signed, but with nothing to place in the replay window.
    for (const unsigned of ['{"type":"AppInstall"}', '{"timestamp":"yesterday"}', 'not json']) {
      expect(reason(signedRequest(Buffer.from(unsigned)))).toBe('malformed_signature');
    }
    const other = generateGhlWebhookKeys();
    const otherKey = { ...secrets, ed25519PublicKeyPem: publicKeyPem(other.ed25519.publicKey) };
    expect(reason(signedRequest(body), otherKey)).toBe('bad_signature');
    expect(reason(signedRequest(body), { ...secrets, ed25519PublicKeyPem: 'not a pem' })).toBe(
      'bad_signature',
    );
    expect(reason(signedRequest(body), { provider: 'n8n', secret: 'x' })).toBe('bad_signature');
  });

  it('never throws, whatever the request', () => {
    expectTotal(gohighlevelWebhooks, secrets, ['x-ghl-signature', 'x-wh-signature']);
  });
});

describe('gohighlevelWebhooks.normalize', () => {
  const normalize = (name: string) =>
    gohighlevelWebhooks.normalize(inbound(fixture('gohighlevel', name)));
  const of = (payload: Record<string, unknown>) =>
    gohighlevelWebhooks.normalize(inbound(JSON.stringify(payload)));

  it('ContactCreate → maxai.crm.contact.created', () => {
    const result = normalize('ContactCreate.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: '3b6f1e4a-9c2d-4f7e-8a1b-5d0c2e9f7a61',
      providerEventType: 'ContactCreate',
      attribution: { ghlLocationId: 've9EPM428h8vShlRW1KT' },
      events: [
        {
          type: 'maxai.crm.contact.created',
          subject: 'nmFmQEsNgz6AVpgLVUJ0',
          time: '2026-12-01T14:58:03.412Z',
          data: {
            provider: 'gohighlevel',
            contactId: 'nmFmQEsNgz6AVpgLVUJ0',
            locationId: 've9EPM428h8vShlRW1KT',
            firstName: 'John',
            lastName: 'Deo',
            email: 'JohnDeo@gmail.com',
            phone: '+919509597501',
            tags: ['id magna sed Lorem', 'Duis dolor commodo aliqua'],
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('gohighlevel', result);
  });

  it('InboundMessage → maxai.messaging.message.received', () => {
    const result = normalize('InboundMessage.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: '8e2a7c10-4b5d-4e9f-a3c6-0f1d2b7e9c58',
      providerEventType: 'InboundMessage',
      attribution: { ghlLocationId: 'l1C08ntBrFjLS0elLIYU' },
      events: [
        {
          type: 'maxai.messaging.message.received',
          subject: 'tmx7DOyN6b2I4ygzB0ic',
          time: '2026-12-01T14:59:10.001Z',
          data: {
            provider: 'gohighlevel',
            messageId: 'tmx7DOyN6b2I4ygzB0ic',
            conversationId: 'fcanlLgpbQgQhderivVs',
            contactId: 'cI08i1Bls3iTB9bKgFJh',
            channel: 'sms',
            body: 'Yes, Tuesday at 3 works for me',
            from: '+15550001111',
            to: '+15550001000',
            locationId: 'l1C08ntBrFjLS0elLIYU',
            sentAt: '2026-12-01T14:59:09.750Z',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('gohighlevel', result);
  });

  it('AppointmentCreate → maxai.calendar.appointment.created, times in UTC', () => {
    const result = normalize('AppointmentCreate.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'c4d9e2f1-7a3b-4c8d-9e0f-1a2b3c4d5e6f',
      providerEventType: 'AppointmentCreate',
      attribution: { ghlLocationId: '0007BWpSzSwfiuSl0tR2' },
      events: [
        {
          type: 'maxai.calendar.appointment.created',
          subject: '0007BWpSzSwfiuSl0tR2',
          time: '2026-12-01T15:01:45.000Z',
          data: {
            provider: 'gohighlevel',
            appointmentId: '0007BWpSzSwfiuSl0tR2',
            calendarId: 'BqTwX8QFwXzpegMve9EQ',
            contactId: '9NkT25Vor1v4aQatFsv2',
            title: 'Appointment with GHL Dev team',
            status: 'confirmed',
            startTime: '2023-09-25T10:30:00.000Z',
            endTime: '2023-09-25T11:00:00.000Z',
            locationId: '0007BWpSzSwfiuSl0tR2',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('gohighlevel', result);
  });

  it('maps the other contact and appointment events', () => {
    const contactTypes = {
      ContactUpdate: 'updated',
      ContactTagUpdate: 'updated',
      ContactDndUpdate: 'updated',
      ContactDelete: 'deleted',
    };
    for (const [type, happened] of Object.entries(contactTypes)) {
      const result = of({
        type,
        webhookId: 'w',
        locationId: 'loc',
        contactId: 'c1',
        tags: ['a', 1],
      });
      expect(result).toMatchObject({
        ok: true,
        events: [
          {
            type: `maxai.crm.contact.${happened}`,
            data: { contactId: 'c1', tags: ['a'] },
          },
        ],
      });
      expectSchemaValid(result);
      expectMappedAsPublished('gohighlevel', result);
    }
    for (const [type, happened] of [
      ['AppointmentUpdate', 'updated'],
      ['AppointmentDelete', 'deleted'],
    ]) {
      const result = of({
        type,
        webhookId: 'w',
        locationId: 'loc',
        appointment: { id: 'a1', calendarId: 'cal', startTime: 'soon' },
      });
      expect(result.ok && result.events[0]).toEqual({
        type: `maxai.calendar.appointment.${String(happened)}`,
        subject: 'a1',
        data: {
          provider: 'gohighlevel',
          appointmentId: 'a1',
          calendarId: 'cal',
          locationId: 'loc',
        },
      });
      expectSchemaValid(result);
    }
  });

  it('acknowledges known events that are nothing of ours', () => {
    expect(of({ type: 'OutboundMessage', webhookId: 'w1', locationId: 'loc' })).toEqual({
      ok: true,
      providerEventId: 'w1',
      providerEventType: 'OutboundMessage',
      attribution: { ghlLocationId: 'loc' },
      events: [],
    });
  });

  it('keeps the dedupe id of unknown types; hashes the body when there is no webhookId', () => {
    expect(of({ type: 'OpportunityCreate', webhookId: 'w2' })).toEqual({
      ok: false,
      reason: 'unknown_type',
      detail: 'no mapping for event type "OpportunityCreate"',
      providerEventId: 'w2',
      providerEventType: 'OpportunityCreate',
    });
    const body = '{"type":"AppUninstall"}';
    expect(gohighlevelWebhooks.normalize(inbound(body))).toMatchObject({
      ok: true,
      providerEventId: `body-sha256:${createHash('sha256').update(body).digest('hex')}`,
    });
  });

  it('calls the rest unparseable, keeping what it could read', () => {
    expect(gohighlevelWebhooks.normalize(inbound('[]'))).toMatchObject({ reason: 'unparseable' });
    expect(of({ webhookId: 'w3' })).toMatchObject({
      reason: 'unparseable',
      providerEventId: 'w3',
    });
    const incomplete = [
      { type: 'ContactCreate', webhookId: 'w', id: 'c1' },
      { type: 'ContactCreate', webhookId: 'w', locationId: 'loc' },
      { type: 'InboundMessage', webhookId: 'w', locationId: 'loc', body: 'hi' },
      { type: 'AppointmentCreate', webhookId: 'w', locationId: 'loc', appointment: { id: 'a' } },
      { type: 'AppointmentCreate', webhookId: 'w', locationId: 'loc', appointment: 'a' },
    ];
    for (const payload of incomplete) {
      expect(of(payload)).toMatchObject({
        ok: false,
        reason: 'unparseable',
        providerEventId: 'w',
        providerEventType: payload.type,
      });
    }
    const bare = of({
      type: 'InboundMessage',
      webhookId: 'w',
      locationId: 'loc',
      messageId: 'm',
      body: 5,
    });
    expect(bare.ok && bare.events[0]?.data).toEqual({
      provider: 'gohighlevel',
      messageId: 'm',
      channel: 'unknown',
      body: '',
      locationId: 'loc',
    });
  });
});

describe('the GoHighLevel simulator’s signed webhooks verify and normalize', () => {
  let server: SimulatorServer;
  let simSecrets: WebhookSecrets;

  beforeAll(async () => {
    server = await createSimulatorServer({
      vendors: [ghlSimulator()],
      publicUrl: 'http://127.0.0.1:9',
    });
    const published = (
      await server.app.inject({ method: 'GET', url: '/_control/ghl/webhook-keys' })
    ).json<{ ed25519PublicKey: string; rsaPublicKey: string }>();
    simSecrets = {
      provider: 'gohighlevel',
      ed25519PublicKeyPem: published.ed25519PublicKey,
      rsaPublicKeyPem: published.rsaPublicKey,
    };
  });
  afterAll(() => server.close());

  it('contact, message and appointment events', async () => {
    const payloads = [
      { type: 'ContactCreate', id: 'c_sim', firstName: 'Pat', phone: '+15550002222' },
      {
        type: 'InboundMessage',
        messageId: 'm_sim',
        contactId: 'c_sim',
        conversationId: 'conv_sim',
        body: 'Yes',
        messageType: 'SMS',
        direction: 'inbound',
      },
      {
        type: 'AppointmentCreate',
        appointment: {
          id: 'a_sim',
          calendarId: 'cal_sales',
          startTime: '2026-12-01T09:00:00-05:00',
        },
      },
    ];
    const types = [];
    for (const payload of payloads) {
      await server.app.inject({ method: 'POST', url: '/_control/ghl/webhooks', payload });
      const webhook = server.context.webhooks.sent.at(-1);
      const request = inbound(webhook?.body ?? '', webhook?.headers);
      expect(gohighlevelWebhooks.verify(request, simSecrets, Date.now())).toEqual({
        valid: true,
        scheme: 'ghl-ed25519',
      });
      const legacy = { ...request, headers: { ...request.headers, 'x-ghl-signature': undefined } };
      expect(gohighlevelWebhooks.verify(legacy, simSecrets, Date.now())).toMatchObject({
        valid: true,
        scheme: 'ghl-rsa-sha256',
      });
      const result = gohighlevelWebhooks.normalize(request);
      expectSchemaValid(result);
      expect(result).toMatchObject({
        ok: true,
        attribution: { ghlLocationId: GHL_SANDBOX_LOCATION },
      });
      types.push(result.ok ? result.events[0]?.type : result.reason);
    }
    expect(types).toEqual([
      'maxai.crm.contact.created',
      'maxai.messaging.message.received',
      'maxai.calendar.appointment.created',
    ]);
  });
});
