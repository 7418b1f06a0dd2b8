import { createHash, timingSafeEqual } from 'node:crypto';
import type { VerificationFailure, VerificationResult } from './contract';

/**
 * What one signature scheme concludes about a request. The failures are the contract's own
 * reasons, so a vendor verifier maps them one to one; `unknown_channel` belongs to Google's
 * channel check, not to a signature.
 */
export type SignatureCheck = 'valid' | Exclude<VerificationFailure, 'unknown_channel'>;

export function verificationResult(
  check: SignatureCheck | 'unknown_channel',
  scheme: string,
): VerificationResult {
  return check === 'valid' ? { valid: true, scheme } : { valid: false, reason: check };
}

/**
 * Constant-time equality of two strings. Their SHA-256 digests are compared, so neither the
 * position of the first difference nor the length of a configured secret (Google's channel
 * token) shows in the timing.
 */
export function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

export interface TimestampedSignatures {
  timestampS: number;
  signatures: string[];
}

/**
 * Parses Stripe's `t=<unix s>,v1=<sig>[,v1=<sig>…]` layout (stripe/stripe-node
 * `src/Webhooks.ts` `parseHeader`), which our n8n callback signature copies. Elements are
 * trimmed (a proxy joining two headers adds ", "); unknown elements are ignored as Stripe's
 * parser does. Stricter than the SDK where leniency would let a changed header still pass: `t`
 * must be all digits and appear once, and a value keeps everything after the first `=`.
 * `undefined` when no timestamp or no `v1` can be read.
 */
export function parseTimestampedSignatures(header: string): TimestampedSignatures | undefined {
  let timestampS: number | undefined;
  let timestamps = 0;
  const signatures: string[] = [];
  for (const element of header.split(',')) {
    const part = element.trim();
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at);
    const value = part.slice(at + 1);
    if (key === 't') {
      timestamps += 1;
      timestampS = /^\d{1,15}$/.test(value) ? Number(value) : undefined;
    } else if (key === 'v1') signatures.push(value);
  }
  if (timestamps !== 1 || timestampS === undefined || signatures.length === 0) return undefined;
  return { timestampS, signatures };
}

/** Where a signed timestamp stands against `now` with a tolerance either way (all in ms). */
export function timestampWindow(
  timestampMs: number,
  nowMs: number,
  toleranceMs: number,
): 'valid' | 'stale_timestamp' | 'future_timestamp' {
  if (nowMs - timestampMs > toleranceMs) return 'stale_timestamp';
  if (timestampMs - nowMs > toleranceMs) return 'future_timestamp';
  return 'valid';
}

/**
 * Decodes base64 only when it is the canonical encoding of `expectedBytes` bytes (or of any
 * length when not given). Node's decoder skips characters outside the alphabet and ignores
 * spare bits, so without this a changed signature header could decode to the same bytes.
 */
export function canonicalBase64(value: string, expectedBytes?: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return undefined;
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) return undefined;
  return bytes;
}
