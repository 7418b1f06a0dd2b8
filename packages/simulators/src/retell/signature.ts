import { createHmac } from 'node:crypto';

/**
 * Retell's webhook signature (RetellAI/retell-typescript-sdk `src/lib/webhook_auth.ts`;
 * docs.retellai.com/features/secure-webhook): `x-retell-signature: v=<epoch ms>,d=<hex>` with
 * d = HMAC-SHA256(key = the workspace API key, message = rawBody + timestamp).
 */
export function retellSignature(apiKey: string, body: string, timestampMs = Date.now()): string {
  const digest = createHmac('sha256', apiKey)
    .update(body + String(timestampMs))
    .digest('hex');
  return `v=${String(timestampMs)},d=${digest}`;
}
