import { randomBytes } from 'node:crypto';
import {
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../platform/crypto/secret-box';
import type { IamRepository, SigningKeyRow } from './iam.repository';
import {
  ACCESS_TOKEN_ALG,
  hashRefreshToken,
  InvalidTokenError,
  newRefreshToken,
  TokenService,
} from './token.service';

type SigningKeyStore = Pick<IamRepository, 'insertSigningKey' | 'activeSigningKeys'>;

/** The signing-key table in memory: unretired rows, oldest first. */
class InMemorySigningKeys implements SigningKeyStore {
  readonly rows: SigningKeyRow[] = [];

  insertSigningKey(row: Parameters<IamRepository['insertSigningKey']>[0]): Promise<void> {
    this.rows.push({ createdAt: new Date(), retiredAt: null, use: 'jwt', ...row });
    return Promise.resolve();
  }

  activeSigningKeys(): Promise<SigningKeyRow[]> {
    return Promise.resolve(
      this.rows
        .filter((row) => row.retiredAt === null)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()),
    );
  }
}

const ISSUER = 'https://api.example.com';
const TTL_S = 900;
const T0 = new Date('2030-01-01T00:00:00.000Z');

function service(
  store: SigningKeyStore,
  box: SecretBox,
  issuer = ISSUER,
  accessTtlS = TTL_S,
): TokenService {
  return new TokenService(store as unknown as IamRepository, box, { issuer, accessTtlS });
}

/**
 * A key pair made outside the service, stored as the service stores its own (public JWK plus
 * the private JWK sealed under `signing-key:<kid>`), so tests can sign arbitrary tokens.
 */
async function foreignKey(
  store: InMemorySigningKeys,
  box: SecretBox,
  kid: string,
): Promise<CryptoKey> {
  const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
  await store.insertSigningKey({
    kid,
    alg: ACCESS_TOKEN_ALG,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' },
    privateJwkEncrypted: box.seal(
      JSON.stringify(await exportJWK(privateKey)),
      `signing-key:${kid}`,
    ),
  });
  return privateKey;
}

function sign(
  privateKey: CryptoKey,
  kid: string,
  payload: JWTPayload,
  options: { issuer?: string; audience?: string; subject?: string; typ?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: options.typ ?? 'at+jwt' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? ISSUER)
    .setIssuedAt()
    .setExpirationTime('5m');
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  return jwt.sign(privateKey);
}

async function rejection(promise: Promise<unknown>): Promise<InvalidTokenError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the token to be rejected');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect((error as Error).name).toBe('InvalidTokenError');
  return error as InvalidTokenError;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('TokenService keys', () => {
  it('creates a key on an empty store, and none when one exists', async () => {
    const store = new InMemorySigningKeys();
    const box = new SecretBox(randomBytes(32));
    const insert = vi.spyOn(store, 'insertSigningKey');

    const first = service(store, box);
    await first.init();
    expect(insert).toHaveBeenCalledTimes(1);
    expect(store.rows).toHaveLength(1);
    const [row] = store.rows;
    expect(row?.alg).toBe('ES256');
    expect(row?.privateJwkEncrypted.startsWith(`v1.${box.keyId}.`)).toBe(true);
    // The private half is stored sealed, bound to its kid.
    const privateJwk = JSON.parse(
      box.open(row?.privateJwkEncrypted ?? '', `signing-key:${row?.kid}`),
    ) as Record<string, unknown>;
    expect(typeof privateJwk.d).toBe('string');

    await first.init();
    await service(store, box).init();
    expect(insert).toHaveBeenCalledTimes(1);
    expect(store.rows).toHaveLength(1);
  });

  it('publishes only the public members of every key in the JWKS', async () => {
    const store = new InMemorySigningKeys();
    const tokens = service(store, new SecretBox(randomBytes(32)));
    expect(tokens.jwks()).toEqual({ keys: [] });
    await tokens.init();
    const rotated = await tokens.rotate();

    const { keys } = tokens.jwks();
    expect(keys.map((k) => k.kid)).toEqual([store.rows[0]?.kid, rotated]);
    for (const key of keys) {
      expect(key).not.toHaveProperty('d');
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    }
  });

  it('refuses to issue before any key is loaded', async () => {
    const tokens = service(new InMemorySigningKeys(), new SecretBox(randomBytes(32)));
    await expect(tokens.issueAccessToken({ sub: 'user-1', sid: 'session-1' })).rejects.toThrow(
      'no signing key loaded',
    );
  });

  it('does not load a key sealed under another master key', async () => {
    const store = new InMemorySigningKeys();
    await service(store, new SecretBox(randomBytes(32))).init();
    await expect(service(store, new SecretBox(randomBytes(32))).init()).rejects.toThrow(
      /sealed under an unknown master key/,
    );
  });
});

describe('TokenService access tokens', () => {
  it('issues a token that verifies to its subject and session', async () => {
    const tokens = service(new InMemorySigningKeys(), new SecretBox(randomBytes(32)));
    await tokens.init();

    const token = await tokens.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'ES256', kid: tokens.jwks().keys[0]?.kid, typ: 'at+jwt' });

    const claims = await tokens.verifyAccessToken(token);
    expect(claims.sub).toBe('user-1');
    expect(claims.sid).toBe('session-1');
    expect(claims.iss).toBe(ISSUER);
    expect(claims.aud).toBe(ISSUER);
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(TTL_S);
  });

  it('signs with the newest key and still verifies tokens of older ones', async () => {
    const tokens = service(new InMemorySigningKeys(), new SecretBox(randomBytes(32)));
    await tokens.init();
    const old = await tokens.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    const kid = await tokens.rotate();
    const fresh = await tokens.issueAccessToken({ sub: 'user-1', sid: 'session-2' });

    expect(decodeProtectedHeader(fresh).kid).toBe(kid);
    expect(decodeProtectedHeader(old).kid).not.toBe(kid);
    expect((await tokens.verifyAccessToken(old)).sid).toBe('session-1');
    expect((await tokens.verifyAccessToken(fresh)).sid).toBe('session-2');
  });

  it('rejects a token without a session or without a subject', async () => {
    const store = new InMemorySigningKeys();
    const box = new SecretBox(randomBytes(32));
    const privateKey = await foreignKey(store, box, 'manual-key');
    const tokens = service(store, box);
    await tokens.init();
    expect(store.rows).toHaveLength(1);

    // The same key signs a well-formed token that verifies...
    const good = await sign(privateKey, 'manual-key', { sid: 'session-1' }, { subject: 'user-1' });
    expect(await tokens.verifyAccessToken(good)).toMatchObject({ sub: 'user-1', sid: 'session-1' });

    // ...but not one lacking the session or the subject, or with a non-string session.
    const noSid = await sign(privateKey, 'manual-key', {}, { subject: 'user-1' });
    const noSub = await sign(privateKey, 'manual-key', { sid: 'session-1' });
    const numericSid = await sign(privateKey, 'manual-key', { sid: 42 }, { subject: 'user-1' });
    for (const token of [noSid, noSub, numericSid]) {
      expect((await rejection(tokens.verifyAccessToken(token))).message).toBe(
        'token lacks subject or session',
      );
    }
  });

  it('rejects a token of another issuer or for another audience', async () => {
    const store = new InMemorySigningKeys();
    const box = new SecretBox(randomBytes(32));
    const privateKey = await foreignKey(store, box, 'manual-key');
    const tokens = service(store, box);
    await tokens.init();

    // Another deployment sharing the keys but not the issuer.
    const other = service(store, box, 'https://other.example.com');
    await other.init();
    const foreign = await other.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    expect((await rejection(tokens.verifyAccessToken(foreign))).message).toMatch(/"iss"/);

    const wrongAudience = await sign(
      privateKey,
      'manual-key',
      { sid: 'session-1' },
      { subject: 'user-1', audience: 'https://other.example.com' },
    );
    expect((await rejection(tokens.verifyAccessToken(wrongAudience))).message).toMatch(/"aud"/);

    const wrongIssuer = await sign(
      privateKey,
      'manual-key',
      { sid: 'session-1' },
      { subject: 'user-1', issuer: 'https://other.example.com' },
    );
    expect((await rejection(tokens.verifyAccessToken(wrongIssuer))).message).toMatch(/"iss"/);

    const wrongType = await sign(
      privateKey,
      'manual-key',
      { sid: 'session-1' },
      { subject: 'user-1', typ: 'JWT' },
    );
    expect((await rejection(tokens.verifyAccessToken(wrongType))).message).toMatch(/"typ"/);
  });

  it('rejects a malformed, tampered or expired token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const tokens = service(new InMemorySigningKeys(), new SecretBox(randomBytes(32)));
    await tokens.init();
    const token = await tokens.issueAccessToken({ sub: 'user-1', sid: 'session-1' });

    await rejection(tokens.verifyAccessToken('not.a.token'));
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
        sub: 'admin',
      }),
    ).toString('base64url');
    await rejection(tokens.verifyAccessToken([header, forged, signature].join('.')));

    vi.setSystemTime(T0.getTime() + (TTL_S + 1) * 1000);
    expect((await rejection(tokens.verifyAccessToken(token))).message).toMatch(/"exp"/);
  });

  it('picks up a key rotated by another instance, reloading at most once a second', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const store = new InMemorySigningKeys();
    const box = new SecretBox(randomBytes(32));
    const first = service(store, box);
    await first.init();
    const second = service(store, box);
    await second.init();
    expect(store.rows).toHaveLength(1);

    const kid = await second.rotate();
    const token = await second.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    expect(decodeProtectedHeader(token).kid).toBe(kid);
    const reloads = vi.spyOn(store, 'activeSigningKeys');

    // Within the second of its last reload, the first instance does not look again.
    vi.setSystemTime(T0.getTime() + 1000);
    expect((await rejection(first.verifyAccessToken(token))).message).toBe('unknown signing key');
    expect(reloads).not.toHaveBeenCalled();

    // Past it, the unknown kid makes it reload once, and the key is found.
    vi.setSystemTime(T0.getTime() + 1001);
    expect(await first.verifyAccessToken(token)).toMatchObject({ sub: 'user-1', sid: 'session-1' });
    expect(reloads).toHaveBeenCalledTimes(1);
    expect(first.jwks().keys.map((k) => k.kid)).toContain(kid);

    // Known now: later verifications need no reload.
    vi.setSystemTime(T0.getTime() + 5000);
    expect((await first.verifyAccessToken(token)).sid).toBe('session-1');
    expect(reloads).toHaveBeenCalledTimes(1);
  });

  it('rejects a kid that is still unknown after a reload, and does not reload again at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const box = new SecretBox(randomBytes(32));
    const store = new InMemorySigningKeys();
    const tokens = service(store, box);
    await tokens.init();
    // A key in another store: never visible to `tokens`.
    const stranger = service(new InMemorySigningKeys(), box);
    await stranger.init();
    const token = await stranger.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    const reloads = vi.spyOn(store, 'activeSigningKeys');

    vi.setSystemTime(T0.getTime() + 2000);
    expect((await rejection(tokens.verifyAccessToken(token))).message).toBe('unknown signing key');
    expect(reloads).toHaveBeenCalledTimes(1);

    vi.setSystemTime(T0.getTime() + 2500);
    expect((await rejection(tokens.verifyAccessToken(token))).message).toBe('unknown signing key');
    expect(reloads).toHaveBeenCalledTimes(1);
  });

  it('reports a failure that is not an Error as an invalid token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const box = new SecretBox(randomBytes(32));
    const store = new InMemorySigningKeys();
    const tokens = service(store, box);
    await tokens.init();
    const stranger = service(new InMemorySigningKeys(), box);
    await stranger.init();
    const token = await stranger.issueAccessToken({ sub: 'user-1', sid: 'session-1' });
    // The reload an unknown kid triggers fails with a bare value, as a driver might.
    vi.spyOn(store, 'activeSigningKeys').mockRejectedValueOnce('connection reset');

    vi.setSystemTime(T0.getTime() + 2000);
    expect((await rejection(tokens.verifyAccessToken(token))).message).toBe('invalid token');
  });
});

describe('refresh tokens', () => {
  it('are random, prefixed mxr_, and stored as their SHA-256 hash', () => {
    const { token, hash } = newRefreshToken();
    expect(token).toMatch(/^mxr_[A-Za-z0-9_-]{43}$/);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(token)).toBe(hash);
    expect(hash).not.toContain(token.slice(4));

    const other = newRefreshToken();
    expect(other.token).not.toBe(token);
    expect(other.hash).not.toBe(hash);
    expect(hashRefreshToken(`${token}x`)).not.toBe(hash);
  });
});
