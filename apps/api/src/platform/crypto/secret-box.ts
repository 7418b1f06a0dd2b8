import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * AES-256-GCM sealing of secrets at rest (private keys, provider credentials). A sealed value
 * is `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts); the key id lets a rotation tell
 * which master key opens which value.
 */
export class SecretBox {
  readonly keyId: string;
  /** Earlier master keys still open what they sealed (during and after a rotation). */
  private readonly previous: Map<string, Buffer>;

  constructor(
    private readonly key: Buffer,
    previous: Buffer[] = [],
  ) {
    for (const k of [key, ...previous]) {
      if (k.length !== 32) throw new Error('the master key must be 32 bytes (AES-256)');
    }
    this.keyId = masterKeyId(key);
    this.previous = new Map(previous.map((k) => [masterKeyId(k), k]));
  }

  /** The current master key, for the KMS adapter that wraps data keys with it. */
  get currentKey(): Buffer {
    return this.key;
  }

  /** A master key by id (current or previous). */
  keyFor(keyId: string): Buffer | undefined {
    return keyId === this.keyId ? this.key : this.previous.get(keyId);
  }

  /** A 32-byte key for one purpose (e.g. `csrf`), derived from the master key with HKDF. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `maxai:${purpose}`, 32));
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The context (e.g. the record's id) is authenticated: a ciphertext moved to another
    // record does not open.
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return ['v1', this.keyId, ...parts].join('.');
  }

  open(sealed: string, context = ''): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined)
      throw new Error('not a sealed value');
    const key = this.keyFor(keyId);
    if (!key) throw new Error(`sealed under an unknown master key (${keyId})`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}

/** A master key's public name: the first 8 characters of its SHA-256, base64url. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/**
 * The master key: MASTER_KEY (base64, 32 bytes) when set — required in production — else, for
 * development and the embedded demo, a random key kept in a 0600 file beside the data.
 */
export function loadMasterKey(options: {
  masterKey?: string | undefined;
  keyFile: string;
  production: boolean;
}): Buffer {
  if (options.masterKey) return Buffer.from(options.masterKey, 'base64');
  if (options.production) throw new Error('MASTER_KEY is required in production');
  if (existsSync(options.keyFile))
    return Buffer.from(readFileSync(options.keyFile, 'utf8').trim(), 'base64');
  mkdirSync(path.dirname(options.keyFile), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(options.keyFile, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(options.keyFile, 0o600);
  return key;
}
