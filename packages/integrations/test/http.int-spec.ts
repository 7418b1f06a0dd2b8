import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderError } from '@maxai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindOfStatus, parseRetryAfter, ProviderHttp } from '../src/http';

interface Script {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

let server: Server;
let baseUrl: string;
let script: Script[] = [];
const seen: { method: string; url: string; body: string; headers: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      const next = script.shift() ?? { status: 200, body: '{"ok":true}' };
      setTimeout(() => {
        res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        res.end(next.body ?? '');
      }, next.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sleeps: number[] = [];
const client = (extra: Partial<ConstructorParameters<typeof ProviderHttp>[0]> = {}) =>
  new ProviderHttp({
    provider: 'twilio',
    baseUrl,
    retryBaseMs: 1,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    headers: () => ({ authorization: 'Basic c2VjcmV0' }),
    describeError: (body) => {
      const b = body as { code?: number; message?: string } | undefined;
      return { code: b?.code === undefined ? undefined : String(b.code), message: b?.message };
    },
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('ProviderHttp', () => {
  it('sends JSON, form and query, with the auth headers', async () => {
    script = [
      { status: 201, body: '{"sid":"SM1"}' },
      { status: 200, body: 'plain' },
      { status: 204 },
    ];
    const http = client();
    const created = await http.request<{ sid: string }>('POST', '/Messages.json', {
      form: { To: '+1555', Tags: ['a', 'b'], Skip: undefined, Count: 2 },
      query: { page: 1, skip: undefined },
      idempotencyKey: 'idem-1',
    });
    expect(created).toMatchObject({ status: 201, body: { sid: 'SM1' } });
    const sent = seen.at(-1)!;
    expect(sent.url).toBe('/api/Messages.json?page=1');
    expect(sent.body).toBe('To=%2B1555&Tags=a&Tags=b&Count=2');
    expect(sent.headers).toMatchObject({
      authorization: 'Basic c2VjcmV0',
      'idempotency-key': 'idem-1',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect((await http.request('PUT', 'x', { json: { a: 1 } })).body).toBe('plain');
    expect(seen.at(-1)!.body).toBe('{"a":1}');
    expect((await http.request('DELETE', 'x')).body).toBeUndefined();
  });

  it.each([
    [400, 'invalid'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not_found'],
    [410, 'not_found'],
    [422, 'invalid'],
  ] as const)('maps %i to %s without retrying', async (status, kind) => {
    script = [{ status, body: '{"code":21211,"message":"The To number is not valid"}' }];
    const before = seen.length;
    const error = await failure(client().request('GET', 'x'));
    expect(error).toMatchObject({ kind, status, providerCode: '21211', provider: 'twilio' });
    expect(error.message).toContain('The To number is not valid');
    expect(seen.length - before).toBe(1);
  });

  it('retries transient failures of safe requests with backoff, then succeeds', async () => {
    script = [{ status: 503 }, { status: 500, body: 'not json {' }, { status: 200, body: '{}' }];
    sleeps.length = 0;
    const res = await client().request('GET', 'x');
    expect(res.status).toBe(200);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(2);
  });

  it('does not replay a POST after a transient failure without an idempotency key', async () => {
    script = [{ status: 502 }];
    const before = seen.length;
    expect((await failure(client().request('POST', 'x', { json: {} }))).kind).toBe('transient');
    expect(seen.length - before).toBe(1);
    script = [{ status: 502 }, { status: 200, body: '{}' }];
    const res = await client().request('POST', 'x', { json: {}, idempotencyKey: 'k' });
    expect(res.status).toBe(200);
  });

  it('honours Retry-After on 429 up to its cap, and gives up past it', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 200, body: '{}' },
    ];
    sleeps.length = 0;
    await client().request('POST', 'x');
    expect(sleeps).toEqual([2000]);
    script = [{ status: 429, headers: { 'retry-after': '120' } }];
    const error = await failure(client({ maxRetryAfterMs: 10_000 }).request('GET', 'x'));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 120_000 });
  });

  it('reads non-JSON bodies as text, and really waits when no sleep is injected', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 200, body: 'OK', headers: { 'content-type': 'text/plain' } },
    ];
    const real = new ProviderHttp({ provider: 'n8n', baseUrl });
    expect((await real.request('GET', 'x')).body).toBe('OK');
  });

  it('stops after its retries', async () => {
    script = [{ status: 503 }, { status: 503 }];
    expect((await failure(client({ maxRetries: 1 }).request('GET', 'x'))).kind).toBe('transient');
  });

  it('times out a slow provider as transient', async () => {
    script = [{ status: 200, delayMs: 300 }];
    const error = await failure(client({ timeoutMs: 50, maxRetries: 0 }).request('GET', 'x'));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/did not answer within 50 ms/);
  });

  it('reports an unreachable provider as transient, and a caller abort as the abort', async () => {
    const down = new ProviderHttp({
      provider: 'stripe',
      baseUrl: 'http://127.0.0.1:1',
      maxRetries: 0,
    });
    const error = await failure(down.request('GET', 'x'));
    expect(error.message).toMatch(/could not be reached/);
    const controller = new AbortController();
    controller.abort();
    await expect(
      new ProviderHttp({ provider: 'stripe', baseUrl }).request('GET', 'x', {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps credentials out of errors', async () => {
    script = [{ status: 401, body: '{"message":"Authenticate"}' }];
    const error = await failure(client().request('GET', 'x'));
    expect(JSON.stringify(error)).not.toContain('c2VjcmV0');
    expect(error.message).not.toContain('c2VjcmV0');
  });
});

describe('status and Retry-After parsing', () => {
  it('classifies statuses', () => {
    expect([408, 500, 599].map(kindOfStatus)).toEqual(['transient', 'transient', 'transient']);
    expect(kindOfStatus(409)).toBe('invalid');
  });

  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(' ')).toBeUndefined();
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
