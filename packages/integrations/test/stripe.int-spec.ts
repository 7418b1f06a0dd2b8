import { ProviderError } from '@maxai/core';
import {
  StripePayments,
  mapStripeError,
  stripeHostedSession,
  stripePaymentOf,
} from '@maxai/integrations';
import { createSimulatorServer, stripeSimulator, type SimulatorServer } from '@maxai/simulators';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPaymentsContract } from './contracts/payments.contract';

const KEY = 'sk_test_contract_4eC39HqLyjWDarjtT1zdp7dc';
let server: SimulatorServer;
let base: string;

async function control(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

const noSleep = () => Promise.resolve();

function gateway(options: Partial<ConstructorParameters<typeof StripePayments>[0]> = {}) {
  return new StripePayments({
    secretKey: KEY,
    baseUrl: `${base}/stripe`,
    timeoutMs: 2000,
    sleep: noSleep,
    ...options,
  });
}

beforeAll(async () => {
  server = await createSimulatorServer({ vendors: [stripeSimulator({ secretKeys: [KEY] })] });
  base = await server.listen(0);
});
afterAll(() => server.close());

runPaymentsContract('StripePayments on the Stripe simulator', () => ({
  gateway: gateway(),
  saveCard: async (customerId, outcome) => {
    await control(`/_control/stripe/customers/${customerId}/cards`, { outcome });
  },
  unknownPaymentId: 'pi_doesnotexist',
}));

describe('StripePayments failure classes', () => {
  afterEach(() => control('/_control/reset', {}));

  async function customerWithCard(): Promise<string> {
    const { data } = await gateway().createCustomer({});
    await control(`/_control/stripe/customers/${data.id}/cards`, { outcome: 'succeeds' });
    return data.id;
  }

  it('retries a 503 with the same idempotency key, then succeeds once', async () => {
    const customerId = await customerWithCard();
    await control('/_control/faults', {
      vendor: 'stripe',
      pathIncludes: '/v1/payment_intents',
      method: 'POST',
      status: 503,
      remaining: 1,
    });
    const { data } = await gateway().charge({
      customerId,
      amountMinor: 1500,
      currency: 'usd',
      description: 'x',
    });
    expect(data.status).toBe('succeeded');
  });

  it('gives up on repeated 500s as transient', async () => {
    await control('/_control/faults', { vendor: 'stripe', status: 500 });
    const error = await gateway({ maxRetries: 1 })
      .createCustomer({})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'transient', status: 500, provider: 'stripe' });
  });

  it('maps 429 to rate_limited with Retry-After, and retries when allowed', async () => {
    await control('/_control/faults', {
      vendor: 'stripe',
      status: 429,
      retryAfterS: 1,
      remaining: 1,
    });
    const slept: number[] = [];
    const { data } = await gateway({
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    }).createCustomer({ email: 'r@example.com' });
    expect(data.email).toBe('r@example.com');
    expect(slept).toEqual([1000]);

    await control('/_control/faults', { vendor: 'stripe', status: 429, retryAfterS: 120 });
    const error = await gateway()
      .createCustomer({})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 120_000,
      providerCode: 'rate_limit',
    });
  });

  it('maps a wrong key to auth', async () => {
    const error = await gateway({ secretKey: 'sk_test_wrong_key_0000000000' })
      .createCustomer({})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
  });

  it('maps validation errors to invalid with Stripe’s code', async () => {
    const customerId = await customerWithCard();
    await expect(
      gateway().charge({ customerId, amountMinor: 10, currency: 'usd', description: 'x' }),
    ).rejects.toMatchObject({ kind: 'invalid', providerCode: 'amount_too_small', status: 400 });
  });

  it('maps an idempotency key reused with other parameters to invalid', async () => {
    await gateway().createCustomer({ email: 'a@example.com' }, { idempotencyKey: 'same' });
    await expect(
      gateway().createCustomer({ email: 'b@example.com' }, { idempotencyKey: 'same' }),
    ).rejects.toMatchObject({ kind: 'invalid', providerCode: 'idempotency_error' });
  });

  it('maps an unknown customer to not_found', async () => {
    await expect(
      gateway().charge({
        customerId: 'cus_nope',
        amountMinor: 100,
        currency: 'usd',
        description: 'x',
      }),
    ).rejects.toMatchObject({ kind: 'not_found', providerCode: 'resource_missing' });
  });

  it('maps a timeout to transient', async () => {
    await control('/_control/faults', { vendor: 'stripe', latencyMs: 800 });
    const error = await gateway({ timeoutMs: 100, maxRetries: 0 })
      .createCustomer({})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'transient', status: undefined });
  });

  it('never leaks the secret key', async () => {
    const secret = 'sk_test_leakcheck_9f8e7d6c5b4a39281706';
    const errors: unknown[] = [];
    errors.push(
      await gateway({ secretKey: secret })
        .createCustomer({})
        .catch((e: unknown) => e),
    );
    await control('/_control/faults', { vendor: 'stripe', status: 503 });
    errors.push(
      await gateway({ secretKey: secret, maxRetries: 0 })
        .createCustomer({})
        .catch((e: unknown) => e),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const e = error as ProviderError;
      for (const text of [e.message, JSON.stringify(e), String(e.stack), String(e.providerCode)]) {
        expect(text).not.toContain(secret);
      }
    }
  });
});

describe('mapStripeError', () => {
  it('maps the remaining Stripe error classes', () => {
    const raw = (statusCode: number | undefined, extra: Record<string, unknown> = {}) => ({
      message: 'm',
      statusCode,
      ...extra,
    });
    expect(mapStripeError(new Stripe.errors.StripePermissionError(raw(403)))).toMatchObject({
      kind: 'auth',
    });
    expect(mapStripeError(new Stripe.errors.StripeConnectionError(raw(undefined)))).toMatchObject({
      kind: 'transient',
      status: undefined,
    });
    expect(
      mapStripeError(
        new Stripe.errors.StripeCardError(
          raw(402, { code: 'card_declined', decline_code: 'insufficient_funds' }),
        ),
      ),
    ).toMatchObject({
      kind: 'invalid',
      providerCode: 'card_declined',
      message: expect.stringContaining('insufficient_funds') as unknown,
    });
    expect(mapStripeError(new Stripe.errors.StripeError(raw(409)))).toMatchObject({
      kind: 'invalid',
    });
    const plain = new Error('x');
    expect(mapStripeError(plain)).toBe(plain);
    const mapped = new ProviderError({ kind: 'auth', provider: 'stripe', message: 'x' });
    expect(mapStripeError(mapped)).toBe(mapped);
  });

  it('maps PaymentIntent states to payment statuses', () => {
    const intent = (fields: Record<string, unknown>) =>
      ({
        id: 'pi_1',
        amount: 1000,
        currency: 'usd',
        customer: null,
        latest_charge: null,
        last_payment_error: null,
        ...fields,
      }) as unknown as Stripe.PaymentIntent;
    const status = (fields: Record<string, unknown>) => stripePaymentOf(intent(fields)).status;
    expect(status({ status: 'requires_action' })).toBe('requires_action');
    expect(status({ status: 'canceled' })).toBe('failed');
    expect(status({ status: 'processing' })).toBe('pending');
    expect(status({ status: 'requires_payment_method' })).toBe('pending');
    const failed = stripePaymentOf(
      intent({
        status: 'requires_payment_method',
        last_payment_error: { code: 'card_declined' },
        customer: { id: 'cus_1' },
      }),
    );
    expect(failed).toMatchObject({
      status: 'failed',
      failureCode: 'card_declined',
      customerId: 'cus_1',
    });
    expect(
      stripePaymentOf(intent({ status: 'succeeded', latest_charge: 'ch_1' })).refundedMinor,
    ).toBe(0);
    expect(() =>
      stripeHostedSession({ id: 'cs_1', url: null, expires_at: 1 } as Stripe.Checkout.Session),
    ).toThrow(ProviderError);
  });

  it('builds clients for https and plain-http hosts without a path', () => {
    expect(new StripePayments({ secretKey: KEY })).toBeInstanceOf(StripePayments);
    expect(new StripePayments({ secretKey: KEY, baseUrl: 'http://stripe.local' })).toBeInstanceOf(
      StripePayments,
    );
  });
});
