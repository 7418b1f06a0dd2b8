import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  stripeSignatureHeader,
  stripeSimulator,
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
import { checkStripeSignature } from './webhook-signature';
import { stripeWebhooks } from './webhook';

const SECRET = 'whsec_test_5f1c0a9e8d7b6a5f4e3d2c1b0a9f8e7d';
const OLD_SECRET = 'whsec_test_rotated_out_0123456789abcdef';
const secrets: WebhookSecrets = { provider: 'stripe', signingSecrets: [SECRET] };
const NOW = 1_796_137_200_000; // 2026-12-01T15:00:00Z
const T = NOW / 1000;
const stripe = new Stripe('sk_test_unused');

function signed(body: Buffer, header: string) {
  return inbound(body, { 'content-type': 'application/json', 'stripe-signature': header });
}
const sign = (body: Buffer, secret = SECRET, t = T): string =>
  stripe.webhooks.generateTestHeaderString({
    payload: body.toString('utf8'),
    secret,
    timestamp: t,
  });

describe('stripeWebhooks.verify (Stripe-Signature, docs.stripe.com/webhooks#verify-manually)', () => {
  const body = fixture('stripe', 'invoice.paid.json');

  it('accepts a header made by the stripe SDK, which accepts it too', () => {
    const header = sign(body);
    expect(stripeWebhooks.verify(signed(body, header), secrets, NOW)).toEqual({
      valid: true,
      scheme: 'stripe-v1',
    });
    const event = stripe.webhooks.constructEvent(body, header, SECRET, 300, undefined, NOW);
    expect(event.id).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy');
  });

  it('rejects every single-byte change of the body or of the header, as the SDK does', () => {
    const header = sign(body);
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const tampered = flipByte(body, position, delta);
        expect(stripeWebhooks.verify(signed(tampered, header), secrets, NOW).valid).toBe(false);
        expect(() =>
          stripe.webhooks.constructEvent(tampered, header, SECRET, 300, undefined, NOW),
        ).toThrow();
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(positions, deltas, (position, delta) => {
        const changed = flipHeaderByte(header, position, delta);
        expect(stripeWebhooks.verify(signed(body, changed), secrets, NOW).valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts any matching v1 and any configured secret (rotation)', () => {
    const good = sign(body).split('v1=')[1] ?? '';
    const bad = '0'.repeat(64);
    const several = `t=${String(T)},v1=${bad},v1=${good},v0=ignored`;
    expect(stripeWebhooks.verify(signed(body, several), secrets, NOW).valid).toBe(true);
    const rotated = { provider: 'stripe' as const, signingSecrets: [SECRET, OLD_SECRET] };
    expect(stripeWebhooks.verify(signed(body, sign(body, OLD_SECRET)), rotated, NOW).valid).toBe(
      true,
    );
    // A proxy joining two Stripe-Signature headers: ", " between them.
    const joined = `t=${String(T)},v1=${bad}, v1=${good}`;
    expect(stripeWebhooks.verify(signed(body, joined), secrets, NOW).valid).toBe(true);
  });

  it('refuses a timestamp older than 300 s (stale), accepts a future one like stripe-node', () => {
    const header = sign(body);
    expect(stripeWebhooks.verify(signed(body, header), secrets, NOW + 300_999).valid).toBe(true);
    expect(stripeWebhooks.verify(signed(body, header), secrets, NOW + 301_000)).toEqual({
      valid: false,
      reason: 'stale_timestamp',
    });
    expect(() =>
      stripe.webhooks.constructEvent(body, header, SECRET, 300, undefined, NOW + 301_000),
    ).toThrow(/tolerance/);
    // Documented choice: like the SDK, no future bound (the event id dedupes replays).
    const ahead = sign(body, SECRET, T + 3600);
    expect(stripeWebhooks.verify(signed(body, ahead), secrets, NOW).valid).toBe(true);
    expect(stripe.webhooks.constructEvent(body, ahead, SECRET, 300, undefined, NOW).id).toBe(
      'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    );
  });

  it('names missing, malformed and bad signatures apart', () => {
    const reason = (header: string | undefined, s: WebhookSecrets = secrets) => {
      const result = stripeWebhooks.verify(
        inbound(body, header === undefined ? {} : { 'stripe-signature': header }),
        s,
        NOW,
      );
      return result.valid ? 'valid' : result.reason;
    };
    const v1 = sign(body).split('v1=')[1] ?? '';
    expect(reason(undefined)).toBe('missing_signature');
    expect(reason('  ')).toBe('missing_signature');
    expect(reason('garbage')).toBe('malformed_signature');
    expect(reason(`v1=${v1}`)).toBe('malformed_signature');
    expect(reason(`t=${String(T)}`)).toBe('malformed_signature');
    expect(reason(`t=12x,v1=${v1}`)).toBe('malformed_signature');
    expect(reason(`t=${String(T)},t=${String(T)},v1=${v1}`)).toBe('malformed_signature');
    expect(reason(`t=${String(T)},v1=${v1}=`)).toBe('bad_signature');
    expect(reason(sign(body, 'whsec_other'))).toBe('bad_signature');
    expect(reason(sign(body), { provider: 'stripe', signingSecrets: [] })).toBe('bad_signature');
    expect(reason(sign(body, ''), { provider: 'stripe', signingSecrets: [''] })).toBe(
      'bad_signature',
    );
    expect(reason(sign(body), { provider: 'n8n', secret: SECRET })).toBe('bad_signature');
  });

  it('checks the raw bytes, not a UTF-8 re-decoding of them', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const header = `t=${String(T)},v1=${hmacHex(bytes)}`;
    expect(checkStripeSignature([SECRET], bytes, header, NOW)).toBe('valid');
    const otherInvalidByte = Buffer.from(bytes);
    otherInvalidByte[6] = 0xfe;
    expect(checkStripeSignature([SECRET], otherInvalidByte, header, NOW)).toBe('bad_signature');
  });

  it('never throws, whatever the request', () => {
    expectTotal(stripeWebhooks, secrets, ['stripe-signature', 'content-type']);
  });
});

/** Signs raw bytes directly: the SDK signs strings, and these bytes are not valid UTF-8. */
function hmacHex(bytes: Buffer): string {
  return createHmac('sha256', SECRET)
    .update(Buffer.concat([Buffer.from(`${String(T)}.`), bytes]))
    .digest('hex');
}

describe('stripeWebhooks.normalize', () => {
  const normalize = (name: string) =>
    stripeWebhooks.normalize(inbound(fixture('stripe', name), {}));

  it('invoice.paid → maxai.payments.invoice.paid', () => {
    const result = normalize('invoice.paid.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
      providerEventType: 'invoice.paid',
      attribution: {},
      events: [
        {
          type: 'maxai.payments.invoice.paid',
          subject: 'in_1NG8Dt2eZvKYlo2CwkqSo9Xp',
          time: '2023-06-06T22:19:30.000Z',
          data: {
            provider: 'stripe',
            objectId: 'in_1NG8Dt2eZvKYlo2CwkqSo9Xp',
            customerId: 'cus_NffrFeUfNV2Hib',
            subscriptionId: 'sub_1NG8Dt2eZvKYlo2C8hBfMVwX',
            invoiceId: 'in_1NG8Dt2eZvKYlo2CwkqSo9Xp',
            amountMinor: 2000,
            currency: 'USD',
            status: 'paid',
            livemode: false,
            metadata: { tenant: 'acme' },
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('stripe', result);
  });

  it('payment_intent.payment_failed → maxai.payments.payment.failed, without card data', () => {
    const result = normalize('payment_intent.payment_failed.json');
    expect(result).toEqual({
      ok: true,
      providerEventId: 'evt_3MtwBwLkdIwHu7ix0HXRcRRb',
      providerEventType: 'payment_intent.payment_failed',
      attribution: {},
      events: [
        {
          type: 'maxai.payments.payment.failed',
          subject: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
          time: '2023-04-06T17:01:45.000Z',
          data: {
            provider: 'stripe',
            objectId: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
            customerId: 'cus_NffrFeUfNV2Hib',
            paymentIntentId: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
            amountMinor: 2000,
            currency: 'USD',
            status: 'requires_payment_method',
            failureCode: 'card_declined',
            declineCode: 'insufficient_funds',
            livemode: false,
          },
        },
      ],
    });
    expectSchemaValid(result);
    expectMappedAsPublished('stripe', result);
    // PCI DSS SAQ-A: nothing of the card, its holder or the client secret leaves the raw body.
    const text = JSON.stringify(result);
    for (const secret of ['9995', 'last4', 'exp_', 'visa', 'fingerprint', 'Jenny', 'secret']) {
      expect(text).not.toContain(secret);
    }
  });

  it('checkout.session.completed → maxai.payments.checkout.completed', () => {
    const result = normalize('checkout.session.completed.json');
    expect(result.ok && result.events[0]).toEqual({
      type: 'maxai.payments.checkout.completed',
      subject: 'cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u',
      time: '2024-03-13T14:04:43.000Z',
      data: {
        provider: 'stripe',
        objectId: 'cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u',
        customerId: 'cus_NffrFeUfNV2Hib',
        paymentIntentId: 'pi_3Ot1Q6LkdIwHu7ix0KQ7DvVa',
        amountMinor: 2198,
        currency: 'USD',
        status: 'complete',
        paymentStatus: 'paid',
        mode: 'payment',
        clientReferenceId: 'client_7f3a9c',
        livemode: false,
      },
    });
    expectSchemaValid(result);
    expectMappedAsPublished('stripe', result);
    expect(JSON.stringify(result)).not.toContain('Oyster');
  });

  it('customer.subscription.updated → maxai.payments.subscription.updated', () => {
    const result = normalize('customer.subscription.updated.json');
    expect(result.ok && result.events[0]).toEqual({
      type: 'maxai.payments.subscription.updated',
      subject: 'sub_1MowQVLkdIwHu7ixeRlqHVzs',
      time: '2023-03-23T22:16:08.000Z',
      data: {
        provider: 'stripe',
        objectId: 'sub_1MowQVLkdIwHu7ixeRlqHVzs',
        customerId: 'cus_Na6dX7aXxi11N4',
        subscriptionId: 'sub_1MowQVLkdIwHu7ixeRlqHVzs',
        currency: 'USD',
        status: 'active',
        cancelAtPeriodEnd: true,
        currentPeriodEnd: '2023-04-23T22:16:07.000Z',
        priceIds: ['price_1MowQULkdIwHu7ixraBm864M'],
        livemode: false,
      },
    });
    expectSchemaValid(result);
    expectMappedAsPublished('stripe', result);
  });

  it('maps the other published types, older API shapes and expanded references', () => {
    const event = (type: string, object: Record<string, unknown>) =>
      stripeWebhooks.normalize(
        inbound(
          JSON.stringify({ id: 'evt_x', type, created: 1, livemode: true, data: { object } }),
        ),
      );
    const failed = event('invoice.payment_failed', {
      id: 'in_1',
      customer: { id: 'cus_1', object: 'customer', email: 'a@example.com' },
      subscription: 'sub_1',
      payment_intent: 'pi_1',
      amount_due: 4200,
      amount_paid: 0,
      currency: 'eur',
      status: 'open',
      metadata: { note: 'x', nested: { no: 1 } },
    });
    expect(failed.ok && failed.events[0]?.data).toEqual({
      provider: 'stripe',
      objectId: 'in_1',
      customerId: 'cus_1',
      subscriptionId: 'sub_1',
      invoiceId: 'in_1',
      paymentIntentId: 'pi_1',
      amountMinor: 4200,
      currency: 'EUR',
      status: 'open',
      livemode: true,
      metadata: { note: 'x' },
    });
    expectSchemaValid(failed);
    const parentless = event('invoice.paid', { id: 'in_2', parent: { type: 'quote_details' } });
    expect(parentless.ok && parentless.events[0]?.data).toEqual({
      provider: 'stripe',
      objectId: 'in_2',
      invoiceId: 'in_2',
      livemode: true,
    });
    const succeeded = event('payment_intent.succeeded', {
      id: 'pi_2',
      amount: 999,
      currency: 'usd',
      invoice: 'in_3',
      status: 'succeeded',
      metadata: {},
    });
    expect(succeeded.ok && succeeded.events[0]).toMatchObject({
      type: 'maxai.payments.payment.succeeded',
      time: '1970-01-01T00:00:01.000Z',
      data: { invoiceId: 'in_3', amountMinor: 999, currency: 'USD', status: 'succeeded' },
    });
    expectSchemaValid(succeeded);
    for (const type of ['created', 'deleted', 'trial_will_end']) {
      const result = event(`customer.subscription.${type}`, {
        id: 'sub_2',
        current_period_end: 1_800_000_000,
        trial_end: 1_800_000_000,
        currency: 'usd??',
        items: { data: [{ price: { id: 'price_a' } }, { price: 'price_b' }, 'junk', {}] },
      });
      expect(result.ok && result.events[0]).toMatchObject({
        type: `maxai.payments.subscription.${type}`,
        data: {
          currentPeriodEnd: '2027-01-15T08:00:00.000Z',
          trialEnd: '2027-01-15T08:00:00.000Z',
          priceIds: ['price_a', 'price_b'],
        },
      });
      expect(result.ok && result.events[0]?.data).not.toHaveProperty('currency');
      expectSchemaValid(result);
    }
    const bare = event('customer.subscription.deleted', { id: 'sub_3', items: 'nope' });
    expect(bare.ok && bare.events[0]?.data).toEqual({
      provider: 'stripe',
      objectId: 'sub_3',
      subscriptionId: 'sub_3',
      priceIds: [],
      livemode: true,
    });
  });

  it('keeps the id of an event type it does not map', () => {
    const body = JSON.stringify({ id: 'evt_9', type: 'charge.refunded', data: { object: {} } });
    expect(stripeWebhooks.normalize(inbound(body))).toEqual({
      ok: false,
      reason: 'unknown_type',
      detail: 'no mapping for event type "charge.refunded"',
      providerEventId: 'evt_9',
      providerEventType: 'charge.refunded',
    });
  });

  it('calls anything else unparseable, keeping what it could read', () => {
    const reasonOf = (body: string) => stripeWebhooks.normalize(inbound(body));
    expect(reasonOf('not json')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(reasonOf('[1,2]')).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(reasonOf('{"id":"evt_1"}')).toMatchObject({
      ok: false,
      reason: 'unparseable',
      providerEventId: 'evt_1',
    });
    expect(reasonOf('{"id":"evt_1","type":"invoice.paid","data":{"object":{}}}')).toMatchObject({
      ok: false,
      reason: 'unparseable',
      providerEventId: 'evt_1',
      providerEventType: 'invoice.paid',
    });
    expect(reasonOf('{"id":"evt_1","type":"invoice.paid","data":[]}')).toMatchObject({
      reason: 'unparseable',
    });
  });
});

describe('the Stripe simulator’s signed events verify and normalize', () => {
  let server: SimulatorServer;
  const KEY = 'sk_test_simulator';
  const SIM_SECRET = 'whsec_simulator_webhooks';

  beforeAll(async () => {
    // Deliveries go nowhere (a closed port): the test reads what the simulator sent.
    server = await createSimulatorServer({
      vendors: [stripeSimulator({ secretKeys: [KEY], webhookSecret: SIM_SECRET })],
      publicUrl: 'http://127.0.0.1:9',
    });
  });
  afterAll(() => server.close());

  const api = async (url: string, form: string) => {
    const res = await server.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: form,
    });
    return res.json<Record<string, unknown>>();
  };

  it('checkout.session.completed and payment_intent.succeeded', async () => {
    const customer = await api('/stripe/v1/customers', 'email=pat%40example.com');
    const session = await api(
      '/stripe/v1/checkout/sessions',
      `mode=payment&customer=${String(customer.id)}&success_url=https%3A%2F%2Fx.example%2Fok` +
        '&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500' +
        '&line_items[0][quantity]=2&client_reference_id=client_1',
    );
    await server.app.inject({
      method: 'POST',
      url: `/_control/stripe/checkout/sessions/${String(session.id)}/complete`,
      payload: {},
    });
    const completed = server.context.webhooks.sent.at(-1);
    const intentId = (
      JSON.parse(completed?.body ?? '{}') as { data: { object: { payment_intent: string } } }
    ).data.object.payment_intent;
    await server.app.inject({
      method: 'POST',
      url: '/_control/stripe/events',
      payload: { type: 'payment_intent.succeeded', id: intentId },
    });
    const sent = server.context.webhooks.sent.slice(-2);
    expect(sent).toHaveLength(2);
    const results = sent.map((webhook) => {
      const request = inbound(webhook.body, webhook.headers);
      expect(
        stripeWebhooks.verify(
          request,
          { provider: 'stripe', signingSecrets: [SIM_SECRET] },
          Date.now(),
        ),
      ).toEqual({ valid: true, scheme: 'stripe-v1' });
      const result = stripeWebhooks.normalize(request);
      expectSchemaValid(result);
      return result;
    });
    expect(results[0]).toMatchObject({
      ok: true,
      providerEventType: 'checkout.session.completed',
      events: [
        {
          type: 'maxai.payments.checkout.completed',
          data: {
            objectId: session.id,
            customerId: customer.id,
            amountMinor: 5000,
            currency: 'USD',
            paymentStatus: 'paid',
            paymentIntentId: intentId,
          },
        },
      ],
    });
    expect(results[1]).toMatchObject({
      ok: true,
      providerEventType: 'payment_intent.succeeded',
      events: [{ type: 'maxai.payments.payment.succeeded', data: { objectId: intentId } }],
    });
    expect(JSON.stringify(results)).not.toContain('4242');
  });

  it('its signer matches ours', () => {
    const body = fixture('stripe', 'invoice.paid.json');
    const header = stripeSignatureHeader(body.toString('utf8'), SECRET, T);
    expect(checkStripeSignature([SECRET], body, header, NOW)).toBe('valid');
  });
});
