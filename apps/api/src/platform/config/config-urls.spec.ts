import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from './config.schema';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('URL variables', () => {
  it.each([
    ['DATABASE_URL', 'postgres://u:p@db:5432/app'],
    ['DATABASE_URL', 'postgresql://db/app?sslmode=require'],
    ['REDIS_URL', 'redis://cache:6379'],
    ['REDIS_URL', 'rediss://u:p@cache:6380/2'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'https://otel.example.com/v1/traces'],
  ] as const)('accepts %s=%s as given', (key, value) => {
    expect(loadConfig({ [key]: value })[key]).toBe(value);
  });

  it.each(['DATABASE_URL', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const)(
    'treats an empty %s as unset',
    (key) => {
      expect(loadConfig({ [key]: '' })[key]).toBeUndefined();
    },
  );

  it.each([
    ['DATABASE_URL', 'not a url', 'expected a postgres:// URL'],
    ['DATABASE_URL', 'db.internal:5432/app', 'expected a postgres:// URL'],
    ['DATABASE_URL', '//u:p@db/app', 'expected a postgres:// URL'],
    ['REDIS_URL', '://cache:6379', 'expected a redis:// or rediss:// URL'],
    ['REDIS_URL', 'http://cache:6379', 'expected a redis:// or rediss:// URL'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', 'expected an http(s):// URL'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'https://', 'expected an http(s):// URL'],
  ] as const)('rejects %s=%s', (key, value, expected) => {
    expect(problemsOf({ [key]: value })).toEqual([`${key}: ${expected}`]);
  });

  it('never echoes an unparseable secret URL in the error', () => {
    let message = '';
    try {
      loadConfig({ DATABASE_URL: 'user hunter2 at db', REDIS_URL: 'pa ss@cache' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL: expected a postgres:// URL');
    expect(message).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('pa ss');
  });
});

describe('CORS_ORIGINS', () => {
  it('trims entries and drops empty ones', () => {
    expect(
      loadConfig({ CORS_ORIGINS: ' https://a.example.com ,, http://localhost:5173,' }).CORS_ORIGINS,
    ).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it.each([
    ['a wildcard', '*'],
    ['a bare host', 'app.example.com'],
    ['a list with one unparseable entry', 'https://a.example.com,not an origin'],
    ['an origin with a trailing slash', 'https://a.example.com/'],
    ['an origin with a path', 'https://a.example.com/app'],
    ['an origin with a default port spelled out', 'https://a.example.com:443'],
  ])('rejects %s', (_label, value) => {
    expect(problemsOf({ CORS_ORIGINS: value })).toEqual([
      'CORS_ORIGINS: expected a comma-separated list of origins like https://app.example.com',
    ]);
  });
});

describe('loadConfig problem lines', () => {
  it('reports a variable failing several checks once', () => {
    // 1e100 is both beyond the safe integers and above the maximum: two issues for one key.
    const issues = configSchema.safeParse({ PORT: '1e100' }).error?.issues ?? [];
    expect(issues.filter((i) => i.path.join('.') === 'PORT').length).toBeGreaterThan(1);

    expect(problemsOf({ PORT: '1e100' })).toEqual(['PORT: expected an integer from 0 to 65535']);
  });

  it('keeps one line per variable, in order, when several variables fail', () => {
    expect(problemsOf({ PORT: '1e100', DATABASE_URL: 'not a url', CORS_ORIGINS: '*' })).toEqual([
      'PORT: expected an integer from 0 to 65535',
      'DATABASE_URL: expected a postgres:// URL',
      'CORS_ORIGINS: expected a comma-separated list of origins like https://app.example.com',
    ]);
  });
});
