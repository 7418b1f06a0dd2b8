import { randomUUID } from 'node:crypto';
import {
  ProviderError,
  type CallOptions,
  type HostedSession,
  type Payment,
  type PaymentCustomer,
  type PaymentGatewayPort,
  type PaymentStatus,
  type PortResult,
  type ProviderErrorKind,
} from '@maxai/core';
import Stripe from 'stripe';
import { kindOfStatus, parseRetryAfter } from '../http';
import { redactSecrets, withSdkRetries, type SdkRetryOptions } from '../sdk-retry';

/**
 * The Stripe API version this adapter is written against, pinned so an account's default
 * version cannot change response shapes under us (docs.stripe.com/api/versioning; the version
 * stripe-node 23.1.0 types describe, `src/apiVersion.ts`).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripePaymentsOptions extends SdkRetryOptions {
  /** The connection's secret key (`sk_live_…` / `sk_test_…`) or restricted key (`rk_…`). */
  secretKey: string;
  /** Default `https://api.stripe.com`; the simulator's `<base>/stripe` in sandbox mode. */
  baseUrl?: string | undefined;
  /** The account's currency, which setup-mode Checkout needs; default `usd`. */
  setupCurrency?: string | undefined;
  /** Per attempt; default 10 s. */
  timeoutMs?: number | undefined;
}

/**
 * PaymentGatewayPort on Stripe through the official SDK (`stripe`), one instance per connection.
 *
 * - Retries: the SDK's are off (`maxNetworkRetries: 0`); `withSdkRetries` applies the same
 *   policy as every other adapter (transient and rate_limited only, Retry-After capped).
 * - Idempotency: every POST carries an `Idempotency-Key` — the caller's `CallOptions` key, or one
 *   generated per call so that our own retries of that call cannot charge twice
 *   (docs.stripe.com/api/idempotent_requests). Deduplication across calls (a job that re-runs)
 *   needs the caller's key.
 * - PCI SAQ-A: card details are entered on Stripe's hosted Checkout only; nothing here reads or
 *   carries card fields.
 */
export class StripePayments implements PaymentGatewayPort {
  private readonly stripe: Stripe;

  constructor(private readonly options: StripePaymentsOptions) {
    const base = new URL(options.baseUrl ?? 'https://api.stripe.com');
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    const prefix = base.pathname.replace(/\/$/, '');
    const node = Stripe.createNodeHttpClient();
    this.stripe = new Stripe(options.secretKey, {
      apiVersion: STRIPE_API_VERSION,
      host: base.hostname,
      port: base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port),
      protocol,
      maxNetworkRetries: 0,
      timeout: options.timeoutMs ?? 10_000,
      telemetry: false,
      // The SDK has no base path; a simulator mounted under `/stripe` needs one.
      httpClient:
        prefix === ''
          ? node
          : {
              getClientName: () => node.getClientName(),
              makeRequest: (host, port, path, ...rest) =>
                node.makeRequest(host, port, `${prefix}${path}`, ...rest),
            },
    });
  }

  async createCustomer(
    input: { email?: string; name?: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<PortResult<PaymentCustomer>> {
    const customer = await this.call(() =>
      this.stripe.customers.create(
        { email: input.email, name: input.name, metadata: input.metadata },
        this.requestOptions(options),
      ),
    );
    return {
      data: {
        id: customer.id,
        email: customer.email ?? undefined,
        name: customer.name ?? undefined,
      },
    };
  }

  async createSetupSession(
    input: { customerId: string; successUrl: string; cancelUrl: string },
    options?: CallOptions,
  ): Promise<PortResult<HostedSession>> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'setup',
          customer: input.customerId,
          // Required in setup mode with dynamic payment methods (docs.stripe.com/api/checkout/sessions/create#create_checkout_session-currency).
          currency: this.options.setupCurrency ?? 'usd',
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        this.requestOptions(options),
      ),
    );
    return { data: stripeHostedSession(session) };
  }

  async createCheckoutSession(
    input: {
      customerId?: string;
      amountMinor: number;
      currency: string;
      description: string;
      successUrl: string;
      cancelUrl: string;
    },
    options?: CallOptions,
  ): Promise<PortResult<HostedSession>> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          customer: input.customerId,
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: input.currency.toLowerCase(),
                unit_amount: input.amountMinor,
                product_data: { name: input.description },
              },
            },
          ],
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        this.requestOptions(options),
      ),
    );
    return { data: stripeHostedSession(session) };
  }

  /**
   * Off-session charge of the customer's most recently saved card
   * (docs.stripe.com/payments/save-and-reuse — "Charge the saved payment method later").
   */
  async charge(
    input: {
      customerId: string;
      amountMinor: number;
      currency: string;
      description: string;
      metadata?: Record<string, string>;
    },
    options?: CallOptions,
  ): Promise<PortResult<Payment>> {
    const methods = await this.call(() =>
      this.stripe.customers.listPaymentMethods(input.customerId, { limit: 1 }),
    );
    const paymentMethod = methods.data[0];
    if (!paymentMethod) {
      throw new ProviderError({
        kind: 'invalid',
        provider: 'stripe',
        providerCode: 'no_payment_method',
        message: `stripe customer ${input.customerId} has no saved payment method`,
      });
    }
    const intent = await this.call(() =>
      this.stripe.paymentIntents.create(
        {
          customer: input.customerId,
          amount: input.amountMinor,
          currency: input.currency.toLowerCase(),
          description: input.description,
          metadata: input.metadata,
          payment_method: paymentMethod.id,
          off_session: true,
          confirm: true,
        },
        this.requestOptions(options),
      ),
    );
    return {
      data: stripePaymentOf(intent),
      usage: {
        provider: 'stripe',
        operation: 'payments.charge',
        units: [
          { name: 'payment', quantity: 1 },
          { name: `amount_minor_${intent.currency}`, quantity: intent.amount },
        ],
        reference: intent.id,
      },
    };
  }

  async refund(
    input: { paymentId: string; amountMinor?: number },
    options?: CallOptions,
  ): Promise<PortResult<Payment>> {
    await this.call(() =>
      this.stripe.refunds.create(
        { payment_intent: input.paymentId, amount: input.amountMinor },
        this.requestOptions(options),
      ),
    );
    return this.getPayment(input.paymentId, options);
  }

  async getPayment(paymentId: string, _options?: CallOptions): Promise<PortResult<Payment>> {
    const intent = await this.call(() =>
      this.stripe.paymentIntents.retrieve(paymentId, { expand: ['latest_charge'] }),
    );
    return { data: stripePaymentOf(intent) };
  }

  private requestOptions(options: CallOptions | undefined): Stripe.RequestOptions {
    return { idempotencyKey: options?.idempotencyKey ?? `maxai-${randomUUID()}` };
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    return withSdkRetries(async () => {
      try {
        return await operation();
      } catch (error) {
        throw mapStripeError(error, [this.options.secretKey]);
      }
    }, this.options);
  }
}

export function stripeHostedSession(session: Stripe.Checkout.Session): HostedSession {
  if (session.url === null) {
    throw new ProviderError({
      kind: 'invalid',
      provider: 'stripe',
      message: `stripe checkout session ${session.id} has no hosted URL`,
    });
  }
  return {
    id: session.id,
    url: session.url,
    expiresAt: new Date(session.expires_at * 1000).toISOString(),
  };
}

export function stripePaymentOf(intent: Stripe.PaymentIntent): Payment {
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const refunded = charge?.amount_refunded ?? 0;
  const failureCode = intent.last_payment_error?.code;
  return {
    id: intent.id,
    status: paymentStatus(intent, refunded),
    amountMinor: intent.amount,
    currency: intent.currency,
    refundedMinor: refunded,
    customerId:
      typeof intent.customer === 'string' ? intent.customer : (intent.customer?.id ?? undefined),
    failureCode: failureCode ?? undefined,
  };
}

/** docs.stripe.com/payments/paymentintents/lifecycle */
function paymentStatus(intent: Stripe.PaymentIntent, refunded: number): PaymentStatus {
  switch (intent.status) {
    case 'succeeded':
      if (refunded === 0) return 'succeeded';
      return refunded >= intent.amount ? 'refunded' : 'partially_refunded';
    case 'requires_action':
      return 'requires_action';
    case 'canceled':
      return 'failed';
    case 'requires_payment_method':
      return intent.last_payment_error ? 'failed' : 'pending';
    default:
      return 'pending';
  }
}

/**
 * Stripe's error classes (stripe-node `src/Error.ts`; docs.stripe.com/api/errors) to the port's
 * failure classes; Stripe's `code` (e.g. `card_declined`, `resource_missing`) as providerCode.
 */
export function mapStripeError(error: unknown, secrets: readonly string[] = []): unknown {
  if (error instanceof ProviderError || !(error instanceof Stripe.errors.StripeError)) {
    return error;
  }
  const status = error.statusCode;
  let kind: ProviderErrorKind = status === undefined ? 'transient' : kindOfStatus(status);
  switch (error.type) {
    case 'StripeCardError':
      kind = 'invalid';
      break;
    case 'StripeAuthenticationError':
    case 'StripePermissionError':
      kind = 'auth';
      break;
    case 'StripeRateLimitError':
      kind = 'rate_limited';
      break;
    case 'StripeConnectionError':
    case 'StripeAPIError':
      kind = 'transient';
      break;
    case 'StripeInvalidRequestError':
      kind = error.code === 'resource_missing' || status === 404 ? 'not_found' : 'invalid';
      break;
    case 'StripeIdempotencyError':
      kind = 'invalid';
      break;
  }
  const code =
    error.code ?? (error.type === 'StripeIdempotencyError' ? 'idempotency_error' : undefined);
  const detail = error.decline_code ? ` (${error.decline_code})` : '';
  return new ProviderError({
    kind,
    provider: 'stripe',
    status,
    providerCode: code,
    message: redactSecrets(
      status === undefined
        ? `stripe could not be reached: ${error.message}`
        : `stripe answered ${String(status)}: ${error.message}${detail}`,
      secrets,
    ),
    retryAfterMs: parseRetryAfter(error.headers?.['retry-after'] ?? null),
  });
}
