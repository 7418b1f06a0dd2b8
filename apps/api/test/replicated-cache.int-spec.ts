import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicatedCache } from '../src/platform/cache/replicated-cache';
import { waitFor } from './support/waiting';

const options = (channel = `test:${randomBytes(4).toString('hex')}`) => ({
  ttlMs: 60_000,
  maxEntries: 4,
  channel,
});

function counting<T>(value: T) {
  const fn = () => {
    fn.calls += 1;
    return Promise.resolve(value);
  };
  fn.calls = 0;
  return fn;
}

describe('ReplicatedCache groups', () => {
  it('drops every entry of an invalidated group and nothing else', async () => {
    const cache = new ReplicatedCache(options(), null, null);
    expect(cache.isLive).toBe(true);
    await cache.get('g1', 'a', counting(1));
    await cache.get('g1', 'b', counting(2));
    await cache.get('g2', 'a', counting(3));
    expect(cache.size).toBe(3);
    await cache.invalidate(['g1', 'unknown']);
    expect(cache.size).toBe(1);
    const reload = counting(4);
    expect(await cache.get('g1', 'a', reload)).toBe(4);
    expect(reload.calls).toBe(1);
    const kept = counting(5);
    expect(await cache.get('g2', 'a', kept)).toBe(3);
    expect(kept.calls).toBe(0);
    await cache.invalidate([]);
    expect(cache.size).toBe(2);
  });

  it('caches null (a known absence) but not undefined, replaces in place, and evicts the oldest', async () => {
    const cache = new ReplicatedCache(options(), null, null);
    const none = counting(null);
    await cache.get('g', 'none', none);
    await cache.get('g', 'none', none);
    expect(none.calls).toBe(1);
    const missing = counting(undefined);
    await cache.get('g', 'missing', missing);
    await cache.get('g', 'missing', missing);
    expect(missing.calls).toBe(2);
    for (const key of ['b', 'c', 'd', 'e']) await cache.get(key, key, counting(key));
    expect(cache.size).toBe(4);
    // 'g' (the oldest group) lost its entry and is gone.
    const again = counting(null);
    await cache.get('g', 'none', again);
    expect(again.calls).toBe(1);
    expect(cache.size).toBe(4);
  });

  it('does not store a load that an invalidation overtook', async () => {
    const cache = new ReplicatedCache(options(), null, null);
    let release!: (value: string) => void;
    const slow = cache.get('g', 'k', () => new Promise<string>((r) => (release = r)));
    await cache.invalidate(['other']);
    release('stale');
    expect(await slow).toBe('stale');
    expect(cache.size).toBe(0);
    await cache.close();
    expect(cache.isLive).toBe(false);
  });
});

describe.skipIf(!process.env.REDIS_URL)('ReplicatedCache across processes', () => {
  const clients: Redis[] = [];
  const caches: ReplicatedCache[] = [];
  const redis = () => {
    const client = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close();
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('applies group lists and "all" from the channel; anything unreadable clears everything', async () => {
    const channel = `test:${randomBytes(4).toString('hex')}`;
    const cache = new ReplicatedCache(options(channel), null, redis());
    caches.push(cache);
    await waitFor(async () => cache.isLive, 5000, 10);
    const fill = async () => {
      await cache.get('g1', 'a', counting(1));
      await cache.get('g2', 'a', counting(2));
    };
    const publisher = redis();
    await fill();
    await publisher.publish(channel, JSON.stringify(['g1']));
    await waitFor(async () => cache.size === 1, 1000, 10);
    for (const message of ['"all"', 'not json', '[1, 2]', '{"groups":["g2"]}']) {
      await fill();
      expect(cache.size).toBe(2);
      await publisher.publish(channel, message);
      await waitFor(async () => cache.size === 0, 1000, 10);
    }
  });
});

describe('ReplicatedCache eviction within a group', () => {
  it('drops the oldest entry of the oldest group and keeps the group while it holds others', async () => {
    const cache = new ReplicatedCache({ ...options(), maxEntries: 2 }, null, null);
    await cache.get('g', 'a', counting(1));
    await cache.get('g', 'b', counting(2));
    await cache.get('h', 'a', counting(3));
    expect(cache.size).toBe(2);
    const a = counting(4);
    expect(await cache.get('g', 'a', a)).toBe(4);
    // Storing g:a evicted g's last entry (g:b): the new entry still lands, in a fresh group.
    const kept = counting(5);
    expect(await cache.get('g', 'a', kept)).toBe(4);
    expect(kept.calls).toBe(0);
    expect(cache.size).toBe(2);
  });
});

describe.skipIf(!process.env.REDIS_URL)(
  'ReplicatedCache on a connection that is ready already',
  () => {
    it('subscribes at once', async () => {
      const subscriber = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
      await waitFor(async () => subscriber.status === 'ready', 5000, 10);
      const cache = new ReplicatedCache(options(), null, subscriber);
      await waitFor(async () => cache.isLive, 5000, 10);
      await cache.close();
    });
  },
);
