import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  maxaiCallbackSignature,
  n8nSimulator,
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
import { checkN8nCallback, signN8nCallback, verifyN8nCallback } from './callback-signature';
import { n8nWebhooks } from './webhook';

const SECRET = 'n8n-shared-secret-7f3a9c';
const secrets: WebhookSecrets = { provider: 'n8n', secret: SECRET };
const NOW = 1_796_137_200_000;

const signedRequest = (body: Buffer, header: string) =>
  inbound(body, { 'content-type': 'application/json', 'x-maxai-signature': header });
const reasonOf = (result: ReturnType<typeof n8nWebhooks.verify>) =>
  result.valid ? 'valid' : result.reason;

describe('n8nWebhooks.verify (x-maxai-signature, docs/providers/n8n.md)', () => {
  const body = fixture('n8n', 'callback.succeeded.json');
  const utf8 = body.toString('utf8');

  it('accepts our signature', () => {
    expect(
      n8nWebhooks.verify(signedRequest(body, signN8nCallback(SECRET, utf8, NOW)), secrets, NOW),
    ).toEqual({
      valid: true,
      scheme: 'maxai-n8n-v1',
    });
  });

  it('rejects every single-byte change of the body or of the header', () => {
    const header = signN8nCallback(SECRET, utf8, NOW);
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const tampered = signedRequest(flipByte(body, position, delta), header);
        expect(n8nWebhooks.verify(tampered, secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const changed = signedRequest(body, flipHeaderByte(header, position, delta));
        expect(n8nWebhooks.verify(changed, secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('tells stale from future within ±5 minutes', () => {
    const header = signN8nCallback(SECRET, utf8, NOW);
    const at = (now: number) =>
      reasonOf(n8nWebhooks.verify(signedRequest(body, header), secrets, now));
    expect(at(NOW + 300_000)).toBe('valid');
    expect(at(NOW - 300_000)).toBe('valid');
    expect(at(NOW + 301_000)).toBe('stale_timestamp');
    expect(at(NOW - 301_000)).toBe('future_timestamp');
  });

  it('names missing, malformed and bad signatures apart; several v1 allowed', () => {
    const header = signN8nCallback(SECRET, utf8, NOW);
    const v1 = header.split('v1=')[1] ?? '';
    const reason = (value: string | undefined, s: WebhookSecrets = secrets) =>
      reasonOf(
        n8nWebhooks.verify(
          inbound(body, value === undefined ? {} : { 'x-maxai-signature': value }),
          s,
          NOW,
        ),
      );
    expect(reason(undefined)).toBe('missing_signature');
    expect(reason(' ')).toBe('missing_signature');
    expect(reason(`v1=${v1}`)).toBe('malformed_signature');
    expect(reason('t=1796137200')).toBe('malformed_signature');
    expect(reason(`t=abc,v1=${v1}`)).toBe('malformed_signature');
    expect(reason(`t=1796137200,v1=short,v1=${v1}`)).toBe('valid');
    expect(reason(signN8nCallback('other', utf8, NOW))).toBe('bad_signature');
    expect(reason(header, { provider: 'n8n', secret: '' })).toBe('bad_signature');
    expect(reason(header, { provider: 'retell', apiKey: SECRET })).toBe('bad_signature');
  });

  it('keeps verifyN8nCallback as the yes/no of checkN8nCallback', () => {
    const header = signN8nCallback(SECRET, utf8, NOW);
    expect(checkN8nCallback(SECRET, body, header, NOW)).toBe('valid');
    expect(verifyN8nCallback(SECRET, utf8, header, NOW)).toBe(true);
    expect(verifyN8nCallback(SECRET, utf8, header, NOW + 301_000)).toBe(false);
    expect(checkN8nCallback(SECRET, utf8, signN8nCallback(SECRET, utf8))).toBe('valid');
  });

  it('never throws, whatever the request', () => {
    expectTotal(n8nWebhooks, secrets, ['x-maxai-signature', 'content-type']);
  });
});

describe('n8nWebhooks.normalize', () => {
  it('a succeeded callback → maxai.workflow.callback.received', () => {
    const result = n8nWebhooks.normalize(inbound(fixture('n8n', 'callback.succeeded.json')));
    const correlationId = '0f6d2c1e-5b7a-4c1e-9a8e-2d4f6b8a0c13:enrich:g0:s2';
    expect(result).toEqual({
      ok: true,
      providerEventId: `${correlationId}:succeeded`,
      providerEventType: 'callback',
      attribution: {},
      events: [
        {
          type: 'maxai.workflow.callback.received',
          subject: correlationId,
          data: {
            provider: 'n8n',
            correlationId,
            executionId: '4817',
            status: 'succeeded',
            output: { score: 87, tags: ['hot'] },
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('n8n', result);
  });

  it('a failed callback with a numeric execution id', () => {
    const result = n8nWebhooks.normalize(inbound(fixture('n8n', 'callback.failed.json')));
    expect(result).toMatchObject({
      ok: true,
      providerEventId: '0f6d2c1e-5b7a-4c1e-9a8e-2d4f6b8a0c13:enrich:g1:s3:failed',
      events: [
        {
          data: {
            provider: 'n8n',
            correlationId: '0f6d2c1e-5b7a-4c1e-9a8e-2d4f6b8a0c13:enrich:g1:s3',
            executionId: '4818',
            status: 'failed',
            error: 'node "Enrich lead" failed: 429 Too Many Requests',
          },
        },
      ],
    });
    expect(result.ok && result.events[0]?.data).not.toHaveProperty('output');
    expectSchemaValid(result);
  });

  it('needs only the correlation id and the status: the execution id is optional', () => {
    const result = n8nWebhooks.normalize(inbound(fixture('n8n', 'callback.minimal.json')));
    const correlationId = '7a1b9e40-3c2d-4f5e-8a6b-1c0d2e3f4a5b:delegate:g0:s1';
    expect(result).toMatchObject({
      ok: true,
      providerEventId: `${correlationId}:succeeded`,
      events: [{ subject: correlationId, data: { provider: 'n8n', correlationId } }],
    });
    expect(result.ok && result.events[0]?.data).not.toHaveProperty('executionId');
    expectSchemaValid(result);
    // A number that is no id (1e999 is Infinity) is dropped, not kept as text.
    const odd = n8nWebhooks.normalize(
      inbound('{"correlationId":"c","executionId":1e999,"status":"x"}'),
    );
    expect(odd.ok && odd.events[0]?.data).toEqual({
      provider: 'n8n',
      correlationId: 'c',
      status: 'x',
    });
  });

  it('calls a body without correlationId or status unparseable (an execution id is not enough)', () => {
    for (const body of [
      'nope',
      '{"status":"succeeded"}',
      '{"correlationId":"c"}',
      '{"correlationId":"","status":"succeeded"}',
      '{"correlationId":7,"status":"succeeded"}',
      '{"executionId":"4817","status":"succeeded"}',
    ]) {
      expect(n8nWebhooks.normalize(inbound(body))).toMatchObject({
        ok: false,
        reason: 'unparseable',
      });
    }
  });
});

describe('the n8n simulator’s signed callbacks verify and normalize', () => {
  let server: SimulatorServer;
  beforeAll(async () => {
    server = await createSimulatorServer({ vendors: [n8nSimulator()] });
  });
  afterAll(() => server.close());

  it('an async workflow’s callback', async () => {
    await server.app.inject({
      method: 'POST',
      url: '/_control/n8n/workflows',
      payload: { path: 'enrich', async: { output: { score: 3 } }, callbackSecret: SECRET },
    });
    await server.app.inject({
      method: 'POST',
      url: '/n8n/webhook/enrich',
      payload: {
        leadId: 'l1',
        callbackUrl: 'http://127.0.0.1:9/webhooks/n8n',
        correlationId: 'run-1:enrich:g0:s1',
      },
    });
    await expect.poll(() => server.context.webhooks.sent.length).toBe(1);
    const webhook = server.context.webhooks.sent[0];
    const request = inbound(webhook?.body ?? '', webhook?.headers);
    expect(n8nWebhooks.verify(request, secrets, Date.now())).toMatchObject({ valid: true });
    const result = n8nWebhooks.normalize(request);
    expectSchemaValid(result);
    expect(result).toMatchObject({
      ok: true,
      providerEventId: 'run-1:enrich:g0:s1:succeeded',
      events: [
        {
          data: {
            correlationId: 'run-1:enrich:g0:s1',
            executionId: expect.stringMatching(/^\d+$/),
            status: 'succeeded',
            output: { score: 3 },
          },
        },
      ],
    });
  });

  it('its signer matches ours', () => {
    const body = fixture('n8n', 'callback.failed.json');
    const header = maxaiCallbackSignature(body.toString('utf8'), SECRET, NOW / 1000);
    expect(checkN8nCallback(SECRET, body, header, NOW)).toBe('valid');
  });
});
