import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { verify as retellSdkVerify } from 'retell-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  RETELL_SIM_WORKSPACE,
  retellSignature,
  retellSimulator,
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
import { checkRetellSignature, verifyRetellSignature } from './signature';
import { retellCallOutcome, retellWebhooks } from './webhook';

const API_KEY = 'key_0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const secrets: WebhookSecrets = { provider: 'retell', apiKey: API_KEY };
const NOW = 1_796_137_200_000;

function signedRequest(body: Buffer, header: string) {
  return inbound(body, { 'content-type': 'application/json', 'x-retell-signature': header });
}
const sign = (body: Buffer, at = NOW, key = API_KEY): string =>
  `v=${String(at)},d=${createHmac('sha256', key)
    .update(Buffer.concat([body, Buffer.from(String(at))]))
    .digest('hex')}`;
const reasonOf = (result: ReturnType<typeof retellWebhooks.verify>) =>
  result.valid ? 'valid' : result.reason;

describe('retellWebhooks.verify (x-retell-signature, retell-sdk webhook_auth)', () => {
  const body = fixture('retell', 'call_ended.voicemail.json');

  it("passes Retell's published test vector (PROVIDERS.md) and reports the scheme", () => {
    const vector = {
      body: '{"event":"call_ended"}',
      key: 'test-api-key',
      v: 1_700_000_000_000,
      d: '07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e',
    };
    const request = signedRequest(Buffer.from(vector.body), `v=${String(vector.v)},d=${vector.d}`);
    expect(
      retellWebhooks.verify(request, { provider: 'retell', apiKey: vector.key }, vector.v),
    ).toEqual({ valid: true, scheme: 'retell-hmac-sha256' });
  });

  it('agrees with the retell-sdk verifier on a fresh signature', async () => {
    const header = sign(body, Date.now());
    expect(retellWebhooks.verify(signedRequest(body, header), secrets, Date.now()).valid).toBe(
      true,
    );
    await expect(retellSdkVerify(body.toString('utf8'), API_KEY, header)).resolves.toBe(true);
  });

  it('rejects every single-byte change of the body or of the header', () => {
    const header = sign(body);
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const tampered = flipByte(body, position, delta);
        expect(retellWebhooks.verify(signedRequest(tampered, header), secrets, NOW).valid).toBe(
          false,
        );
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const changed = flipHeaderByte(header, position, delta);
        // The digest is hex compared as bytes (as the SDK decodes it): flipping the case of a
        // hex letter is the same signature written differently, not a change.
        fc.pre(changed.toLowerCase() !== header.toLowerCase());
        expect(retellWebhooks.verify(signedRequest(body, changed), secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
    const upper = header.replace(/d=([0-9a-f]+)$/, (_, hex: string) => `d=${hex.toUpperCase()}`);
    expect(retellWebhooks.verify(signedRequest(body, upper), secrets, NOW).valid).toBe(true);
  });

  it('tells stale from future within ±5 minutes', () => {
    const header = sign(body);
    const at = (now: number) =>
      reasonOf(retellWebhooks.verify(signedRequest(body, header), secrets, now));
    expect(at(NOW + 300_000)).toBe('valid');
    expect(at(NOW - 300_000)).toBe('valid');
    expect(at(NOW + 300_001)).toBe('stale_timestamp');
    expect(at(NOW - 300_001)).toBe('future_timestamp');
  });

  it('names missing, malformed and bad signatures apart', () => {
    const d = sign(body).split('d=')[1] ?? '';
    const reason = (header: string | undefined, s: WebhookSecrets = secrets) =>
      reasonOf(
        retellWebhooks.verify(
          inbound(body, header === undefined ? {} : { 'x-retell-signature': header }),
          s,
          NOW,
        ),
      );
    expect(reason(undefined)).toBe('missing_signature');
    expect(reason('')).toBe('missing_signature');
    expect(reason(`v=${String(NOW)},d=abc`)).toBe('malformed_signature');
    expect(reason(`d=${d},v=${String(NOW)}`)).toBe('malformed_signature');
    expect(reason(`V=${String(NOW)},D=${d}`)).toBe('malformed_signature');
    expect(reason(`v=${'9'.repeat(16)},d=${d}`)).toBe('malformed_signature');
    expect(reason(sign(body, NOW, 'other-key'))).toBe('bad_signature');
    expect(reason(sign(body, NOW, ''), { provider: 'retell', apiKey: '' })).toBe('bad_signature');
    expect(reason(sign(body), { provider: 'stripe', signingSecrets: [API_KEY] })).toBe(
      'bad_signature',
    );
  });

  it('keeps verifyRetellSignature as the yes/no of checkRetellSignature, on strings or bytes', () => {
    const header = sign(body);
    expect(checkRetellSignature(API_KEY, body, header, NOW)).toBe('valid');
    expect(verifyRetellSignature(API_KEY, body.toString('utf8'), header, NOW)).toBe(true);
    expect(verifyRetellSignature(API_KEY, body, header, NOW + 400_000)).toBe(false);
    expect(checkRetellSignature(API_KEY, body, sign(body, Date.now()))).toBe('valid');
  });

  it('never throws, whatever the request', () => {
    expectTotal(retellWebhooks, secrets, ['x-retell-signature', 'content-type']);
  });
});

describe('retellWebhooks.normalize', () => {
  const normalize = (name: string) => retellWebhooks.normalize(inbound(fixture('retell', name)));
  const parties = {
    provider: 'retell',
    callId: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6',
    agentExternalId: 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD',
    from: '+12137771234',
    to: '+12137771235',
  };

  it('call_started → maxai.voice.call.started', () => {
    const result = normalize('call_started.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6:call_started',
      providerEventType: 'call_started',
      attribution: { retellAgentId: 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD' },
      events: [
        {
          type: 'maxai.voice.call.started',
          subject: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6',
          time: '2024-05-02T00:07:55.945Z',
          data: {
            ...parties,
            direction: 'outbound',
            callType: 'phone_call',
            startedAt: '2024-05-02T00:07:55.945Z',
            metadata: { leadId: 'lead_42' },
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('retell', result);
  });

  it('call_ended on a voicemail → maxai.voice.call.ended, outcome voicemail', () => {
    const result = normalize('call_ended.voicemail.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6:call_ended',
      providerEventType: 'call_ended',
      attribution: { retellAgentId: 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD' },
      events: [
        {
          type: 'maxai.voice.call.ended',
          subject: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6',
          time: '2024-05-02T00:08:11.736Z',
          data: {
            ...parties,
            direction: 'outbound',
            callType: 'phone_call',
            startedAt: '2024-05-02T00:07:55.945Z',
            endedAt: '2024-05-02T00:08:11.736Z',
            durationSeconds: 15.791,
            disconnectionReason: 'voicemail_reached',
            outcome: 'voicemail',
            transcript:
              'Agent: Hi John, this is Ava from Acme Dental calling about your cleaning.\n',
            metadata: { leadId: 'lead_42' },
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('retell', result);
  });

  it('call_analyzed → maxai.voice.call.analyzed with the custom analysis data', () => {
    const result = normalize('call_analyzed.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'Rk3vT8mYq2LbN6pXw4Zc9sHd1fGj7aQe:call_analyzed',
      providerEventType: 'call_analyzed',
      attribution: { retellAgentId: 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD' },
      events: [
        {
          type: 'maxai.voice.call.analyzed',
          subject: 'Rk3vT8mYq2LbN6pXw4Zc9sHd1fGj7aQe',
          data: {
            ...parties,
            callId: 'Rk3vT8mYq2LbN6pXw4Zc9sHd1fGj7aQe',
            direction: 'inbound',
            summary: 'The caller asked to book a cleaning on December 1st at 3 pm.',
            sentiment: 'positive',
            successful: true,
            inVoicemail: false,
            custom: { intent: 'book_appointment', requested_time: '2026-12-01T15:00:00Z' },
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('retell', result);
  });

  it('maps every documented disconnection reason to an outcome', () => {
    const cases: [string | undefined, string | undefined, string][] = [
      ['user_hangup', 'ended', 'completed'],
      ['agent_hangup', 'ended', 'completed'],
      ['call_transfer', 'ended', 'completed'],
      ['inactivity', 'ended', 'completed'],
      ['max_duration_reached', 'ended', 'completed'],
      ['ivr_reached', 'ended', 'completed'],
      ['voicemail_reached', 'ended', 'voicemail'],
      ['dial_no_answer', 'not_connected', 'unanswered'],
      ['dial_busy', 'not_connected', 'busy'],
      ['user_declined', 'not_connected', 'busy'],
      ['dial_failed', 'not_connected', 'failed'],
      ['invalid_destination', 'not_connected', 'failed'],
      ['marked_as_spam', 'not_connected', 'failed'],
      ['error_llm_websocket_open', 'error', 'failed'],
      ['error_asr', 'ended', 'failed'],
      ['some_new_reason', 'not_connected', 'failed'],
      ['some_new_reason', 'error', 'failed'],
      ['some_new_reason', 'ended', 'completed'],
      [undefined, undefined, 'completed'],
    ];
    for (const [reason, status, outcome] of cases) {
      expect(retellCallOutcome(reason, status), `${String(reason)}/${String(status)}`).toBe(
        outcome,
      );
    }
  });

  it('reads web calls, the deprecated `data` key and computed durations', () => {
    const body = JSON.stringify({
      event: 'call_ended',
      data: {
        call_id: 'web_1',
        call_type: 'web_call',
        call_status: 'ended',
        start_timestamp: 1_000,
        end_timestamp: 61_000,
        disconnection_reason: 'agent_hangup',
      },
    });
    const result = retellWebhooks.normalize(inbound(body));
    expect(result).toMatchObject({
      ok: true,
      providerEventId: 'web_1:call_ended',
      attribution: {},
      events: [
        {
          data: {
            provider: 'retell',
            callId: 'web_1',
            direction: 'inbound',
            from: '',
            to: '',
            durationSeconds: 60,
            outcome: 'completed',
          },
        },
      ],
    });
    expectSchemaValid(result);
    const negative = JSON.stringify({
      event: 'call_ended',
      call: { call_id: 'c', start_timestamp: 5_000, end_timestamp: 1_000, transcript: 7 },
    });
    const odd = retellWebhooks.normalize(inbound(negative));
    expect(odd.ok && odd.events[0]?.data).not.toHaveProperty('durationSeconds');
    expect(odd.ok && odd.events[0]?.data).not.toHaveProperty('transcript');
    const noTimes = retellWebhooks.normalize(
      inbound(JSON.stringify({ event: 'call_ended', call: { call_id: 'c', start_timestamp: 5 } })),
    );
    expect(noTimes.ok && noTimes.events[0]).not.toHaveProperty('data.durationSeconds');
    expect(noTimes.ok && noTimes.events[0]?.time).toBe('1970-01-01T00:00:00.005Z');
  });

  it('analysis outside the call object, or none, still gives an analyzed event', () => {
    const outside = retellWebhooks.normalize(
      inbound(
        JSON.stringify({
          event: 'call_analyzed',
          call: { call_id: 'c1' },
          call_analysis: { call_summary: 'Short.', custom_analysis_data: 'not an object' },
        }),
      ),
    );
    expect(outside.ok && outside.events[0]?.data).toEqual({
      provider: 'retell',
      callId: 'c1',
      from: '',
      to: '',
      direction: 'inbound',
      summary: 'Short.',
      custom: {},
    });
    expectSchemaValid(outside);
    const none = retellWebhooks.normalize(
      inbound(JSON.stringify({ event: 'call_analyzed', call: { call_id: 'c2' } })),
    );
    expect(none.ok && none.events[0]?.data).toMatchObject({ custom: {} });
  });

  it('keeps the dedupe id of an event it does not map', () => {
    const body = JSON.stringify({ event: 'transcript_updated', call: { call_id: 'c9' } });
    expect(retellWebhooks.normalize(inbound(body))).toEqual({
      ok: false,
      reason: 'unknown_type',
      detail: 'no mapping for event type "transcript_updated"',
      providerEventId: 'c9:transcript_updated',
      providerEventType: 'transcript_updated',
    });
  });

  it('calls the rest unparseable, keeping what it could read', () => {
    const of = (body: string) => retellWebhooks.normalize(inbound(body));
    expect(of('{')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(of('{"event":"call_ended"}')).toMatchObject({
      reason: 'unparseable',
      providerEventType: 'call_ended',
    });
    expect(of('{"call":{"call_id":"c3"}}')).toMatchObject({
      reason: 'unparseable',
      providerEventId: 'c3:',
    });
    expect(of('{"event":"call_ended","call":{"call_id":""}}')).toMatchObject({
      reason: 'unparseable',
      providerEventId: undefined,
    });
  });
});

describe('the Retell simulator’s signed webhooks verify and normalize', () => {
  let server: SimulatorServer;
  const auth = { authorization: `Bearer ${RETELL_SIM_WORKSPACE.apiKey}` };

  beforeAll(async () => {
    server = await createSimulatorServer({
      vendors: [retellSimulator()],
      publicUrl: 'http://127.0.0.1:9',
    });
  });
  afterAll(() => server.close());

  const post = async (url: string, payload: Record<string, unknown>, headers = auth) =>
    (await server.app.inject({ method: 'POST', url, headers, payload })).json<
      Record<string, unknown>
    >();

  async function newCall(): Promise<string> {
    const llm = await post('/retell/create-retell-llm', { general_prompt: 'Book appointments.' });
    const agent = await post('/retell/create-agent', {
      voice_id: '11labs-Adrian',
      response_engine: { type: 'retell-llm', llm_id: llm.llm_id },
    });
    const call = await post('/retell/v2/create-phone-call', {
      from_number: RETELL_SIM_WORKSPACE.phoneNumber,
      to_number: '+14155550199',
      override_agent_id: agent.agent_id,
    });
    return String(call.call_id);
  }

  it('an answered call: started, ended, analyzed with custom data', async () => {
    const callId = await newCall();
    const before = server.context.webhooks.sent.length;
    await post(`/_control/retell/calls/${callId}/progress`, {
      outcome: 'answered',
      durationMs: 95_000,
      analysis: { custom_analysis_data: { intent: 'book_appointment' } },
    });
    const sent = server.context.webhooks.sent.slice(before);
    const results = sent.map((webhook) => {
      const request = inbound(webhook.body, webhook.headers);
      expect(
        retellWebhooks.verify(
          request,
          { provider: 'retell', apiKey: RETELL_SIM_WORKSPACE.apiKey },
          Date.now(),
        ),
      ).toMatchObject({ valid: true });
      const result = retellWebhooks.normalize(request);
      expectSchemaValid(result);
      return result;
    });
    expect(results.map((r) => r.ok && r.events[0]?.type)).toEqual([
      'maxai.voice.call.started',
      'maxai.voice.call.ended',
      'maxai.voice.call.analyzed',
    ]);
    expect(results[1]).toMatchObject({
      events: [
        {
          data: {
            callId,
            direction: 'outbound',
            from: RETELL_SIM_WORKSPACE.phoneNumber,
            to: '+14155550199',
            outcome: 'completed',
          },
        },
      ],
    });
    // The analysis says which way the call went: an outbound call's customer is `to`.
    expect(results[2]).toMatchObject({
      events: [
        {
          data: {
            direction: 'outbound',
            to: '+14155550199',
            successful: true,
            custom: { intent: 'book_appointment' },
          },
        },
      ],
    });
  });

  it('an unanswered call ends unanswered', async () => {
    const callId = await newCall();
    await post(`/_control/retell/calls/${callId}/progress`, { outcome: 'no_answer' });
    const webhook = server.context.webhooks.sent.at(-1);
    const request = inbound(webhook?.body ?? '', webhook?.headers);
    expect(
      retellWebhooks.verify(
        request,
        { provider: 'retell', apiKey: RETELL_SIM_WORKSPACE.apiKey },
        Date.now(),
      ).valid,
    ).toBe(true);
    expect(retellWebhooks.normalize(request)).toMatchObject({
      providerEventId: `${callId}:call_ended`,
      events: [{ data: { outcome: 'unanswered', disconnectionReason: 'dial_no_answer' } }],
    });
  });

  it('its signer matches ours', () => {
    const body = fixture('retell', 'call_started.json');
    const header = retellSignature(API_KEY, body.toString('utf8'), NOW);
    expect(checkRetellSignature(API_KEY, body, header, NOW)).toBe('valid');
  });
});
