import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorServer, googleSimulator, type SimulatorServer } from '@maxai/simulators';
import {
  deltas,
  expectMappedAsPublished,
  expectSchemaValid,
  expectTotal,
  fixture,
  flipHeaderByte,
  inbound,
  positions,
} from '../../test/webhook-kit';
import type { WebhookSecrets } from '../webhooks/contract';
import { googleWebhooks } from './webhook';

const CHANNEL = '4ba78bf0-6a47-11e2-bcfd-0800200c9a66';
const TOKEN = '398348u3tu83ut8uu38';
const secrets: WebhookSecrets = { provider: 'google', channelToken: TOKEN, channelIds: [CHANNEL] };
const NOW = 1_796_137_200_000;

const headersOf = (name: string) =>
  JSON.parse(fixture('google', name).toString('utf8')) as Record<string, string>;
const push = (headers: Record<string, string | undefined>) => inbound(Buffer.alloc(0), headers);
const reasonOf = (result: ReturnType<typeof googleWebhooks.verify>) =>
  result.valid ? result.scheme : result.reason;

describe('googleWebhooks.verify (channel token and channel id)', () => {
  const headers = headersOf('exists.headers.json');

  it('accepts our token on one of our channels', () => {
    expect(googleWebhooks.verify(push(headers), secrets, NOW)).toEqual({
      valid: true,
      scheme: 'google-channel-token',
    });
  });

  it('rejects every single-byte change of the token; a changed channel id is unknown', () => {
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const token = flipHeaderByte(TOKEN, position, delta);
        const result = googleWebhooks.verify(
          push({ ...headers, 'x-goog-channel-token': token }),
          secrets,
          NOW,
        );
        expect(result).toEqual({ valid: false, reason: 'bad_signature' });
        const channel = flipHeaderByte(CHANNEL, position, delta);
        expect(
          reasonOf(
            googleWebhooks.verify(push({ ...headers, 'x-goog-channel-id': channel }), secrets, NOW),
          ),
        ).toBe('unknown_channel');
      }),
      { numRuns: 300 },
    );
  });

  it('names the failures apart', () => {
    const reason = (changes: Record<string, string | undefined>, s: WebhookSecrets = secrets) =>
      reasonOf(googleWebhooks.verify(push({ ...headers, ...changes }), s, NOW));
    expect(reason({ 'x-goog-channel-token': undefined })).toBe('missing_signature');
    expect(reason({ 'x-goog-channel-token': '' })).toBe('missing_signature');
    expect(reason({ 'x-goog-channel-token': 'other' })).toBe('bad_signature');
    expect(reason({}, { ...secrets, channelToken: '' })).toBe('bad_signature');
    expect(reason({ 'x-goog-channel-id': undefined })).toBe('unknown_channel');
    expect(reason({}, { ...secrets, channelIds: [] })).toBe('unknown_channel');
    expect(reason({}, { provider: 'n8n', secret: TOKEN })).toBe('bad_signature');
  });

  it('accepts any content type (the body is empty) and acknowledges with 200', () => {
    expect(googleWebhooks.contentTypes).toEqual([]);
    expect(googleWebhooks.acknowledgement).toEqual({ status: 200, body: '' });
  });

  it('never throws, whatever the request', () => {
    expectTotal(googleWebhooks, secrets, [
      'x-goog-channel-token',
      'x-goog-channel-id',
      'x-goog-resource-state',
      'x-goog-message-number',
      'x-goog-resource-id',
      'x-goog-channel-expiration',
    ]);
  });
});

describe('googleWebhooks.normalize', () => {
  it('the sync message only confirms the channel', () => {
    const result = googleWebhooks.normalize(push(headersOf('sync.headers.json')));
    expect(result).toEqual({
      ok: true,
      providerEventId: `${CHANNEL}:1`,
      providerEventType: 'sync',
      attribution: {},
      events: [],
    });
    expectMappedAsPublished('google', result);
  });

  it('exists → maxai.calendar.changed', () => {
    const result = googleWebhooks.normalize(push(headersOf('exists.headers.json')));
    expect(result).toEqual({
      ok: true,
      providerEventId: `${CHANNEL}:10`,
      providerEventType: 'exists',
      attribution: {},
      events: [
        {
          type: 'maxai.calendar.changed',
          subject: 'ret08u3rv24htgh289g',
          data: {
            provider: 'google',
            channelId: CHANNEL,
            resourceId: 'ret08u3rv24htgh289g',
            resourceUri:
              'https://www.googleapis.com/calendar/v3/calendars/my_calendar@gmail.com/events',
            resourceState: 'exists',
            messageNumber: 10,
            expiration: '2013-11-19T01:13:52.000Z',
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('google', result);
  });

  it('not_exists → maxai.calendar.changed; the token never reaches the event', () => {
    const result = googleWebhooks.normalize(
      push({
        'x-goog-channel-id': ' c2 ',
        'x-goog-channel-token': TOKEN,
        'x-goog-resource-id': 'r2',
        'x-goog-resource-state': 'not_exists',
        'x-goog-message-number': '7',
        'x-goog-channel-expiration': 'whenever',
      }),
    );
    expect(result.ok && result.events[0]?.data).toEqual({
      provider: 'google',
      channelId: 'c2',
      resourceId: 'r2',
      resourceState: 'not_exists',
      messageNumber: 7,
    });
    expectSchemaValid(result);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('keeps the id of an unknown state; calls incomplete headers unparseable', () => {
    const base = headersOf('exists.headers.json');
    expect(googleWebhooks.normalize(push({ ...base, 'x-goog-resource-state': 'trash' }))).toEqual({
      ok: false,
      reason: 'unknown_type',
      detail: 'no mapping for event type "trash"',
      providerEventId: `${CHANNEL}:10`,
      providerEventType: 'trash',
    });
    for (const missing of [
      'x-goog-channel-id',
      'x-goog-message-number',
      'x-goog-resource-state',
      'x-goog-resource-id',
    ]) {
      expect(googleWebhooks.normalize(push({ ...base, [missing]: undefined }))).toMatchObject({
        ok: false,
        reason: 'unparseable',
      });
    }
    expect(
      googleWebhooks.normalize(push({ ...base, 'x-goog-message-number': 'ten' })),
    ).toMatchObject({
      reason: 'unparseable',
      providerEventId: undefined,
      providerEventType: 'exists',
    });
  });
});

describe('the Google simulator’s push notifications verify and normalize', () => {
  let server: SimulatorServer;
  beforeAll(async () => {
    server = await createSimulatorServer({
      vendors: [googleSimulator()],
      publicUrl: 'http://127.0.0.1:9',
    });
  });
  afterAll(() => server.close());

  it('sync, then exists', async () => {
    const results = [];
    for (const [state, number] of [
      ['sync', 1],
      ['exists', 2],
    ] as const) {
      await server.app.inject({
        method: 'POST',
        url: '/_control/google/push',
        payload: {
          channelId: CHANNEL,
          resourceId: 'res_sim',
          resourceState: state,
          messageNumber: number,
          channelToken: TOKEN,
          channelExpiration: 'Tue, 01 Dec 2026 16:00:00 GMT',
        },
      });
      const webhook = server.context.webhooks.sent.at(-1);
      const request = inbound(webhook?.body ?? '', webhook?.headers);
      expect(googleWebhooks.verify(request, secrets, NOW)).toMatchObject({ valid: true });
      const result = googleWebhooks.normalize(request);
      expectSchemaValid(result);
      results.push(result);
    }
    expect(results[0]).toMatchObject({ ok: true, providerEventId: `${CHANNEL}:1`, events: [] });
    expect(results[1]).toMatchObject({
      ok: true,
      providerEventId: `${CHANNEL}:2`,
      events: [
        {
          type: 'maxai.calendar.changed',
          data: { resourceId: 'res_sim', expiration: '2026-12-01T16:00:00.000Z' },
        },
      ],
    });
  });
});
