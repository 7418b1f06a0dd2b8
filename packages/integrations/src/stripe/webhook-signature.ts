import { createHmac } from 'node:crypto';
import {
  parseTimestampedSignatures,
  safeEqual,
  type SignatureCheck,
} from '../webhooks/signature-check';

/** stripe-node `Webhook.DEFAULT_TOLERANCE` (docs.stripe.com/webhooks#replay-attacks: 5 minutes). */
export const STRIPE_SIGNATURE_TOLERANCE_S = 300;

/**
 * Checks `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=…]` (docs.stripe.com/webhooks#verify-manually;
 * stripe/stripe-node `src/Webhooks.ts`): v1 = hex HMAC-SHA256 of `<t>.<raw body>` keyed by an
 * endpoint secret. Valid when any v1 matches under any of `signingSecrets` (several while a
 * secret is rolled), compared in constant time over every pair.
 *
 * Like stripe-node, only an OLD timestamp fails (`now − t > 300 s` → stale); a timestamp ahead
 * of our clock passes. Stripe documents only the age check, and a replay with a future time
 * still needs Stripe's signature over that time, while the event id dedupes any replay.
 * The signature is checked first, so `stale_timestamp` only ever describes an authentic request.
 */
export function checkStripeSignature(
  signingSecrets: readonly string[],
  rawBody: Uint8Array,
  header: string | undefined,
  nowMs: number,
): SignatureCheck {
  if (header === undefined || header.trim() === '') return 'missing_signature';
  const parsed = parseTimestampedSignatures(header);
  if (!parsed) return 'malformed_signature';
  let matched = false;
  for (const secret of signingSecrets) {
    // An empty secret would make anyone's HMAC "valid".
    if (secret === '') continue;
    const expected = createHmac('sha256', secret)
      .update(`${String(parsed.timestampS)}.`)
      .update(rawBody)
      .digest('hex');
    for (const signature of parsed.signatures) {
      if (safeEqual(signature, expected)) matched = true;
    }
  }
  if (!matched) return 'bad_signature';
  return Math.floor(nowMs / 1000) - parsed.timestampS > STRIPE_SIGNATURE_TOLERANCE_S
    ? 'stale_timestamp'
    : 'valid';
}
