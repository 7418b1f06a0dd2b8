import { createHmac } from 'node:crypto';

/**
 * Stripe's webhook signature: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw
 * body>" keyed by the endpoint secret whsec_…>` (docs.stripe.com/webhooks#verify-manually;
 * stripe/stripe-node src/Webhooks.ts). The official `stripe.webhooks.constructEvent` verifies it.
 */
export function stripeSignatureHeader(payload: string, secret: string, timestampS: number): string {
  const v1 = createHmac('sha256', secret)
    .update(`${String(timestampS)}.${payload}`)
    .digest('hex');
  return `t=${String(timestampS)},v1=${v1}`;
}
