import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Record<string, string | string[] | undefined>;

/**
 * Checks `X-Twilio-Signature` on a form-encoded webhook (twilio.com/docs/usage/webhooks/
 * webhooks-security; twilio/twilio-node `src/webhooks/webhooks.ts` `validateRequest`):
 * base64(HMAC-SHA1(authToken, url + sorted params as key+value)), arrays deduplicated and
 * sorted. `url` is the public URL Twilio was given (behind a proxy, not the one seen locally);
 * like the SDK, it is tried as given and with the default port added or removed. Constant-time.
 */
export function validateTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  return urlVariants(url).some((candidate) =>
    safeEqual(signature, expectedTwilioSignature(authToken, candidate, params)),
  );
}

/**
 * The JSON-body variant: the URL carries `bodySHA256=<hex sha256(rawBody)>`, the signature
 * covers the URL with no params, and the hash must match the raw body — pass the received
 * bytes, so the hash covers exactly them (twilio-node `validateRequestWithBody`).
 */
export function validateTwilioSignatureWithBody(
  authToken: string,
  url: string,
  rawBody: string | Uint8Array,
  signature: string | undefined,
): boolean {
  let bodyHash: string | null;
  try {
    bodyHash = new URL(url).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf-8') : rawBody;
  const expectedHash = createHash('sha256').update(bytes).digest('hex');
  // Both checks run, so timing does not tell which failed.
  const signed = validateTwilioSignature(authToken, url, {}, signature);
  const hashed = safeEqual(bodyHash ?? '', expectedHash);
  return signed && hashed;
}

export function expectedTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of [...new Set(value)].sort()) data += key + item;
    } else data += key + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/** The URL as given, without and with the scheme's default port (what the SDK also accepts). */
function urlVariants(url: string): string[] {
  const match = /^(https?:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme = '', authority = '', rest = ''] = match;
  const portAt = authority.lastIndexOf(':');
  const hasPort = portAt > authority.lastIndexOf(']');
  const host = hasPort ? authority.slice(0, portAt) : authority;
  const port = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const variants = [url, scheme + host + rest];
  if (!hasPort) variants.push(scheme + host + port + rest);
  return variants;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
