import { createHmac, timingSafeEqual } from 'node:crypto';
import { timestampWindow, type SignatureCheck } from '../webhooks/signature-check';

/** Retell's window, either way (retell-sdk `src/lib/webhook_auth.ts` `FIVE_MINUTES`). */
export const RETELL_SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Checks `x-retell-signature: v=<epoch ms>,d=<hex>` on a Retell webhook
 * (RetellAI/retell-typescript-sdk `src/lib/webhook_auth.ts`; docs.retellai.com/features/
 * secure-webhook): d = HMAC-SHA256(key = the API key, rawBody + timestamp), and the timestamp
 * within 5 minutes of `now` either way. `body` must be the raw request bytes. Constant-time.
 *
 * The digest is compared as bytes, so its hex may be upper- or lower-case (the SDK decodes it
 * the same way). The signature is checked before the clock: `stale_timestamp` and
 * `future_timestamp` only describe requests Retell really signed.
 */
export function checkRetellSignature(
  apiKey: string,
  body: string | Uint8Array,
  header: string | undefined,
  now: number = Date.now(),
): SignatureCheck {
  if (header === undefined || header === '') return 'missing_signature';
  // The `v`/`d` names exactly as Retell writes them; only the hex digits may change case.
  const match = /^v=(\d{1,16}),d=([0-9a-fA-F]{64})$/.exec(header);
  const timestamp = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(timestamp)) return 'malformed_signature';
  if (apiKey === '') return 'bad_signature';
  const expected = createHmac('sha256', apiKey)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .update(String(timestamp))
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(String(match[2]), 'hex'))) return 'bad_signature';
  return timestampWindow(timestamp, now, RETELL_SIGNATURE_TOLERANCE_MS);
}

/** `checkRetellSignature` as a yes/no, for callers that need no reason. */
export function verifyRetellSignature(
  apiKey: string,
  body: string | Uint8Array,
  header: string | undefined,
  now: number = Date.now(),
): boolean {
  return checkRetellSignature(apiKey, body, header, now) === 'valid';
}
