import { createHash, createHmac } from 'node:crypto';

/**
 * Twilio's webhook signature, as twilio/twilio-node `src/webhooks/webhooks.ts`
 * (`getExpectedTwilioSignature`) computes it and twilio.com/docs/usage/webhooks/webhooks-security
 * describes it: base64(HMAC-SHA1(authToken, url + each POST param as key+value, keys sorted;
 * an array's values deduplicated, sorted and each appended as key+value)).
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string | string[]>,
): string {
  let data = url;
  const entries = Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [key, value] of entries) {
    if (Array.isArray(value)) {
      for (const item of [...new Set(value)].sort()) data += key + item;
    } else data += key + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/**
 * The JSON-body variant (same page, "Validating requests with a JSON body"): Twilio appends
 * `bodySHA256=<hex sha256(body)>` to the URL and signs that URL with no params.
 */
export function twilioSignedJsonUrl(url: string, body: string): string {
  const hash = createHash('sha256').update(Buffer.from(body, 'utf-8')).digest('hex');
  return `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${hash}`;
}
