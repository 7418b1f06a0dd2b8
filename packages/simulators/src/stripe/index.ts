import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorContext, VendorSimulator } from '../server';
import { decodeStripeParams, list, metadataOf, obj, str, type StripeParams } from './form';
import { stripeSignatureHeader } from './signature';

export { stripeSignatureHeader } from './signature';
export { decodeStripeParams } from './form';

/** The API version the simulator reports (stripe-node 23.1.0 `src/apiVersion.ts`). */
export const STRIPE_SIMULATOR_API_VERSION = '2026-10-28.endive';

export interface StripeSimulatorOptions {
  /** Secret keys the simulated account accepts (more via `POST /_control/stripe/keys`). */
  secretKeys?: string[];
  /** The endpoint secret events are signed with unless a control request names another. */
  webhookSecret?: string;
}

type Json = Record<string, unknown>;
type CardOutcome = 'succeeds' | 'declines';

interface Stored {
  status: number;
  body: unknown;
  fingerprint: string;
}

/** Decline messages Stripe answers per `decline_code` (docs.stripe.com/declines/codes). */
const DECLINE_MESSAGES: Record<string, string> = {
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
};
const declineMessage = (code: string): string =>
  DECLINE_MESSAGES[code] ?? 'Your card was declined.';

/**
 * Stripe (https://api.stripe.com) for the calls `StripePayments` makes: customers, Checkout
 * Sessions (setup and payment mode, with a hosted page here), off-session PaymentIntents with a
 * scripted card outcome, refunds, `Idempotency-Key` replay, and events signed like Stripe's.
 * Shapes from docs.stripe.com/api (customers, checkout/sessions, payment_intents, refunds,
 * errors, idempotent_requests).
 */
export function stripeSimulator(options: StripeSimulatorOptions = {}): VendorSimulator {
  const defaultKeys = options.secretKeys ?? ['sk_test_simulator'];
  const webhookSecret = options.webhookSecret ?? 'whsec_simulator';
  let keys = new Set(defaultKeys);
  let customers = new Map<string, Json>();
  let paymentMethods = new Map<string, Json>();
  /** Cards scripted to decline: payment method id → decline_code. */
  let declines = new Map<string, string>();
  let sessions = new Map<string, Json>();
  let intents = new Map<string, Json>();
  let charges = new Map<string, Json>();
  let refunds = new Map<string, Json>();
  let idempotency = new Map<string, Stored>();

  const id = (prefix: string) =>
    `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  const now = () => Math.floor(Date.now() / 1000);

  const error = (status: number, fields: Json): { status: number; body: unknown } => ({
    status,
    body: { error: { type: 'invalid_request_error', ...fields } },
  });
  const missing = (kind: string, resourceId: string, param = 'id') =>
    error(404, {
      code: 'resource_missing',
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      message: `No such ${kind}: '${resourceId}'`,
      param,
    });
  const paramMissing = (param: string) =>
    error(400, {
      code: 'parameter_missing',
      doc_url: 'https://stripe.com/docs/error-codes/parameter-missing',
      message: `Missing required param: ${param}.`,
      param,
    });

  /** Bearer (or Basic with the key as user name), docs.stripe.com/api/authentication. */
  function authenticate(request: FastifyRequest): string | { status: number; body: unknown } {
    const header = request.headers.authorization ?? '';
    let key = '';
    if (header.startsWith('Bearer ')) key = header.slice(7).trim();
    else if (header.startsWith('Basic ')) {
      key = Buffer.from(header.slice(6), 'base64').toString('utf8').replace(/:.*$/s, '');
    }
    if (key === '') {
      return error(401, {
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      });
    }
    if (!keys.has(key)) {
      // Stripe masks all but the last four characters of the key it echoes.
      const masked = `${key.slice(0, Math.min(8, key.length - 4))}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
      return error(401, { message: `Invalid API Key provided: ${masked}` });
    }
    return key;
  }

  function customerPaymentMethods(customerId: string): Json[] {
    return [...paymentMethods.values()].filter((pm) => pm.customer === customerId);
  }

  function saveCard(customerId: string, outcome: CardOutcome, declineCode?: string): Json {
    const pm: Json = {
      id: id('pm'),
      object: 'payment_method',
      type: 'card',
      created: now(),
      customer: customerId,
      livemode: false,
      metadata: {},
      billing_details: { address: null, email: null, name: null, phone: null },
      // Only what Stripe itself returns about a card (brand, last4, expiry): no PAN, no CVC.
      card: {
        brand: 'visa',
        last4: outcome === 'succeeds' ? '4242' : '0002',
        exp_month: 12,
        exp_year: new Date().getUTCFullYear() + 3,
        funding: 'credit',
        country: 'US',
      },
    };
    paymentMethods.set(pm.id as string, pm);
    if (outcome === 'declines') declines.set(pm.id as string, declineCode ?? 'generic_decline');
    return pm;
  }

  function createCharge(pi: Json, outcome: 'succeeded' | 'failed', declineCode?: string): Json {
    const charge: Json = {
      id: id('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: outcome === 'succeeded' ? pi.amount : 0,
      amount_refunded: 0,
      captured: outcome === 'succeeded',
      created: now(),
      currency: pi.currency,
      customer: pi.customer,
      description: pi.description,
      livemode: false,
      metadata: pi.metadata,
      paid: outcome === 'succeeded',
      payment_intent: pi.id,
      payment_method: pi.payment_method,
      refunded: false,
      status: outcome,
      failure_code: declineCode === undefined ? null : 'card_declined',
      failure_message: declineCode === undefined ? null : declineMessage(declineCode),
    };
    charges.set(charge.id as string, charge);
    pi.latest_charge = charge.id;
    return charge;
  }

  function createPaymentIntent(params: StripeParams): { status: number; body: unknown } {
    const amount = Number(str(params, 'amount'));
    const currency = str(params, 'currency');
    if (str(params, 'amount') === undefined) return paramMissing('amount');
    if (currency === undefined) return paramMissing('currency');
    if (!Number.isInteger(amount) || amount < 50) {
      return error(400, {
        code: 'amount_too_small',
        doc_url: 'https://stripe.com/docs/error-codes/amount-too-small',
        message: 'Amount must be at least $0.50 usd',
        param: 'amount',
      });
    }
    const customerId = str(params, 'customer');
    if (customerId !== undefined && !customers.has(customerId)) {
      return missing('customer', customerId, 'customer');
    }
    const pmId = str(params, 'payment_method');
    const pm = pmId === undefined ? undefined : paymentMethods.get(pmId);
    if (pmId !== undefined && !pm) return missing('PaymentMethod', pmId, 'payment_method');
    const pi: Json = {
      id: id('pi'),
      object: 'payment_intent',
      amount,
      amount_received: 0,
      capture_method: 'automatic',
      client_secret: null,
      confirmation_method: 'automatic',
      created: now(),
      currency: currency.toLowerCase(),
      customer: customerId ?? null,
      description: str(params, 'description') ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: metadataOf(params),
      payment_method: pmId ?? null,
      payment_method_types: ['card'],
      status: pmId === undefined ? 'requires_payment_method' : 'requires_confirmation',
    };
    pi.client_secret = `${pi.id as string}_secret_${randomBytes(8).toString('hex')}`;
    intents.set(pi.id as string, pi);
    if (str(params, 'confirm') !== 'true') return { status: 200, body: pi };
    if (pmId === undefined) {
      return error(400, {
        code: 'payment_intent_unexpected_state',
        message:
          "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with " +
          `${customerId ?? 'a customer'}, specify a payment method attached to this customer along with the customer ID.`,
        payment_intent: pi,
      });
    }
    const declineCode = declines.get(pmId);
    if (declineCode !== undefined) {
      const charge = createCharge(pi, 'failed', declineCode);
      const lastError = {
        type: 'card_error',
        code: 'card_declined',
        decline_code: declineCode,
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
        message: declineMessage(declineCode),
        charge: charge.id,
        payment_method: pm,
      };
      pi.status = 'requires_payment_method';
      pi.last_payment_error = lastError;
      // docs.stripe.com/api/errors: card errors are 402 with the PaymentIntent attached.
      return { status: 402, body: { error: { ...lastError, payment_intent: pi } } };
    }
    createCharge(pi, 'succeeded');
    pi.status = 'succeeded';
    pi.amount_received = amount;
    return { status: 200, body: pi };
  }

  function expandIntent(pi: Json, expand: string[]): Json {
    if (!expand.includes('latest_charge') || typeof pi.latest_charge !== 'string') return pi;
    return { ...pi, latest_charge: charges.get(pi.latest_charge) };
  }

  function createRefund(params: StripeParams): { status: number; body: unknown } {
    const piId = str(params, 'payment_intent');
    const chargeId = str(params, 'charge');
    if (piId === undefined && chargeId === undefined) return paramMissing('payment_intent');
    const pi = piId === undefined ? undefined : intents.get(piId);
    if (piId !== undefined && !pi) return missing('payment_intent', piId, 'payment_intent');
    const charge = charges.get(chargeId ?? (pi?.latest_charge as string | undefined) ?? '');
    if (charge?.status !== 'succeeded') {
      if (chargeId !== undefined && !charge) return missing('charge', chargeId, 'charge');
      return error(400, {
        code: 'charge_not_refundable',
        message: 'This PaymentIntent does not have a successful charge to refund.',
      });
    }
    const remaining = (charge.amount as number) - (charge.amount_refunded as number);
    const amountParam = str(params, 'amount');
    const amount = amountParam === undefined ? remaining : Number(amountParam);
    if (!Number.isInteger(amount) || amount <= 0 || amount > remaining) {
      return error(400, {
        code: remaining === 0 ? 'charge_already_refunded' : 'amount_too_large',
        message:
          remaining === 0
            ? `Charge ${charge.id as string} has already been refunded.`
            : `Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(remaining / 100).toFixed(2)})`,
        param: 'amount',
      });
    }
    charge.amount_refunded = (charge.amount_refunded as number) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    const refund: Json = {
      id: id('re'),
      object: 'refund',
      amount,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      metadata: metadataOf(params),
      payment_intent: charge.payment_intent,
      reason: str(params, 'reason') ?? null,
      status: 'succeeded',
    };
    refunds.set(refund.id as string, refund);
    return { status: 200, body: refund };
  }

  function hostedUrl(request: FastifyRequest, sessionId: string): string {
    // Stands in for https://checkout.stripe.com/c/pay/<id>.
    return `${request.protocol}://${request.host}/stripe/c/pay/${sessionId}`;
  }

  function createSession(
    request: FastifyRequest,
    params: StripeParams,
  ): { status: number; body: unknown } {
    const mode = str(params, 'mode');
    if (mode === undefined) return paramMissing('mode');
    if (mode !== 'setup' && mode !== 'payment') {
      return error(400, {
        code: 'parameter_invalid_string',
        message: `Invalid mode: must be one of payment, setup, or subscription`,
        param: 'mode',
      });
    }
    const customerId = str(params, 'customer');
    if (customerId !== undefined && !customers.has(customerId)) {
      return missing('customer', customerId, 'customer');
    }
    if (str(params, 'success_url') === undefined) return paramMissing('success_url');
    let amountTotal: number | null = null;
    let currency: string | null = str(params, 'currency') ?? null;
    // Setup mode needs a currency unless payment_method_types is given (checkout/sessions/create).
    if (
      mode === 'setup' &&
      currency === null &&
      list(params, 'payment_method_types').length === 0
    ) {
      return paramMissing('currency');
    }
    if (mode === 'payment') {
      const items = list(params, 'line_items');
      if (items.length === 0) return paramMissing('line_items');
      amountTotal = 0;
      for (const item of items) {
        const line = typeof item === 'object' && !Array.isArray(item) ? item : {};
        const priceData = obj(line, 'price_data') ?? {};
        currency = str(priceData, 'currency') ?? currency;
        amountTotal +=
          Number(str(priceData, 'unit_amount') ?? 0) * Number(str(line, 'quantity') ?? 1);
      }
    }
    const sessionId = `cs_test_${randomBytes(24).toString('hex')}`;
    const session: Json = {
      id: sessionId,
      object: 'checkout.session',
      amount_total: amountTotal,
      cancel_url: str(params, 'cancel_url') ?? null,
      created: now(),
      currency,
      customer: customerId ?? null,
      expires_at: now() + 24 * 3600,
      livemode: false,
      metadata: metadataOf(params),
      mode,
      payment_intent: null,
      payment_status: mode === 'setup' ? 'no_payment_required' : 'unpaid',
      setup_intent: null,
      status: 'open',
      success_url: str(params, 'success_url'),
      url: hostedUrl(request, sessionId),
    };
    sessions.set(sessionId, session);
    return { status: 200, body: session };
  }

  /** Runs a POST handler under Stripe's idempotency rules (docs.stripe.com/api/idempotent_requests). */
  async function idempotentPost(
    request: FastifyRequest,
    reply: FastifyReply,
    handle: (params: StripeParams) => { status: number; body: unknown },
  ): Promise<FastifyReply> {
    const auth = authenticate(request);
    if (typeof auth !== 'string') return reply.code(auth.status).send(auth.body);
    const params = decodeStripeParams((request.body ?? {}) as Record<string, unknown>);
    const keyHeader = request.headers['idempotency-key'];
    const key = typeof keyHeader === 'string' ? keyHeader : undefined;
    if (key === undefined) {
      const result = handle(params);
      return reply.code(result.status).send(result.body);
    }
    if (key.length > 255) {
      return reply
        .code(400)
        .send(error(400, { message: 'Idempotency-Key must be at most 255 characters long.' }).body);
    }
    const fingerprint = createHash('sha256')
      .update(`${request.url}\n${JSON.stringify(params)}`)
      .digest('hex');
    const slot = `${auth}\n${key}`;
    const stored = idempotency.get(slot);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return reply.code(400).send({
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          },
        });
      }
      return reply
        .code(stored.status)
        .header('idempotent-replayed', 'true')
        .header('idempotency-key', key)
        .send(stored.body);
    }
    const result = handle(params);
    // Results are saved once the endpoint ran; a failed validation (400) is not saved.
    if (result.status !== 400) idempotency.set(slot, { ...result, fingerprint });
    return reply.code(result.status).header('idempotency-key', key).send(result.body);
  }

  function withAuth(
    handler: (request: FastifyRequest) => { status: number; body: unknown },
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
    return async (request, reply) => {
      const auth = authenticate(request);
      if (typeof auth !== 'string') return reply.code(auth.status).send(auth.body);
      const result = handler(request);
      return reply.code(result.status).send(result.body);
    };
  }

  const queryParams = (request: FastifyRequest) =>
    decodeStripeParams(request.query as Record<string, unknown>);
  const expandOf = (request: FastifyRequest) =>
    list(queryParams(request), 'expand').filter((e): e is string => typeof e === 'string');

  function completeSession(sessionId: string, body: Json): { status: number; body: unknown } {
    const session = sessions.get(sessionId);
    if (!session) return missing('checkout.session', sessionId);
    if (session.status !== 'open') {
      return error(400, { message: `Checkout Session ${sessionId} is ${String(session.status)}` });
    }
    let customerId = session.customer as string | null;
    if (customerId === null) {
      const customer = newCustomer({});
      customerId = customer.id as string;
      session.customer = customerId;
    }
    const outcome = body.card === 'declines' ? 'declines' : 'succeeds';
    const pm = saveCard(customerId, outcome, body.declineCode as string | undefined);
    if (session.mode === 'setup') {
      session.setup_intent = id('seti');
    } else {
      const pi: Json = {
        id: id('pi'),
        object: 'payment_intent',
        amount: session.amount_total,
        amount_received: session.amount_total,
        created: now(),
        currency: session.currency,
        customer: customerId,
        description: null,
        last_payment_error: null,
        latest_charge: null,
        livemode: false,
        metadata: {},
        payment_method: pm.id,
        payment_method_types: ['card'],
        status: 'succeeded',
      };
      intents.set(pi.id as string, pi);
      createCharge(pi, 'succeeded');
      session.payment_intent = pi.id;
      session.payment_status = 'paid';
    }
    session.status = 'complete';
    return { status: 200, body: { session, paymentMethod: pm.id } };
  }

  function newCustomer(params: StripeParams): Json {
    const customer: Json = {
      id: id('cus'),
      object: 'customer',
      address: null,
      balance: 0,
      created: now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: str(params, 'description') ?? null,
      email: str(params, 'email') ?? null,
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null },
      livemode: false,
      metadata: metadataOf(params),
      name: str(params, 'name') ?? null,
      phone: str(params, 'phone') ?? null,
    };
    customers.set(customer.id as string, customer);
    return customer;
  }

  /** The event's `data.object` for a type, from the current state of the named object. */
  function eventObject(type: string, objectId: string): Json | undefined {
    if (type.startsWith('checkout.session.')) return sessions.get(objectId);
    if (type.startsWith('payment_intent.')) return intents.get(objectId);
    if (type.startsWith('charge.')) {
      return charges.get(objectId) ?? charges.get(String(intents.get(objectId)?.latest_charge));
    }
    if (type.startsWith('customer.')) return customers.get(objectId);
    return undefined;
  }

  return {
    prefix: 'stripe',

    errorBody(status, message) {
      if (status === 429) {
        return { error: { type: 'invalid_request_error', code: 'rate_limit', message } };
      }
      if (status >= 500) return { error: { type: 'api_error', message } };
      if (status === 404) {
        return { error: { type: 'invalid_request_error', code: 'resource_missing', message } };
      }
      return { error: { type: 'invalid_request_error', message } };
    },

    api(app: FastifyInstance) {
      app.post('/v1/customers', (request, reply) =>
        idempotentPost(request, reply, (params) => ({ status: 200, body: newCustomer(params) })),
      );
      app.get(
        '/v1/customers',
        withAuth((request) => {
          const email = str(queryParams(request), 'email');
          const data = [...customers.values()]
            .filter((c) => email === undefined || c.email === email)
            .reverse();
          return {
            status: 200,
            body: { object: 'list', data, has_more: false, url: '/v1/customers' },
          };
        }),
      );
      app.get<{ Params: { id: string } }>(
        '/v1/customers/:id',
        withAuth((request) => {
          const { id: customerId } = request.params as { id: string };
          const customer = customers.get(customerId);
          return customer ? { status: 200, body: customer } : missing('customer', customerId);
        }),
      );
      app.get<{ Params: { id: string } }>(
        '/v1/customers/:id/payment_methods',
        withAuth((request) => {
          const { id: customerId } = request.params as { id: string };
          if (!customers.has(customerId)) return missing('customer', customerId);
          const limit = Number(str(queryParams(request), 'limit') ?? 10);
          const all = customerPaymentMethods(customerId).reverse();
          return {
            status: 200,
            body: {
              object: 'list',
              data: all.slice(0, limit),
              has_more: all.length > limit,
              url: `/v1/customers/${customerId}/payment_methods`,
            },
          };
        }),
      );
      app.post('/v1/checkout/sessions', (request, reply) =>
        idempotentPost(request, reply, (params) => createSession(request, params)),
      );
      app.get<{ Params: { id: string } }>(
        '/v1/checkout/sessions/:id',
        withAuth((request) => {
          const { id: sessionId } = request.params as { id: string };
          const session = sessions.get(sessionId);
          return session ? { status: 200, body: session } : missing('checkout.session', sessionId);
        }),
      );
      app.post('/v1/payment_intents', (request, reply) =>
        idempotentPost(request, reply, createPaymentIntent),
      );
      app.get<{ Params: { id: string } }>(
        '/v1/payment_intents/:id',
        withAuth((request) => {
          const { id: piId } = request.params as { id: string };
          const pi = intents.get(piId);
          return pi
            ? { status: 200, body: expandIntent(pi, expandOf(request)) }
            : missing('payment_intent', piId);
        }),
      );
      app.post('/v1/refunds', (request, reply) => idempotentPost(request, reply, createRefund));
      // The hosted Checkout page (no API key: the payer's browser opens it).
      app.get<{ Params: { id: string } }>('/c/pay/:id', async (request, reply) => {
        const session = sessions.get(request.params.id);
        if (!session) return reply.code(404).type('text/html').send('<h1>Not found</h1>');
        return reply
          .type('text/html')
          .send(
            `<!doctype html><title>Stripe Checkout (simulator)</title><h1>${
              session.mode === 'setup' ? 'Save a card' : 'Pay'
            }</h1><p>Session ${session.id as string}: ${String(session.status)}</p>`,
          );
      });
      return Promise.resolve();
    },

    control(app: FastifyInstance, ctx: SimulatorContext) {
      app.post<{ Body: { key: string } }>('/keys', (request) => {
        keys.add(request.body.key);
        return { keys: keys.size };
      });
      // Script a customer's saved card: `{ outcome: 'succeeds' | 'declines', declineCode? }`.
      app.post<{
        Params: { id: string };
        Body: { outcome?: CardOutcome; declineCode?: string; default?: boolean };
      }>('/customers/:id/cards', async (request, reply) => {
        const customer = customers.get(request.params.id);
        if (!customer) return reply.code(404).send({ error: 'no such customer' });
        const pm = saveCard(
          request.params.id,
          request.body.outcome ?? 'succeeds',
          request.body.declineCode,
        );
        if (request.body.default !== false) {
          customer.invoice_settings = {
            ...(customer.invoice_settings as Json),
            default_payment_method: pm.id,
          };
        }
        return reply.code(201).send(pm);
      });
      // Change the outcome of an existing card.
      app.post<{ Params: { id: string }; Body: { outcome: CardOutcome; declineCode?: string } }>(
        '/payment_methods/:id',
        async (request, reply) => {
          if (!paymentMethods.has(request.params.id)) {
            return reply.code(404).send({ error: 'no such card' });
          }
          declines.delete(request.params.id);
          if (request.body.outcome === 'declines') {
            declines.set(request.params.id, request.body.declineCode ?? 'generic_decline');
          }
          return { id: request.params.id, outcome: request.body.outcome };
        },
      );
      // The payer finishes the hosted page; sends checkout.session.completed unless `send: false`.
      app.post<{
        Params: { id: string };
        Body: {
          card?: CardOutcome;
          declineCode?: string;
          send?: boolean;
          url?: string;
          secret?: string;
        } | null;
      }>('/checkout/sessions/:id/complete', async (request, reply) => {
        const body = request.body ?? {};
        const result = completeSession(request.params.id, body);
        if (result.status !== 200) return reply.code(result.status).send(result.body);
        const { session } = result.body as { session: Json };
        const delivery =
          body.send === false
            ? undefined
            : await sendEvent(ctx, 'checkout.session.completed', session, body.url, body.secret);
        return { ...(result.body as Json), delivery };
      });
      // Sends an event about an object: `{ type, id, url?, secret? }`.
      app.post<{ Body: { type: string; id: string; url?: string; secret?: string } }>(
        '/events',
        async (request, reply) => {
          const { type, id: objectId, url, secret } = request.body;
          const object = eventObject(type, objectId);
          if (!object) return reply.code(404).send({ error: `no object ${objectId} for ${type}` });
          return reply.code(201).send(await sendEvent(ctx, type, object, url, secret));
        },
      );
      return Promise.resolve();
    },

    reset() {
      keys = new Set(defaultKeys);
      customers = new Map();
      paymentMethods = new Map();
      declines = new Map();
      sessions = new Map();
      intents = new Map();
      charges = new Map();
      refunds = new Map();
      idempotency = new Map();
    },
  };

  async function sendEvent(
    ctx: SimulatorContext,
    type: string,
    object: Json,
    url: string | undefined,
    secret: string | undefined,
  ): Promise<{ event: Json; status: number | 'error' }> {
    // docs.stripe.com/api/events/object
    const event: Json = {
      id: id('evt'),
      object: 'event',
      api_version: STRIPE_SIMULATOR_API_VERSION,
      created: now(),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const payload = JSON.stringify(event);
    const sent = await ctx.webhooks.send(
      'stripe',
      url ?? `${ctx.publicUrl}/webhooks/stripe`,
      payload,
      {
        'content-type': 'application/json; charset=utf-8',
        'stripe-signature': stripeSignatureHeader(payload, secret ?? webhookSecret, now()),
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      },
    );
    return { event, status: sent.status };
  }
}
