import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, SECRET_KEYS } from './config.schema';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

const KEY_PROBLEM = 'MASTER_KEY: expected 32 bytes, base64-encoded (openssl rand -base64 32)';
const validKey = (): string => randomBytes(32).toString('base64');

describe('MASTER_KEY and MASTER_KEY_FILE', () => {
  it('are unset and ./.data/master.key by default', () => {
    const config = loadConfig({});
    expect(config.MASTER_KEY).toBeUndefined();
    expect(config.MASTER_KEY_FILE).toBe('./.data/master.key');
  });

  it('accepts a base64 key of exactly 32 bytes, as given', () => {
    const key = validKey();
    expect(loadConfig({ MASTER_KEY: key }).MASTER_KEY).toBe(key);
  });

  it('treats an empty MASTER_KEY as unset', () => {
    expect(loadConfig({ MASTER_KEY: '' }).MASTER_KEY).toBeUndefined();
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['no base64 at all', '!!!!'],
  ])('rejects a key of %s without echoing it', (_what, key) => {
    const problems = problemsOf({ MASTER_KEY: key });
    expect(problems).toEqual([KEY_PROBLEM]);
    expect(problems.join('\n')).not.toContain(key);
  });

  it('accepts another key file and rejects an empty one', () => {
    expect(loadConfig({ MASTER_KEY_FILE: '/var/lib/app/master.key' }).MASTER_KEY_FILE).toBe(
      '/var/lib/app/master.key',
    );
    expect(problemsOf({ MASTER_KEY_FILE: '' })).toHaveLength(1);
    expect(problemsOf({ MASTER_KEY_FILE: '' })[0]).toMatch(/^MASTER_KEY_FILE: /);
  });
});

describe('PUBLIC_URL', () => {
  it('defaults to http://localhost:3000', () => {
    expect(loadConfig({}).PUBLIC_URL).toBe('http://localhost:3000');
  });

  it.each(['http://api.example.com', 'https://api.example.com/base', 'https://[::1]:8443'])(
    'accepts %s as given',
    (url) => {
      expect(loadConfig({ PUBLIC_URL: url }).PUBLIC_URL).toBe(url);
    },
  );

  it.each(['ftp://x', 'not a url', 'api.example.com', 'https://'])('rejects %s', (url) => {
    expect(problemsOf({ PUBLIC_URL: url })).toEqual(['PUBLIC_URL: expected an http(s):// URL']);
  });
});

describe('token lifetimes', () => {
  it('default to 900 s for access tokens and 30 days for refresh tokens', () => {
    const config = loadConfig({});
    expect(config.ACCESS_TOKEN_TTL_S).toBe(900);
    expect(config.REFRESH_TOKEN_TTL_DAYS).toBe(30);
  });

  it('parse integers within their bounds', () => {
    expect(loadConfig({ ACCESS_TOKEN_TTL_S: '60' }).ACCESS_TOKEN_TTL_S).toBe(60);
    expect(loadConfig({ ACCESS_TOKEN_TTL_S: '3600' }).ACCESS_TOKEN_TTL_S).toBe(3600);
    expect(loadConfig({ REFRESH_TOKEN_TTL_DAYS: '1' }).REFRESH_TOKEN_TTL_DAYS).toBe(1);
    expect(loadConfig({ REFRESH_TOKEN_TTL_DAYS: '365' }).REFRESH_TOKEN_TTL_DAYS).toBe(365);
  });

  it.each(['59', '3601', '90.5', 'soon'])('reject ACCESS_TOKEN_TTL_S=%s', (value) => {
    expect(problemsOf({ ACCESS_TOKEN_TTL_S: value })).toEqual([
      'ACCESS_TOKEN_TTL_S: expected an integer from 60 to 3600',
    ]);
  });

  it.each(['0', '366', '1.5', 'month'])('reject REFRESH_TOKEN_TTL_DAYS=%s', (value) => {
    expect(problemsOf({ REFRESH_TOKEN_TTL_DAYS: value })).toEqual([
      'REFRESH_TOKEN_TTL_DAYS: expected an integer from 1 to 365',
    ]);
  });
});

describe('production', () => {
  it('requires MASTER_KEY', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['MASTER_KEY: required in production']);
    expect(problemsOf({ NODE_ENV: 'production', MASTER_KEY: '' })).toEqual([
      'MASTER_KEY: required in production',
    ]);
  });

  it('passes with a valid MASTER_KEY', () => {
    const key = validKey();
    const config = loadConfig({ NODE_ENV: 'production', MASTER_KEY: key });
    expect(config.NODE_ENV).toBe('production');
    expect(config.MASTER_KEY).toBe(key);
  });

  it('reports an invalid MASTER_KEY as such', () => {
    expect(problemsOf({ NODE_ENV: 'production', MASTER_KEY: 'c2hvcnQ=' })).toEqual([KEY_PROBLEM]);
  });

  it.each(['development', 'test'])('does not require MASTER_KEY in %s', (env) => {
    expect(loadConfig({ NODE_ENV: env }).MASTER_KEY).toBeUndefined();
  });
});

describe('describeConfig', () => {
  it('lists MASTER_KEY among the secrets', () => {
    expect(SECRET_KEYS).toContain('MASTER_KEY');
  });

  it('redacts MASTER_KEY', () => {
    const key = validKey();
    const shown = describeConfig(loadConfig({ MASTER_KEY: key }));
    expect(shown.MASTER_KEY).toBe('[redacted]');
    expect(shown.MASTER_KEY_FILE).toBe('./.data/master.key');
    expect(shown.PUBLIC_URL).toBe('http://localhost:3000');
    expect(JSON.stringify(shown)).not.toContain(key);
  });

  it('leaves an unset MASTER_KEY unset', () => {
    const shown = describeConfig(loadConfig({}));
    expect(shown.MASTER_KEY).toBeUndefined();
    expect(shown.ACCESS_TOKEN_TTL_S).toBe(900);
  });
});

describe('email transport', () => {
  it('needs an SMTP URL for the smtp transport, and keeps it secret', () => {
    expect(() => loadConfig({ EMAIL_TRANSPORT: 'smtp' })).toThrow(
      /SMTP_URL: required when EMAIL_TRANSPORT=smtp/,
    );
    expect(() => loadConfig({ SMTP_URL: 'http://mail' })).toThrow(
      /SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/,
    );
    const config = loadConfig({
      EMAIL_TRANSPORT: 'smtp',
      SMTP_URL: 'smtps://u:secret@mail:465',
      SEED_ADMIN_PASSWORD: 'a long admin passphrase',
    });
    expect(config.EMAIL_FROM).toBe('MaxAI <no-reply@maxai.local>');
    const shown = JSON.stringify(describeConfig(config));
    expect(shown).not.toContain('secret@');
    expect(shown).not.toContain('a long admin passphrase');
  });
});
