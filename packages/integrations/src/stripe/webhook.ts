import type { InboundWebhook, NormalizationResult, WebhookProvider } from '../webhooks/contract';
import { maxaiTypeFor } from '../webhooks/event-types';
import {
  bool,
  compact,
  integer,
  isObject,
  isoFromSeconds,
  neverThrows,
  parseJsonObject,
  text,
  unknownType,
  unparseable,
  type JsonObject,
} from '../webhooks/payload-fields';
import { verificationResult } from '../webhooks/signature-check';
import { checkStripeSignature } from './webhook-signature';

/**
 * Stripe webhooks: `Stripe-Signature` over the raw body, one event per delivery
 * (docs.stripe.com/api/events/object: `id` evt_…, `type`, `created`, `livemode`,
 * `data.object`). The event id is the dedupe key: Stripe redelivers the same event id.
 *
 * PCI DSS SAQ-A: the normalized data carries ids, amounts, currencies and statuses only. No
 * payment method, card or billing detail is ever copied out of the Stripe object (the object
 * itself stays in the raw delivery ingress stores).
 */
export const stripeWebhooks: WebhookProvider = {
  name: 'stripe',
  contentTypes: ['application/json'],
  // docs.stripe.com/webhooks#acknowledge-events-immediately: any 2xx, body ignored.
  acknowledgement: { status: 200, body: '' },
  verify(request, secrets, now) {
    if (secrets.provider !== 'stripe') return { valid: false, reason: 'bad_signature' };
    const check = checkStripeSignature(
      secrets.signingSecrets,
      request.rawBody,
      request.headers['stripe-signature'],
      now,
    );
    return verificationResult(check, 'stripe-v1');
  },
  normalize: neverThrows(normalizeStripe),
};

function normalizeStripe(request: InboundWebhook): NormalizationResult {
  const event = parseJsonObject(request.rawBody);
  if (!event) return unparseable('body is not a JSON object');
  const id = text(event.id);
  const type = text(event.type);
  if (id === undefined || type === undefined) {
    return unparseable('a Stripe event needs an id and a type', id, type);
  }
  const maxaiType = maxaiTypeFor('stripe', type);
  if (!maxaiType) return unknownType(id, type);
  const object = isObject(event.data) ? event.data.object : undefined;
  const objectId = isObject(object) ? text(object.id) : undefined;
  if (!isObject(object) || objectId === undefined) {
    return unparseable('the event has no data.object with an id', id, type);
  }
  const common = {
    provider: 'stripe',
    objectId,
    customerId: ref(object.customer),
    livemode: event.livemode === true,
    currency: currency(object.currency),
    status: text(object.status),
    metadata: metadata(object.metadata),
  };
  return {
    ok: true,
    providerEventId: id,
    providerEventType: type,
    attribution: {},
    events: [
      {
        type: maxaiType,
        subject: objectId,
        time: isoFromSeconds(event.created),
        data: compact({ ...common, ...objectFields(type, objectId, object) }),
      },
    ],
  };
}

/** The fields of each object kind beyond the common ones. */
function objectFields(type: string, objectId: string, object: JsonObject): JsonObject {
  switch (type.slice(0, type.lastIndexOf('.'))) {
    case 'invoice': {
      // API ≥ 2025-03-31 moved the subscription under parent.subscription_details.
      const parent = isObject(object.parent) ? object.parent.subscription_details : undefined;
      return {
        invoiceId: objectId,
        subscriptionId:
          ref(object.subscription) ?? (isObject(parent) ? ref(parent.subscription) : undefined),
        paymentIntentId: ref(object.payment_intent),
        // What was paid on `invoice.paid`, what is still owed on a failure.
        amountMinor: integer(type === 'invoice.paid' ? object.amount_paid : object.amount_due),
      };
    }
    case 'payment_intent': {
      const error = isObject(object.last_payment_error) ? object.last_payment_error : {};
      return {
        paymentIntentId: objectId,
        invoiceId: ref(object.invoice),
        amountMinor: integer(object.amount),
        // Decline codes classify the failure; the error's payment_method (card) is not read.
        failureCode: text(error.code),
        declineCode: text(error.decline_code),
      };
    }
    case 'checkout.session':
      return {
        subscriptionId: ref(object.subscription),
        invoiceId: ref(object.invoice),
        paymentIntentId: ref(object.payment_intent),
        amountMinor: integer(object.amount_total),
        mode: text(object.mode),
        paymentStatus: text(object.payment_status),
        clientReferenceId: text(object.client_reference_id),
      };
    default: {
      // customer.subscription.*; API ≥ 2025-03-31 keeps the period on each item.
      const items =
        isObject(object.items) && Array.isArray(object.items.data) ? object.items.data : [];
      const first: unknown = items[0];
      return {
        subscriptionId: objectId,
        cancelAtPeriodEnd: bool(object.cancel_at_period_end),
        currentPeriodEnd: isoFromSeconds(
          object.current_period_end ?? (isObject(first) ? first.current_period_end : undefined),
        ),
        trialEnd: isoFromSeconds(object.trial_end),
        priceIds: items.flatMap((item) => {
          const price = isObject(item) ? ref(item.price) : undefined;
          return price === undefined ? [] : [price];
        }),
      };
    }
  }
}

/** An expandable reference: the id string, or the expanded object's id. */
function ref(value: unknown): string | undefined {
  return isObject(value) ? text(value.id) : text(value);
}

/** ISO 4217, upper-case (Stripe sends lower-case codes). */
function currency(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z]{3}$/i.test(value) ? value.toUpperCase() : undefined;
}

/** The merchant's own metadata (string values by Stripe's rules); anything else is dropped. */
function metadata(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item;
  return Object.keys(out).length > 0 ? out : undefined;
}
