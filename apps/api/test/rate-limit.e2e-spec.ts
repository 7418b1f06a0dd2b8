import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('api', { RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_S: '60' });
});
afterAll(async () => {
  await t.close();
});

it('answers 429 problem+json with Retry-After once the window is spent, sparing probes', async () => {
  const hit = () =>
    t.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '203.0.113.7' });
  const first = await hit();
  expect(first.statusCode).toBe(200);
  expect(first.headers['ratelimit-limit']).toBe('3');
  expect(first.headers['ratelimit-remaining']).toBe('2');
  await hit();
  await hit();
  const limited = await hit();
  expect(limited.statusCode).toBe(429);
  expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(limited.json()).toMatchObject({
    status: 429,
    type: expect.stringContaining('rate-limited'),
  });

  // Another client is unaffected; liveness probes are never limited.
  const other = await t.app.inject({
    method: 'GET',
    url: '/openapi.json',
    remoteAddress: '203.0.113.8',
  });
  expect(other.statusCode).toBe(200);
  const probe = await t.app.inject({
    method: 'GET',
    url: '/healthz',
    remoteAddress: '203.0.113.7',
  });
  expect(probe.statusCode).toBe(200);
});
