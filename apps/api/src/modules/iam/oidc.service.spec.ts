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
