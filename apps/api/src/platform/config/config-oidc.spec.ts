import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, isLoopbackHttp, loadConfig } from './config.schema';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

const ISSUER_PROBLEM =
  'GOOGLE_OIDC_ISSUER: expected an https:// URL (http:// only on localhost or 127.0.0.1)';

describe('Sign in with Google configuration', () => {
  it('points at Google and is off by default', () => {
    const config = loadConfig({});
    expect(config.GOOGLE_OIDC_ISSUER).toBe('https://accounts.google.com');
    expect(config.GOOGLE_OIDC_CLIENT_ID).toBeUndefined();
    expect(config.GOOGLE_OIDC_CLIENT_SECRET).toBeUndefined();
    expect(config.PORTAL_URL).toBeUndefined();
  });

  it('treats empty client credentials as unset', () => {
    const config = loadConfig({ GOOGLE_OIDC_CLIENT_ID: '', GOOGLE_OIDC_CLIENT_SECRET: '' });
    expect(config.GOOGLE_OIDC_CLIENT_ID).toBeUndefined();
    expect(config.GOOGLE_OIDC_CLIENT_SECRET).toBeUndefined();
  });

  it.each([
    'https://accounts.google.com',
    'https://idp.example.com/realms/x',
    'http://localhost:8080',
    'http://127.0.0.1:9000',
  ])('accepts the issuer %s', (issuer) => {
    expect(loadConfig({ GOOGLE_OIDC_ISSUER: issuer }).GOOGLE_OIDC_ISSUER).toBe(issuer);
  });

  it.each([
    'http://accounts.google.com',
    'http://10.0.0.5:8080',
    'http://localhost.evil.example',
    'ftp://localhost',
    'accounts.google.com',
  ])('refuses the issuer %s', (issuer) => {
    expect(problemsOf({ GOOGLE_OIDC_ISSUER: issuer })).toEqual([ISSUER_PROBLEM]);
  });

  it('accepts a portal URL and refuses a non-http one', () => {
    expect(loadConfig({ PORTAL_URL: 'https://app.example.com' }).PORTAL_URL).toBe(
      'https://app.example.com',
    );
    expect(problemsOf({ PORTAL_URL: 'app.example.com' })).toEqual([
      'PORTAL_URL: expected an http(s):// URL',
    ]);
  });

  it('never prints the client secret', () => {
    const shown = describeConfig(
      loadConfig({ GOOGLE_OIDC_CLIENT_ID: 'id', GOOGLE_OIDC_CLIENT_SECRET: 'GOCSPX-secret' }),
    );
    expect(shown.GOOGLE_OIDC_CLIENT_SECRET).toBe('[redacted]');
    expect(shown.GOOGLE_OIDC_CLIENT_ID).toBe('id');
  });

  it('allows plain http only on this machine', () => {
    expect(isLoopbackHttp(new URL('http://localhost:1234'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://127.0.0.1'))).toBe(true);
    expect(isLoopbackHttp(new URL('https://localhost'))).toBe(false);
    expect(isLoopbackHttp(new URL('http://example.com'))).toBe(false);
  });
});
