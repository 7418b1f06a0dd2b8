import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../src/platform/database/database.module';
import { startTestApp, type TestApp } from './support/test-app';

describe('with Redis unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('api', { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_POINTS: '2' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports not ready with a 503 problem naming the failed check', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 503,
      type: expect.stringContaining('service-unavailable'),
      checks: { database: 'up', redis: 'down' },
    });
  });

  it('keeps rate limiting through the in-memory insurance limiter', async () => {
    const hit = () =>
      t.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '198.51.100.9' });
    expect((await hit()).statusCode).toBe(200);
    expect((await hit()).statusCode).toBe(200);
    expect((await hit()).statusCode).toBe(429);
  });
});

describe('API docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('api', { REDIS_URL: '' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves the Swagger UI assets from the bundled package', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.body).toContain('/docs/swagger-ui-bundle.js');
    const init = await t.app.inject({ method: 'GET', url: '/docs/init.js' });
    expect(init.body).toContain("url: '/openapi.json'");
    const css = await t.app.inject({ method: 'GET', url: '/docs/swagger-ui.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    const bundle = await t.app.inject({ method: 'GET', url: '/docs/swagger-ui-bundle.js' });
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });
});

describe('the worker role', () => {
  it('serves probes and metrics but no API documentation', async () => {
    const t = await startTestApp('worker', { REDIS_URL: '' });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('with the database gone', () => {
  it('reports not ready, and answers a failing request with a generic 500 problem', async () => {
    const t = await startTestApp('api', {
      REDIS_URL: '',
      INTERNAL_API_TOKEN: 'internal-token-0123456789abcdef',
    });
    try {
      await t.app.get<DatabaseHandle>(DATABASE).close();
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ checks: { database: 'down', redis: 'not_configured' } });
      const res = await t.app.inject({
        method: 'GET',
        url: '/internal/jobs',
        headers: { 'x-internal-token': 'internal-token-0123456789abcdef' },
      });
      expect(res.statusCode).toBe(500);
      const body = res.json<{ type: string; detail?: string }>();
      expect(body.type).toContain('internal-error');
      expect(JSON.stringify(body)).not.toMatch(/closed|Error:|at /i);
    } finally {
      await t.close();
    }
  });
});
