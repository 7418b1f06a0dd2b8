import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import canonicalize from 'canonicalize';

/** The algorithm of audit keys: Ed25519 signatures (JWS name `EdDSA`). */
export const AUDIT_KEY_ALG = 'EdDSA';

/** What a checkpoint signs: a tenant's chain head at one moment, and the key that signed it. */
export interface CheckpointClaims {
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: Date;
  kid: string;
}

export type PublicJwk = JsonWebKey & { kid: string; alg: string; use: string };

/**
 * The bytes a checkpoint's signature covers: the RFC 8785 canonical JSON of
 * `{tenantId, seq, hash, signedAt, kid}` (`signedAt` as an ISO 8601 UTC string), so any JCS
 * implementation rebuilds them from an exported checkpoint line.
 */
export function checkpointMessage(claims: CheckpointClaims): Buffer {
  const { tenantId, seq, hash, signedAt, kid } = claims;
  // An object always canonicalizes to a string.
  const canonical = canonicalize({ tenantId, seq, hash, signedAt: signedAt.toISOString(), kid });
  return Buffer.from(String(canonical));
}

/** A base64url Ed25519 signature over the checkpoint's canonical JSON. */
export function signCheckpoint(claims: CheckpointClaims, privateKey: KeyObject): string {
  return sign(null, checkpointMessage(claims), privateKey).toString('base64url');
}

/** True when `signature` is the key's signature over these claims (a malformed one is false). */
export function verifyCheckpoint(
  claims: CheckpointClaims,
  signature: string,
  publicJwk: JsonWebKey,
): boolean {
  const key = createPublicKey({ key: publicJwk, format: 'jwk' });
  return verify(null, checkpointMessage(claims), key, Buffer.from(signature, 'base64url'));
}

/** A new Ed25519 key pair as JWKs: the public half carries `kid`, `alg` and `use`. */
export function newAuditKeyPair(kid: string): { publicJwk: PublicJwk; privateJwk: JsonWebKey } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: AUDIT_KEY_ALG, use: 'sig' },
    privateJwk: privateKey.export({ format: 'jwk' }),
  };
}

export function privateKeyOf(privateJwk: JsonWebKey): KeyObject {
  return createPrivateKey({ key: privateJwk, format: 'jwk' });
}
