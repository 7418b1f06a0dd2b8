import {
  allVendorSimulators,
  createSimulatorServer,
  stripeSimulator,
  decodeStripeParams,
  type SimulatorServer,
} from '@maxai/simulators';
import { createServer, type Server } from 'node:http';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'sk_test_fidelity_51HxYzAbCdEf';
const SECRET = 'whsec_fidelity_test_secret';
let server: SimulatorServer;
let base: string;
let receiver: Server;
let receiverUrl: string;
const received: { headers: Record<string, unknown>; body: string }[] = [];

async function call(
  method: string,
  path: string,
  options: { form?: string; key?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? KEY}`;
  if (options.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(`${base}${path}`, { method, headers, body: options.form });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>,
  };
}

async function control(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/_control/stripe${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { ...((await res.json()) as Record<string, unknown>), status: res.status };
}

async function customer(): Promise<string> {
  const { body } = await call('POST', '/stripe/v1/customers', { form: 'email=a%40example.com' });
  return body.id as string;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}/webhooks/stripe`;
  server = await createSimulatorServer({
    vendors: [stripeSimulator({ secretKeys: [KEY], webhookSecret: SECRET })],
    publicUrl: receiverUrl.replace('/webhooks/stripe', ''),
  });
  base = await server.listen(0);
});
afterAll(async () => {
  await server.close();
  await new Promise((r) => receiver.close(r));
});
afterEach(async () => {
  received.length = 0;
  await fetch(`${base}/_control/reset`, { method: 'POST' });
});

describe('Stripe simulator: authentication (docs.stripe.com/api/authentication)', () => {
  it('answers 401 invalid_request_error without a key, and masks a wrong one', async () => {
    const none = await call('GET', '/stripe/v1/customers', { key: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('did not provide an API key') as unknown,
      },
    });
    const wrong = await call('GET', '/stripe/v1/customers', {
      key: 'sk_test_abcdefghijklmnop1234',
    });
    expect(wrong.status).toBe(401);
    const message = (wrong.body.error as { message: string }).message;
    expect(message).toContain('1234');
    expect(message).not.toContain('abcdefghijklmnop');
  });

  it('accepts Basic auth with the key as user name, and keys added by control', async () => {
    const basic = Buffer.from(`${KEY}:`).toString('base64');
    const res = await call('GET', '/stripe/v1/customers', {
      key: null,
      headers: { authorization: `Basic ${basic}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', data: [], has_more: false });
    await control('/keys', { key: 'sk_test_added_later' });
    expect((await call('GET', '/stripe/v1/customers', { key: 'sk_test_added_later' })).status).toBe(
      200,
    );
  });
});

describe('Stripe simulator: objects and form encoding', () => {
  it('decodes bracket notation into nested objects and arrays', () => {
    expect(
      decodeStripeParams({
        'metadata[plan]': 'pro',
        'line_items[0][price_data][currency]': 'usd',
        'line_items[1][quantity]': '2',
        'expand[]': ['a', 'b'],
        skip: 1,
        'odd[key': 'v',
      }),
    ).toEqual({
      metadata: { plan: 'pro' },
      line_items: [{ price_data: { currency: 'usd' } }, { quantity: '2' }],
      expand: ['a', 'b'],
      'odd[key': 'v',
    });
    expect(decodeStripeParams({ 'metadata[a][b]': 'c' })).toEqual({ metadata: { a: { b: 'c' } } });
  });

  it('creates, reads and lists customers with metadata', async () => {
    const created = await call('POST', '/stripe/v1/customers', {
      form: 'email=z%40example.com&name=Zed&metadata[tenant]=t1&metadata[x][y]=dropped&description=vip&phone=%2B1555',
    });
    expect(created.body).toMatchObject({
      object: 'customer',
      email: 'z@example.com',
      metadata: { tenant: 't1' },
    });
    expect(created.body.id).toMatch(/^cus_/);
    const read = await call('GET', `/stripe/v1/customers/${created.body.id as string}`);
    expect(read.body).toEqual(created.body);
    const listed = await call('GET', '/stripe/v1/customers?email=z%40example.com');
    expect(listed.body.data).toHaveLength(1);
    const missing = await call('GET', '/stripe/v1/customers/cus_nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id' },
    });
    expect((await call('GET', '/stripe/v1/customers/cus_nope/payment_methods')).status).toBe(404);
  });

  it('validates checkout sessions and serves the hosted page', async () => {
    const cus = await customer();
    const bad = [
      '',
      'mode=subscription',
      'mode=payment&customer=cus_nope',
      'mode=payment',
      'mode=payment&success_url=https%3A%2F%2Fa',
      'mode=setup&success_url=https%3A%2F%2Fa',
    ];
    const statuses = [];
    for (const form of bad)
      statuses.push((await call('POST', '/stripe/v1/checkout/sessions', { form })).status);
    expect(statuses).toEqual([400, 400, 404, 400, 400, 400]);
    const setup = await call('POST', '/stripe/v1/checkout/sessions', {
      form: `mode=setup&customer=${cus}&success_url=https%3A%2F%2Fa&payment_method_types[0]=card`,
    });
    expect(setup.body).toMatchObject({
      object: 'checkout.session',
      mode: 'setup',
      status: 'open',
      payment_status: 'no_payment_required',
    });
    const page = await fetch(setup.body.url as string);
    expect(await page.text()).toContain('Save a card');
    expect((await fetch(`${base}/stripe/c/pay/cs_nope`)).status).toBe(404);
    const pay = await call('POST', '/stripe/v1/checkout/sessions', {
      form: 'mode=payment&success_url=https%3A%2F%2Fa&line_items[0][quantity]=2&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=700&line_items[1][price_data][unit_amount]=100',
    });
    expect(pay.body).toMatchObject({ amount_total: 1500, currency: 'usd', customer: null });
    const odd = await call('POST', '/stripe/v1/checkout/sessions', {
      form: 'mode=payment&success_url=https%3A%2F%2Fa&line_items=x',
    });
    expect(odd.body).toMatchObject({ amount_total: 0, currency: null });
    expect(await (await fetch(pay.body.url as string)).text()).toContain('Pay');
    const read = await call('GET', `/stripe/v1/checkout/sessions/${pay.body.id as string}`);
    expect(read.body.id).toBe(pay.body.id);
    expect((await call('GET', '/stripe/v1/checkout/sessions/cs_nope')).status).toBe(404);
  });
});

describe('Stripe simulator: payment intents and refunds', () => {
  it('confirms off-session against the scripted card; declines are 402 card_error', async () => {
    const cus = await customer();
    const card = await control(`/customers/${cus}/cards`, {
      outcome: 'declines',
      declineCode: 'insufficient_funds',
    });
    const pm = card.id as string;
    const declined = await call('POST', '/stripe/v1/payment_intents', {
      form: `customer=${cus}&amount=2000&currency=usd&payment_method=${pm}&off_session=true&confirm=true`,
    });
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
      payment_intent: { status: 'requires_payment_method' },
    });
    await control(`/payment_methods/${pm}`, { outcome: 'succeeds' });
    const ok = await call('POST', '/stripe/v1/payment_intents', {
      form: `customer=${cus}&amount=2000&currency=USD&payment_method=${pm}&off_session=true&confirm=true&metadata[invoice]=i1`,
    });
    expect(ok.body).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      currency: 'usd',
      amount_received: 2000,
      metadata: { invoice: 'i1' },
    });
    const expanded = await call(
      'GET',
      `/stripe/v1/payment_intents/${ok.body.id as string}?expand[0]=latest_charge`,
    );
    expect(expanded.body.latest_charge).toMatchObject({
      object: 'charge',
      amount_refunded: 0,
      paid: true,
    });
    const plain = await call('GET', `/stripe/v1/payment_intents/${ok.body.id as string}`);
    expect(plain.body.latest_charge).toMatch(/^ch_/);
    const methods = await call('GET', `/stripe/v1/customers/${cus}/payment_methods?limit=1`);
    expect(methods.body).toMatchObject({ object: 'list', has_more: false });
    expect((await control('/payment_methods/pm_nope', { outcome: 'succeeds' })).status).toBe(404);
    await control(`/payment_methods/${pm}`, { outcome: 'declines' });
    const again = await call('POST', '/stripe/v1/payment_intents', {
      form: `customer=${cus}&amount=2000&currency=usd&payment_method=${pm}&confirm=true`,
    });
    expect(again.body.error).toMatchObject({ decline_code: 'generic_decline' });
    expect((await control('/customers/cus_nope/cards', {})).status).toBe(404);
  });

  it('validates payment intent parameters', async () => {
    const cus = await customer();
    const forms = [
      'currency=usd',
      'amount=100',
      'amount=10&currency=usd',
      'amount=100&currency=usd&customer=cus_nope',
      'amount=100&currency=usd&payment_method=pm_nope',
      `amount=100&currency=usd&customer=${cus}&confirm=true`,
      'amount=100&currency=usd&confirm=true',
    ];
    const results = [];
    for (const form of forms) {
      const res = await call('POST', '/stripe/v1/payment_intents', { form });
      results.push([res.status, (res.body.error as { code?: string }).code]);
    }
    expect(results).toEqual([
      [400, 'parameter_missing'],
      [400, 'parameter_missing'],
      [400, 'amount_too_small'],
      [404, 'resource_missing'],
      [404, 'resource_missing'],
      [400, 'payment_intent_unexpected_state'],
      [400, 'payment_intent_unexpected_state'],
    ]);
    const bare = await fetch(`${base}/stripe/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(bare.status).toBe(200);
    const unconfirmed = await call('POST', '/stripe/v1/payment_intents', {
      form: 'amount=100&currency=usd',
    });
    expect(unconfirmed.body).toMatchObject({ status: 'requires_payment_method', customer: null });
    const pm = (await control(`/customers/${cus}/cards`, { default: false })).id as string;
    const ready = await call('POST', '/stripe/v1/payment_intents', {
      form: `amount=100&currency=usd&payment_method=${pm}`,
    });
    expect(ready.body.status).toBe('requires_confirmation');
    expect((await call('GET', '/stripe/v1/payment_intents/pi_nope')).status).toBe(404);
  });

  it('refunds within the charge and refuses the rest', async () => {
    const cus = await customer();
    const pm = (await control(`/customers/${cus}/cards`, {})).id as string;
    const pi = await call('POST', '/stripe/v1/payment_intents', {
      form: `customer=${cus}&amount=1000&currency=usd&payment_method=${pm}&confirm=true`,
    });
    const id = pi.body.id as string;
    const codes = async (form: string) => {
      const res = await call('POST', '/stripe/v1/refunds', { form });
      return [
        res.status,
        (res.body.error as { code?: string } | undefined)?.code ?? res.body.object,
      ];
    };
    expect(await codes('')).toEqual([400, 'parameter_missing']);
    expect(await codes('payment_intent=pi_nope')).toEqual([404, 'resource_missing']);
    expect(await codes('charge=ch_nope')).toEqual([404, 'resource_missing']);
    expect(await codes(`payment_intent=${id}&amount=5000`)).toEqual([400, 'amount_too_large']);
    expect(await codes(`payment_intent=${id}&amount=400&reason=requested_by_customer`)).toEqual([
      200,
      'refund',
    ]);
    expect(await codes(`charge=${pi.body.latest_charge as string}`)).toEqual([200, 'refund']);
    expect(await codes(`payment_intent=${id}`)).toEqual([400, 'charge_already_refunded']);
    const unpaid = await call('POST', '/stripe/v1/payment_intents', {
      form: 'amount=100&currency=usd',
    });
    expect(await codes(`payment_intent=${unpaid.body.id as string}`)).toEqual([
      400,
      'charge_not_refundable',
    ]);
  });
});

describe('Stripe simulator: idempotency (docs.stripe.com/api/idempotent_requests)', () => {
  it('replays the stored response with Idempotent-Replayed, refuses other parameters', async () => {
    const headers = { 'idempotency-key': 'key-1' };
    const first = await call('POST', '/stripe/v1/customers', { form: 'email=a%40x.io', headers });
    const again = await call('POST', '/stripe/v1/customers', { form: 'email=a%40x.io', headers });
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const other = await call('POST', '/stripe/v1/customers', { form: 'email=b%40x.io', headers });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: { type: 'idempotency_error' } });
    const long = await call('POST', '/stripe/v1/customers', {
      form: '',
      headers: { 'idempotency-key': 'k'.repeat(256) },
    });
    expect(long.status).toBe(400);
    // A validation failure is not stored: the same key may be used once the request is fixed.
    const invalid = await call('POST', '/stripe/v1/payment_intents', {
      form: 'amount=1',
      headers: { 'idempotency-key': 'k2' },
    });
    expect(invalid.status).toBe(400);
    const fixed = await call('POST', '/stripe/v1/payment_intents', {
      form: 'amount=1',
      headers: { 'idempotency-key': 'k2' },
    });
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect((await call('POST', '/stripe/v1/customers', { key: null, headers })).status).toBe(401);
  });

  it('shapes injected faults like Stripe', () => {
    const sim = stripeSimulator();
    expect(sim.errorBody(429, 'x')).toMatchObject({ error: { code: 'rate_limit' } });
    expect(sim.errorBody(503, 'x')).toMatchObject({ error: { type: 'api_error' } });
    expect(sim.errorBody(404, 'x')).toMatchObject({ error: { code: 'resource_missing' } });
    expect(sim.errorBody(401, 'x')).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('Stripe simulator: events verified by the official SDK (stripe.webhooks.constructEvent)', () => {
  const stripe = new Stripe('sk_test_unused');

  function verify(index: number, secret = SECRET): Stripe.Event {
    const hit = received[index]!;
    return stripe.webhooks.constructEvent(
      hit.body,
      hit.headers['stripe-signature'] as string,
      secret,
    );
  }

  it('signs checkout.session.completed when the payer finishes the hosted page', async () => {
    const cus = await customer();
    const session = await call('POST', '/stripe/v1/checkout/sessions', {
      form: `mode=setup&currency=usd&customer=${cus}&success_url=https%3A%2F%2Fa`,
    });
    const done = await control(`/checkout/sessions/${session.body.id as string}/complete`);
    expect(done).toMatchObject({ delivery: { status: 200 } });
    const event = verify(0);
    expect(event).toMatchObject({
      type: 'checkout.session.completed',
      object: 'event',
      livemode: false,
    });
    expect(event.id).toMatch(/^evt_/);
    expect(event.data.object).toMatchObject({ status: 'complete', customer: cus });
    expect(() => verify(0, 'whsec_other')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const methods = await call('GET', `/stripe/v1/customers/${cus}/payment_methods`);
    expect(methods.body.data).toHaveLength(1);
    expect((await control(`/checkout/sessions/${session.body.id as string}/complete`)).status).toBe(
      400,
    );
    expect((await control('/checkout/sessions/cs_nope/complete')).status).toBe(404);
  });

  it('saves a declining card from the hosted page; control bodies are optional', async () => {
    const session = await call('POST', '/stripe/v1/checkout/sessions', {
      form: 'mode=setup&currency=usd&success_url=https%3A%2F%2Fa',
    });
    const id = session.body.id as string;
    const done = await control(`/checkout/sessions/${id}/complete`, {
      card: 'declines',
      declineCode: 'do_not_honor',
      send: false,
    });
    const { customer: cus } = done.session as { customer: string };
    expect(cus).toMatch(/^cus_/);
    const pm = done.paymentMethod as string;
    const declined = await call('POST', '/stripe/v1/payment_intents', {
      form: `customer=${cus}&amount=900&currency=usd&payment_method=${pm}&confirm=true`,
    });
    expect(declined.body.error).toMatchObject({
      decline_code: 'do_not_honor',
      message: 'Your card was declined.',
    });
    const bare = await fetch(`${base}/_control/stripe/checkout/sessions/${id}/complete`, {
      method: 'POST',
    });
    expect(bare.status).toBe(400);
    const sent = await control('/events', { type: 'checkout.session.completed', id });
    expect(sent.status).toBe(201);
    expect(verify(0).data.object).toMatchObject({ id, status: 'complete' });
  });

  it('sends payment_intent.*, charge.refunded to a given URL with a given secret', async () => {
    const pay = await call('POST', '/stripe/v1/checkout/sessions', {
      form: 'mode=payment&success_url=https%3A%2F%2Fa&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1200',
    });
    const done = await control(`/checkout/sessions/${pay.body.id as string}/complete`, {
      send: false,
      card: 'succeeds',
    });
    expect(done.delivery).toBeUndefined();
    const session = done.session as { payment_intent: string; customer: string };
    await call('POST', '/stripe/v1/refunds', { form: `payment_intent=${session.payment_intent}` });
    const types = ['payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.refunded'];
    for (const type of types) {
      const sent = await control('/events', {
        type,
        id: session.payment_intent,
        url: receiverUrl,
        secret: 'whsec_custom',
      });
      expect(sent.status).toBe(201);
    }
    expect(types.map((_, i) => verify(i, 'whsec_custom').type)).toEqual(types);
    expect(verify(2, 'whsec_custom').data.object).toMatchObject({
      object: 'charge',
      refunded: true,
    });
    expect(
      (
        await control('/events', {
          type: 'customer.updated',
          id: session.customer,
          url: receiverUrl,
        })
      ).status,
    ).toBe(201);
    expect((await control('/events', { type: 'invoice.paid', id: 'in_1' })).status).toBe(404);
    expect((await control('/events', { type: 'charge.refunded', id: 'ch_nope' })).status).toBe(404);
  });
});

describe('vendor list', () => {
  it('mounts Stripe, OpenRouter and n8n together', async () => {
    const vendors = allVendorSimulators();
    expect(vendors.map((v) => v.prefix)).toEqual(
      expect.arrayContaining(['stripe', 'openrouter', 'n8n']),
    );
    const all = await createSimulatorServer({ vendors });
    const url = await all.listen(0);
    const res = await fetch(`${url}/stripe/v1/customers`, {
      headers: { authorization: 'Bearer sk_test_simulator' },
    });
    expect(res.status).toBe(200);
    await all.close();
  });
});
