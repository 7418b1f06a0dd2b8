import { randomBytes } from 'node:crypto';
import type { Database } from '@maxai/db';
import type { Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../platform/crypto/secret-box';
import { ProblemError } from '../../platform/errors/problem';
import type { AuthService } from './auth.service';
import type { IamRepository } from './iam.repository';
import { isPortalPath, OidcService } from './oidc.service';

describe('isPortalPath (the open-redirect guard of returnTo)', () => {
  it.each(['/', '/dashboard', '/a/b?c=d#e', '/%2F%2Fevil.example', '/clients/x//y'])(
    'accepts %j',
    (path) => {
      expect(isPortalPath(path)).toBe(true);
    },
  );

  it.each([
    '',
    'dashboard',
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example',
    '/ok\\..',
    '/a\tb',
    '/a\nb',
    '/a\u007fb',
  ])('refuses %j', (path) => {
    expect(isPortalPath(path)).toBe(false);
  });
});

describe('OidcService discovery', () => {
  it('answers 503 when an https provider is unreachable, and logs why', async () => {
    const warn = vi.fn();
    const service = new OidcService(
      {} as Database,
      {} as IamRepository,
      {} as AuthService,
      new SecretBox(randomBytes(32)),
      { warn } as unknown as Logger,
      {
        // Nothing listens on port 1: the connection is refused at once.
        issuer: 'https://127.0.0.1:1',
        clientId: 'client',
        redirectUri: 'https://api.example.com/v1/auth/oidc/google/callback',
        portalUrl: 'https://portal.example.com',
      },
    );
    const error = await service.start('/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).problemType).toBe('service-unavailable');
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ reason: expect.any(String) as unknown }),
      'OpenID provider discovery failed',
    );
  });
});

describe('OidcService under a concurrent first sign-in', () => {
  const claims = { sub: 'g-1', email: 'new@example.com', email_verified: true };
  /** The private resolution step, reached for these cases that HTTP cannot time. */
  const userFor = (service: OidcService) =>
    (
      service as unknown as { userFor: (c: typeof claims, m: object) => Promise<unknown> }
    ).userFor.bind(service);
  const unique = () => Object.assign(new Error('duplicate key'), { code: '23505' });

  function serviceWith(repository: Partial<IamRepository>) {
    const db = { transaction: (fn: (tx: unknown) => Promise<unknown>) => fn({}) };
    return new OidcService(
      db as unknown as Database,
      repository as IamRepository,
      {} as AuthService,
      new SecretBox(randomBytes(32)),
      {} as Logger,
      { issuer: 'https://issuer.example', redirectUri: 'https://x', portalUrl: 'https://p' },
    );
  }

  it('finds the user the other request created', async () => {
    const user = { id: 'u1', status: 'active' };
    const findUserByIdentity = vi.fn().mockResolvedValueOnce(undefined).mockResolvedValueOnce(user);
    const service = serviceWith({
      findUserByIdentity,
      findUserByEmail: vi.fn().mockResolvedValue(undefined),
      insertUser: vi.fn().mockRejectedValue(new Error('failed query', { cause: unique() })),
    });
    await expect(userFor(service)(claims, {})).resolves.toBe(user);
    expect(findUserByIdentity).toHaveBeenCalledTimes(2);
  });

  it('gives up after one retry, and passes other errors through', async () => {
    const conflicting = serviceWith({
      findUserByIdentity: vi.fn().mockResolvedValue(undefined),
      findUserByEmail: vi.fn().mockResolvedValue(undefined),
      insertUser: vi.fn().mockRejectedValue(unique()),
    });
    await expect(userFor(conflicting)(claims, {})).rejects.toThrow('duplicate key');
    const broken = serviceWith({
      findUserByIdentity: vi.fn().mockRejectedValue(new Error('database down')),
    });
    await expect(userFor(broken)(claims, {})).rejects.toThrow('database down');
  });
});
