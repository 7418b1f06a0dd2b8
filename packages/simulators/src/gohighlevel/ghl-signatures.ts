import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * GoHighLevel webhook signatures (marketplace.gohighlevel.com/docs/webhook/WebhookIntegrationGuide,
 * PROVIDERS.md "GoHighLevel / LeadConnector v2"):
 * - `x-ghl-signature`: Ed25519 over the raw request body, base64 (current scheme);
 * - `x-wh-signature`: RSA-SHA256 (PKCS#1 v1.5) over the raw body, base64 (legacy scheme).
 * The real keys are GoHighLevel's published public keys; the simulator makes a sandbox pair of
 * each per instance and exposes the public halves on its control API.
 */
export interface GhlWebhookKeys {
  ed25519: { publicKey: KeyObject; privateKey: KeyObject };
  rsa: { publicKey: KeyObject; privateKey: KeyObject };
}

export function generateGhlWebhookKeys(): GhlWebhookKeys {
  return {
    ed25519: generateKeyPairSync('ed25519'),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
}

/** Both signature headers for exactly these body bytes. */
export function signGhlWebhook(
  body: string,
  keys: GhlWebhookKeys,
): { 'x-ghl-signature': string; 'x-wh-signature': string } {
  const bytes = Buffer.from(body, 'utf8');
  return {
    'x-ghl-signature': sign(null, bytes, keys.ed25519.privateKey).toString('base64'),
    'x-wh-signature': sign('sha256', bytes, keys.rsa.privateKey).toString('base64'),
  };
}

/** Verifies `x-ghl-signature` (Ed25519) with a public key in PEM (SPKI). */
export function verifyGhlEd25519(body: string, signature: string, publicKeyPem: string): boolean {
  try {
    return verify(null, Buffer.from(body, 'utf8'), publicKeyPem, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Verifies the legacy `x-wh-signature` (RSA-SHA256) with a public key in PEM (SPKI). */
export function verifyGhlRsa(body: string, signature: string, publicKeyPem: string): boolean {
  try {
    return verify(
      'sha256',
      Buffer.from(body, 'utf8'),
      publicKeyPem,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
