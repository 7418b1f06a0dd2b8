import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/platform/errors/problem';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp('standalone', {
    BODY_LIMIT_BYTES: '2048',
    CORS_ORIGINS: 'https://portal.example.com',
    INTERNAL_API_TOKEN: 'internal-token-0123456789abcdef',
  });
});
afterAll(async () => {
  await t.close();
});

const expectProblem = (
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  type: string,
) => {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ type: `${PROBLEM_BASE}${type}`, status });
  expect(typeof body.title).toBe('string');
  expect(body.correlationId).toBe(res.headers['x-correlation-id']);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  return body;
};

describe('HTTP conventions', () => {
  it('serves liveness and readiness', async () => {
    const live = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { database: 'up' } });
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expectProblem(res, 404, 'not-found');
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/internal/jobs/0190d1a8-0000-7000-8000-000000000000/retry',
      headers: {
        'content-type': 'application/json',
        'x-internal-token': 'internal-token-0123456789abcdef',
      },
      payload: '{"oops": ',
    });
    expectProblem(res, 400, 'malformed-request');
  });

  it('answers a body over the limit with a 413 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/internal/jobs/0190d1a8-0000-7000-8000-000000000000/retry',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ big: 'x'.repeat(5000) }),
    });
    expectProblem(res, 413, 'payload-too-large');
  });

  it('answers a wrong content type with a 415 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/internal/jobs/0190d1a8-0000-7000-8000-000000000000/retry',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expectProblem(res, 415, 'unsupported-media-type');
  });

  it('lists the offending fields of a validation error', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/internal/jobs?limit=5000&status=zombie',
      headers: { 'x-internal-token': 'internal-token-0123456789abcdef' },
    });
    const body = expectProblem(res, 400, 'validation-error');
    const fields = (body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['limit', 'status']);
  });

  it('echoes a caller correlation id and honours traceparent', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-correlation-id': 'abc-123' },
    });
    expect(res.headers['x-correlation-id']).toBe('abc-123');
    const traced = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(traced.headers['x-correlation-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traced.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-/);
  });

  it('sets security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('allows CORS only for allowlisted origins', async () => {
    const allowed = await t.app.inject({
      method: 'OPTIONS',
      url: '/healthz',
      headers: { origin: 'https://portal.example.com', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://portal.example.com');
    const denied = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('exposes Prometheus metrics labelled by route template', async () => {
    await t.app.inject({
      method: 'GET',
      url: '/internal/jobs/0190d1a8-0000-7000-8000-000000000000/retry',
    });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('http_request_duration_seconds_bucket');
    expect(res.body).toMatch(/route="\/healthz",status_code="200"/);
    expect(res.body).toContain('db_pool_connections_total');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });

  it('serves the OpenAPI 3.1 document and its UI', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'MaxAI Platform API' } });
    const ui = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui');
  });
});
