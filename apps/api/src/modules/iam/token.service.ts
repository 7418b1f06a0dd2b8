import { createHash, randomBytes } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from 'jose';
import { uuidv7 } from 'uuidv7';
import type { SecretBox } from '../../platform/crypto/secret-box';
import type { SigningKeyRow, IamRepository } from './iam.repository';

export const ACCESS_TOKEN_ALG = 'ES256';
const REFRESH_PREFIX = 'mxr_';

export interface AccessClaims {
  sub: string;
  /** Session (refresh-token family) the access token belongs to. */
  sid: string;
  /** The session was opened with a second factor (RFC 8176 `amr` holds `mfa`). */
  mfa?: boolean;
}

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  createdAt: Date;
}

/**
 * Access tokens: ES256 JWTs with a `kid`, 15 minutes by default. Keys live in the database
 * (private half sealed under the master key), so every replica signs and verifies alike; the
 * newest key signs, all unretired keys verify — rotation logs nobody out.
 */
export class TokenService {
  private keys: LoadedKey[] = [];
  private lastReload = 0;

  constructor(
    private readonly repository: IamRepository,
    private readonly box: SecretBox,
    private readonly options: { issuer: string; accessTtlS: number },
  ) {}

  /** Loads the keys, creating the first one on an empty database. */
  async init(): Promise<void> {
    await this.reload();
    if (this.keys.length === 0) await this.rotate();
  }

  /** Adds a new signing key; older ones keep verifying until retired. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, {
      extractable: true,
    });
    const kid = uuidv7();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    await this.repository.insertSigningKey({
      kid,
      alg: ACCESS_TOKEN_ALG,
      publicJwk,
      privateJwkEncrypted: this.box.seal(privateJwk, `signing-key:${kid}`),
    });
    await this.reload();
    return kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async issueAccessToken(claims: AccessClaims): Promise<string> {
    const key = this.keys.at(-1);
    if (!key) throw new Error('no signing key loaded');
    return new SignJWT({ sid: claims.sid, ...(claims.mfa ? { amr: ['pwd', 'otp', 'mfa'] } : {}) })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: key.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.issuer)
      .setIssuedAt()
      .setJti(uuidv7())
      .setExpirationTime(`${this.options.accessTtlS}s`)
      .sign(key.privateKey);
  }

  /** Verifies signature (ES256 only: `none` and HS256-with-the-public-key are refused), time, issuer. */
  async verifyAccessToken(token: string): Promise<AccessClaims & JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.keyFor(header.kid), {
        algorithms: [ACCESS_TOKEN_ALG],
        issuer: this.options.issuer,
        audience: this.options.issuer,
        typ: 'at+jwt',
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
        throw new InvalidTokenError('token lacks subject or session');
      }
      const mfa = Array.isArray(payload.amr) && payload.amr.includes('mfa');
      return { ...payload, sub: payload.sub, sid: payload.sid, mfa };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
  }

  private async keyFor(kid: string | undefined): Promise<CryptoKey> {
    let key = this.keys.find((k) => k.kid === kid);
    // A key rotated on another replica: look again, at most once a second.
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    if (!key) throw new InvalidTokenError('unknown signing key');
    return key.publicKey;
  }

  private async reload(): Promise<void> {
    const rows = await this.repository.activeSigningKeys();
    this.keys = await Promise.all(rows.map((row) => this.load(row)));
    this.lastReload = Date.now();
  }

  private async load(row: SigningKeyRow): Promise<LoadedKey> {
    const privateJwk = JSON.parse(
      this.box.open(row.privateJwkEncrypted, `signing-key:${row.kid}`),
    ) as JWK;
    return {
      kid: row.kid,
      publicJwk: row.publicJwk,
      publicKey: (await importJWK(row.publicJwk as JWK, row.alg)) as CryptoKey,
      privateKey: (await importJWK(privateJwk, row.alg)) as CryptoKey,
      createdAt: row.createdAt,
    };
  }
}

/** A new opaque refresh token and the hash stored for it. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
