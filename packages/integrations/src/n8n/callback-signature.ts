import { createHmac } from 'node:crypto';
import {
  parseTimestampedSignatures,
  safeEqual,
  timestampWindow,
  type SignatureCheck,
} from '../webhooks/signature-check';

/** The header an n8n workflow signs its callback with (our scheme, docs/providers/n8n.md). */
export const N8N_SIGNATURE_HEADER = 'x-maxai-signature';
/** How far a callback's timestamp may be from now, either way. */
export const N8N_SIGNATURE_TOLERANCE_S = 300;

function hmac(secret: string, timestampS: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret)
    .update(`${String(timestampS)}.`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

/**
 * Our signature for n8n callbacks (n8n itself has no outbound signing; the workflow computes it
 * with a Crypto node): `t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the
 * connection's shared secret>` — Stripe's layout, so the same reasoning applies.
 */
export function signN8nCallback(secret: string, body: string, now: number = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${String(t)},v1=${hmac(secret, t, body)}`;
}

/**
 * Checks `header` against `body` (the raw bytes) under `secret`: some `v1` must match (several
 * are allowed, for secret rotation; compared in constant time) and its timestamp must be within
 * five minutes of `now` either way. The signature is checked before the clock, so
 * `stale_timestamp` / `future_timestamp` only describe callbacks signed with the secret.
 */
export function checkN8nCallback(
  secret: string,
  body: string | Uint8Array,
  header: string | undefined,
  now: number = Date.now(),
): SignatureCheck {
  if (header === undefined || header.trim() === '') return 'missing_signature';
  const parsed = parseTimestampedSignatures(header);
  if (!parsed) return 'malformed_signature';
  // An empty secret would make anyone's HMAC "valid".
  if (secret === '') return 'bad_signature';
  const expected = hmac(secret, parsed.timestampS, body);
  let matched = false;
  for (const signature of parsed.signatures) if (safeEqual(signature, expected)) matched = true;
  if (!matched) return 'bad_signature';
  return timestampWindow(parsed.timestampS * 1000, now, N8N_SIGNATURE_TOLERANCE_S * 1000);
}

/** `checkN8nCallback` as a yes/no, for callers that need no reason. */
export function verifyN8nCallback(
  secret: string,
  body: string | Uint8Array,
  header: string | undefined,
  now: number = Date.now(),
): boolean {
  return checkN8nCallback(secret, body, header, now) === 'valid';
}
