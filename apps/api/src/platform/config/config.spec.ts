import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.schema';

describe('loadConfig', () => {
  it('applies documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.PGLITE_DATA_DIR).toBe('./.data/pglite');
    expect(config.CORS_ORIGINS).toEqual([]);
    expect(config.MIGRATE_ON_START).toBe(true);
  });

  it('parses typed values', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      REDIS_URL: 'redis://cache:6379',
      CORS_ORIGINS: 'https://a.example.com, https://b.example.com',
      TRUST_PROXY: '1',
      INTERNAL_API_TOKEN: '',
    });
    expect(config.PORT).toBe(8080);
    expect(config.CORS_ORIGINS).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(config.TRUST_PROXY).toBe(true);
    expect(config.INTERNAL_API_TOKEN).toBeUndefined();
  });

  it('reports one line per offending variable, naming what was expected', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://root:hunter2@db/app',
        LOG_LEVEL: 'loud',
        CORS_ORIGINS: 'not a url',
        TRUST_PROXY: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'PORT: expected an integer from 0 to 65535',
      'DATABASE_URL: expected a postgres:// URL',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
      'CORS_ORIGINS: expected a comma-separated list of origins like https://app.example.com',
      'TRUST_PROXY: expected true or false',
    ]);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('rejects a too-short internal token without echoing it', () => {
    expect(() => loadConfig({ INTERNAL_API_TOKEN: 'short-secret' })).toThrow(
      /INTERNAL_API_TOKEN: expected at least 24 characters/,
    );
  });

  it('masks secrets when describing the configuration', () => {
    const shown = describeConfig(
      loadConfig({
        DATABASE_URL: 'postgres://u:secret@db/app',
        INTERNAL_API_TOKEN: 'x'.repeat(30),
      }),
    );
    expect(shown.DATABASE_URL).toBe('[redacted]');
    expect(shown.INTERNAL_API_TOKEN).toBe('[redacted]');
    expect(shown.REDIS_URL).toBeUndefined();
    expect(JSON.stringify(shown)).not.toContain('secret@');
  });
});
