import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PrincipalCache, userKey, apiKeyKey } from '../src/modules/iam/principal-cache';
import { waitFor } from './support/waiting';

const options = (channel = `test:${randomBytes(4).toString('hex')}`) => ({
  ttlMs: 60_000,
  maxEntries: 3,
  channel,
});

/** A loader that counts its calls. */
function counting<T>(value: T) {
  const fn = () => {
    fn.calls += 1;
    return Promise.resolve(value);
  };
  fn.calls = 0;
  return fn;
}

describe('PrincipalCache in one process', () => {
  it('caches loads, drops invalidated users and keys, and clears on "all"', async () => {
    const cache = new PrincipalCache(options(), null, null);
    const load = counting({ who: 'u1' });
    await cache.get(userKey('u1'), load);
    await cache.get(userKey('u1'), load);
    expect(load.calls).toBe(1);
    await cache.get(apiKeyKey('h1'), load);
    await cache.invalidate({ users: ['u1'] });
    await cache.get(userKey('u1'), load);
    expect(load.calls).toBe(3);
    await cache.invalidate({ apiKeys: ['h1'] });
    await cache.get(apiKeyKey('h1'), load);
    expect(load.calls).toBe(4);
    await cache.invalidate('all');
    expect(cache.size).toBe(0);
  });

  it('does not cache misses, expires entries and evicts the oldest past its bound', async () => {
    const cache = new PrincipalCache({ ...options(), ttlMs: 0 }, null, null);
    const miss = counting(undefined);
    await cache.get('x', miss);
    await cache.get('x', miss);
    expect(miss.calls).toBe(2);
    const expiring = counting(1);
    await cache.get('y', expiring);
    await cache.get('y', expiring);
    expect(expiring.calls).toBe(2);

    const bounded = new PrincipalCache(options(), null, null);
    for (const key of ['a', 'b', 'c', 'd']) await bounded.get(key, counting(key));
    expect(bounded.size).toBe(3);
    const a = counting('a');
    await bounded.get('a', a);
    expect(a.calls).toBe(1);
  });

  it('does not store a load that an invalidation overtook', async () => {
    const cache = new PrincipalCache(options(), null, null);
    let release!: (value: string) => void;
    const slow = cache.get(userKey('u'), () => new Promise<string>((r) => (release = r)));
    await cache.invalidate({ users: ['u'] });
    release('stale');
    expect(await slow).toBe('stale');
    expect(cache.size).toBe(0);
  });
});

describe.skipIf(!process.env.REDIS_URL)('PrincipalCache across processes', () => {
  const clients: Redis[] = [];
  const caches: PrincipalCache[] = [];
  const redis = (url = process.env.REDIS_URL!) => {
    const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const replica = (channel: string) => {
    const cache = new PrincipalCache(options(channel), redis(), redis());
    caches.push(cache);
    return cache;
  };
  /** Caches once its subscription is live (it stores nothing before). */
  const live = (cache: PrincipalCache) =>
    waitFor(async () => {
      await cache.get('probe', () => Promise.resolve(1));
      return cache.size > 0;
    }, 5000);

  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close();
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('delivers an invalidation to the other replica; a garbled message clears everything', async () => {
    const channel = `test:${randomBytes(4).toString('hex')}`;
    const [a, b] = [replica(channel), replica(channel)];
    await live(a);
    await live(b);
    await b.get(userKey('u'), counting('u'));
    await b.get(userKey('v'), counting('v'));
    await a.invalidate({ users: ['u'] });
    await waitFor(async () => {
      const load = counting('u');
      await b.get(userKey('u'), load);
      return load.calls === 1;
    }, 1000);
    await redis().publish(channel, 'not json');
    await waitFor(() => Promise.resolve(b.size === 0), 1000);
  });

  it('caches nothing while its subscription is down, and empties itself when it drops', async () => {
    const channel = `test:${randomBytes(4).toString('hex')}`;
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const offline = new PrincipalCache(options(channel), null, down);
    caches.push(offline);
    await down.connect().catch(() => undefined);
    const load = counting(1);
    await offline.get('k', load);
    await offline.get('k', load);
    expect(load.calls).toBe(2);

    const subscriber = redis();
    const cache = new PrincipalCache(options(channel), null, subscriber);
    caches.push(cache);
    await live(cache);
    subscriber.disconnect();
    await waitFor(() => Promise.resolve(cache.size === 0), 1000);
    const again = counting(2);
    await cache.get('k', again);
    await cache.get('k', again);
    expect(again.calls).toBe(2);
  });

  it('applies its own invalidation even when publishing fails', async () => {
    const publisher = redis();
    publisher.disconnect();
    const logged: unknown[] = [];
    const cache = new PrincipalCache(options(), publisher, null, {
      error: (obj: unknown) => logged.push(obj),
    } as never);
    await cache.get(userKey('u'), counting('u'));
    await cache.invalidate({ users: ['u'] });
    expect(cache.size).toBe(0);
    expect(logged).toHaveLength(1);
  });
});
