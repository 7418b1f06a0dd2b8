import { createHmac, timingSafeEqual } from 'node:crypto';

const TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Checks `x-retell-signature: v=<epoch ms>,d=<hex>` on a Retell webhook
 * (RetellAI/retell-typescript-sdk `src/lib/webhook_auth.ts`; docs.retellai.com/features/
 * secure-webhook): d = HMAC-SHA256(key = the API key, rawBody + timestamp), and the timestamp
 * within 5 minutes of `now` either way. `body` must be the raw request bytes. Constant-time.
 */
export function verifyRetellSignature(
  apiKey: string,
  body: string,
  header: string | undefined,
  now: number = Date.now(),
): boolean {
  const match = /^v=(\d+),d=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (!Number.isSafeInteger(timestamp) || Math.abs(now - timestamp) > TOLERANCE_MS) return false;
  const expected = createHmac('sha256', apiKey)
    .update(body + String(timestamp))
    .digest();
  return timingSafeEqual(expected, Buffer.from(String(match[2]), 'hex'));
}
