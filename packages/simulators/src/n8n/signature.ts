import { createHmac } from 'node:crypto';

/**
 * OUR callback signature (not n8n's: n8n has no outbound signing — the workflow's HTTP Request
 * node computes it with a Crypto node): `x-maxai-signature: t=<unix s>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>" keyed by the connection's shared secret>`. See docs/providers/n8n.md.
 */
export function maxaiCallbackSignature(body: string, secret: string, timestampS: number): string {
  const v1 = createHmac('sha256', secret)
    .update(`${String(timestampS)}.${body}`)
    .digest('hex');
  return `t=${String(timestampS)},v1=${v1}`;
}
