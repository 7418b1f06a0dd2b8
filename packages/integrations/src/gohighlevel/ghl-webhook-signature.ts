import { verify } from 'node:crypto';
import { parseJsonObject } from '../webhooks/payload-fields';
import { canonicalBase64, timestampWindow, type SignatureCheck } from '../webhooks/signature-check';

/** GoHighLevel's replay window on the payload `timestamp`, either way. */
export const GHL_WEBHOOK_TOLERANCE_MS = 5 * 60 * 1000;

const ED25519_SIGNATURE_BYTES = 64;

export interface GhlWebhookPublicKeys {
  /** GoHighLevel's published Ed25519 public key, PEM (SPKI). */
  ed25519PublicKeyPem: string;
  /** The legacy RSA public key, PEM (SPKI); without it `x-wh-signature` is not accepted. */
  rsaPublicKeyPem?: string | undefined;
}

export interface GhlSignatureCheck {
  check: SignatureCheck;
  scheme: 'ghl-ed25519' | 'ghl-rsa-sha256';
}

/**
 * Verifies a GoHighLevel webhook (marketplace.gohighlevel.com/docs/webhook/
 * WebhookIntegrationGuide): `x-ghl-signature` = base64 Ed25519 signature of the raw body
 * (current); when it is absent, the legacy `x-wh-signature` = base64 RSA-SHA256 (PKCS#1 v1.5)
 * of the raw body, only if an RSA key is configured (GoHighLevel announced its end for
 * 2026-07-01). A present but wrong Ed25519 signature never falls back to RSA.
 *
 * Neither header carries a time: replays are bounded by the signed payload's `timestamp`
 * (ISO 8601, or epoch ms), which must be within 5 minutes of `now` either way, and by dedupe
 * on `webhookId`. A signed body without a readable `timestamp` cannot be placed in that
 * window and is refused as `malformed_signature`.
 */
export function checkGhlWebhookSignature(
  rawBody: Uint8Array,
  headers: Readonly<Record<string, string | undefined>>,
  keys: GhlWebhookPublicKeys,
  now: number,
): GhlSignatureCheck {
  const ed25519 = headers['x-ghl-signature'];
  const rsa = headers['x-wh-signature'];
  if (ed25519 !== undefined && ed25519 !== '') {
    return {
      check: signedWindow(
        rawBody,
        canonicalBase64(ed25519, ED25519_SIGNATURE_BYTES),
        (signature) => verify(null, rawBody, keys.ed25519PublicKeyPem, signature),
        now,
      ),
      scheme: 'ghl-ed25519',
    };
  }
  const rsaKey = keys.rsaPublicKeyPem;
  if (rsa !== undefined && rsa !== '' && rsaKey !== undefined && rsaKey !== '') {
    return {
      check: signedWindow(
        rawBody,
        canonicalBase64(rsa),
        (signature) => verify('sha256', rawBody, rsaKey, signature),
        now,
      ),
      scheme: 'ghl-rsa-sha256',
    };
  }
  return { check: 'missing_signature', scheme: 'ghl-ed25519' };
}

function signedWindow(
  rawBody: Uint8Array,
  signature: Buffer | undefined,
  verifySignature: (signature: Buffer) => boolean,
  now: number,
): SignatureCheck {
  if (signature === undefined) return 'malformed_signature';
  let authentic: boolean;
  try {
    authentic = verifySignature(signature);
  } catch {
    // A key that is not a usable PEM: nothing can be verified with it.
    authentic = false;
  }
  if (!authentic) return 'bad_signature';
  const timestampMs = payloadTimestampMs(rawBody);
  if (timestampMs === undefined) return 'malformed_signature';
  return timestampWindow(timestampMs, now, GHL_WEBHOOK_TOLERANCE_MS);
}

function payloadTimestampMs(rawBody: Uint8Array): number | undefined {
  const value = parseJsonObject(rawBody)?.timestamp;
  const ms = typeof value === 'string' ? Date.parse(value) : value;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}
