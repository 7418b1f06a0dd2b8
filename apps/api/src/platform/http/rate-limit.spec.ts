import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, describe, expect, it } from 'vitest';
import { createRateLimiter, rateLimitHook } from './rate-limit';

const unreachable = new Redis('redis://127.0.0.1:1', {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
});
afterAll(() => {
  unreachable.disconnect();
});

async function appWith(limiter: Parameters<typeof rateLimitHook>[0]) {
  const app = Fastify();
  app.addHook('onRequest', rateLimitHook(limiter));
  app.get('/things', () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('rate limit hook', () => {
  it('fails the request (500) rather than silently skipping when the store itself fails', async () => {
    const limiter = new RateLimiterRedis({ storeClient: unreachable, points: 5, duration: 60 });
    const app = await appWith(limiter);
    const res = await app.inject({ method: 'GET', url: '/things' });
    expect(res.statusCode).toBe(500);
    await app.close();
  });

  it('falls back to memory when Redis fails, with an insurance limiter', async () => {
    const limiter = createRateLimiter(
      { points: 1, windowSeconds: 60, keyPrefix: 't' },
      unreachable,
    );
    const app = await appWith(limiter);
    expect((await app.inject({ method: 'GET', url: '/things' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/things' })).statusCode).toBe(429);
    await app.close();
  });
});
