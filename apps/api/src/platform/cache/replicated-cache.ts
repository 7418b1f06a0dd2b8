import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface ReplicatedCacheOptions {
  /** Upper bound on staleness should an invalidation message be lost (0 caches nothing). */
  ttlMs: number;
  /** Entries kept per process; past it the oldest group goes first. */
  maxEntries: number;
  /** The Redis channel invalidations travel on. */
  channel: string;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/** What an invalidation drops: these groups, or everything. */
export type Invalidation = readonly string[] | 'all';

/**
 * A per-process cache whose invalidations reach every replica through Redis pub/sub. Entries
 * live in groups (a principal, a prompt key of a tenant…); an invalidation names groups and
 * drops every entry in them, here at once and on other replicas as the message arrives
 * (milliseconds). Two rules keep it safe:
 * - a load that started before an invalidation is not stored (the generation moved on), so a
 *   read racing a change cannot re-insert the old value;
 * - while the subscription is not live (Redis down, reconnecting), nothing is cached at all,
 *   since a missed message would otherwise keep a stale value alive; losing the subscription
 *   empties the cache.
 * Without Redis (single-process embedded mode) invalidation is local and immediate.
 */
export class ReplicatedCache {
  private readonly groups = new Map<string, Map<string, Entry>>();
  private count = 0;
  private generation = 0;
  private live: boolean;

  constructor(
    private readonly options: ReplicatedCacheOptions,
    private readonly publisher: Redis | null,
    private readonly subscriber: Redis | null,
    private readonly logger?: Logger,
  ) {
    this.live = subscriber === null;
    if (subscriber) this.listen(subscriber);
  }

  /** The cached value of `key` in `group`, else `load()`'s (stored unless an invalidation raced it). */
  async get<T>(group: string, key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.groups.get(group)?.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value as T;
    const generation = this.generation;
    const value = await load();
    if (this.live && generation === this.generation && value !== undefined) {
      this.store(group, key, value);
    }
    return value;
  }

  /**
   * Drops these groups here and on every replica. Call it after the change committed: before,
   * another replica could reload the old state and keep it.
   */
  async invalidate(groups: Invalidation): Promise<void> {
    if (groups !== 'all' && groups.length === 0) return;
    this.apply(groups);
    if (!this.publisher) return;
    try {
      await this.publisher.publish(this.options.channel, JSON.stringify(groups));
    } catch (error) {
      // Other replicas fall back on the TTL; their subscription loss also empties them.
      this.logger?.error({ err: error }, 'could not publish a cache invalidation');
    }
  }

  /** Whether values are being cached (the subscription is live, or there is none to wait for). */
  get isLive(): boolean {
    return this.live;
  }

  get size(): number {
    return this.count;
  }

  async close(): Promise<void> {
    this.live = false;
    this.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  private store(group: string, key: string, value: unknown): void {
    if (!this.groups.get(group)?.has(key)) {
      if (this.count >= this.options.maxEntries) this.evictOldest();
      this.count += 1;
    }
    // Looked up after the eviction, which may have removed this very group.
    let entries = this.groups.get(group);
    if (!entries) {
      entries = new Map();
      this.groups.set(group, entries);
    }
    entries.set(key, { value, expiresAt: Date.now() + this.options.ttlMs });
  }

  private apply(groups: Invalidation): void {
    this.generation += 1;
    if (groups === 'all') {
      this.clear();
      return;
    }
    for (const group of groups) {
      const entries = this.groups.get(group);
      if (!entries) continue;
      this.count -= entries.size;
      this.groups.delete(group);
    }
  }

  private clear(): void {
    this.groups.clear();
    this.count = 0;
  }

  private listen(subscriber: Redis): void {
    const down = () => {
      if (!this.live) return;
      this.live = false;
      this.apply('all');
    };
    // The connection subscribes to this one channel only.
    subscriber.on('message', (_channel: string, message: string) => {
      this.apply(parseInvalidation(message));
    });
    subscriber.on('close', down);
    subscriber.on('reconnecting', down);
    subscriber.on('error', down);
    // ioredis re-subscribes after a reconnect and then emits 'ready' again.
    subscriber.on('ready', () => {
      void subscriber
        .subscribe(this.options.channel)
        .then(() => {
          this.generation += 1;
          this.live = true;
        })
        .catch(down);
    });
    if (subscriber.status === 'ready') subscriber.emit('ready');
  }

  /** Drops the oldest entry of the oldest group (and the group once it is empty). */
  private evictOldest(): void {
    for (const [group, entries] of this.groups) {
      for (const key of entries.keys()) {
        entries.delete(key);
        this.count -= 1;
        break;
      }
      if (entries.size === 0) this.groups.delete(group);
      break;
    }
  }
}

/** A message from the channel; anything unreadable clears everything (the safe reading). */
function parseInvalidation(message: string): Invalidation {
  try {
    const parsed: unknown = JSON.parse(message);
    if (parsed === 'all') return 'all';
    if (Array.isArray(parsed) && parsed.every((g) => typeof g === 'string')) return parsed;
  } catch {
    // fall through
  }
  return 'all';
}
