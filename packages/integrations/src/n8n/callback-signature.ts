import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header an n8n workflow signs its callback with (our scheme, docs/providers/n8n.md). */
export const N8N_SIGNATURE_HEADER = 'x-maxai-signature';
/** How far a callback's timestamp may be from now, either way. */
export const N8N_SIGNATURE_TOLERANCE_S = 300;

function hmac(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret)
    .update(`${String(timestampS)}.${body}`)
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
 * True when `header` carries a `v1` signature of `body` under `secret` whose timestamp is within
 * five minutes of `now` (either way). Comparison is constant-time; several `v1` are allowed
 * (secret rotation).
 */
export function verifyN8nCallback(
  secret: string,
  body: string,
  header: string | undefined,
  now: number = Date.now(),
): boolean {
  if (header === undefined || secret === '') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value !== undefined) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(now / 1000 - timestamp) > N8N_SIGNATURE_TOLERANCE_S) return false;
  const expected = Buffer.from(hmac(secret, timestamp, body), 'utf8');
  let valid = false;
  for (const signature of signatures) {
    const given = Buffer.from(signature, 'utf8');
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}
