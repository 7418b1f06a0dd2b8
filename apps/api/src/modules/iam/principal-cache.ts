import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * What changed: the principals of these users or API keys (by key hash), these connections'
 * credentials, or everything.
 */
export type AccessChange = { users?: string[]; apiKeys?: string[]; connections?: string[] } | 'all';

export interface PrincipalCacheOptions {
  /** Upper bound on staleness should an invalidation message be lost. */
  ttlMs: number;
  maxEntries: number;
  channel: string;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * The principals behind tokens and API keys, cached per process so the gateway check needs no
 * database round trip. Every change to roles, memberships, keys, tenant status or a user's
 * second factor is published on a Redis channel; each replica drops the affected entries on
 * receipt (milliseconds). Two rules keep it safe:
 * - a load that started before an invalidation is not stored (the generation moved on), so a
 *   read racing a change cannot re-insert the old principal;
 * - while the subscription is not live (Redis down, reconnecting), nothing is cached at all,
 *   since a missed message would otherwise keep a revoked principal alive.
 * Without Redis (single-process embedded mode) invalidation is local and immediate.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private live: boolean;

  constructor(
    private readonly options: PrincipalCacheOptions,
    private readonly publisher: Redis | null,
    private readonly subscriber: Redis | null,
    private readonly logger?: Logger,
  ) {
    this.live = subscriber === null;
    if (subscriber) this.listen(subscriber);
  }

  /** The cached value of `key`, else `load()`'s (stored unless an invalidation raced it). */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value as T;
    const generation = this.generation;
    const value = await load();
    if (this.live && generation === this.generation && value !== undefined) {
      if (this.entries.size >= this.options.maxEntries) this.evictOldest();
      this.entries.set(key, { value, expiresAt: Date.now() + this.options.ttlMs });
    }
    return value;
  }

  /**
   * Drops the changed principals here and on every replica. Call it after the change committed:
   * before, another replica could reload the old state and keep it.
   */
  async invalidate(change: AccessChange): Promise<void> {
    this.apply(change);
    if (!this.publisher) return;
    try {
      await this.publisher.publish(this.options.channel, JSON.stringify(change));
    } catch (error) {
      // Other replicas fall back on the TTL; their subscription loss also empties them.
      this.logger?.error({ err: error }, 'could not publish an access change');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.live = false;
    this.entries.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  private apply(change: AccessChange): void {
    this.generation += 1;
    if (change === 'all') {
      this.entries.clear();
      return;
    }
    for (const id of change.users ?? []) this.entries.delete(userKey(id));
    for (const hash of change.apiKeys ?? []) this.entries.delete(apiKeyKey(hash));
    for (const id of change.connections ?? []) this.entries.delete(connectionKey(id));
  }

  private listen(subscriber: Redis): void {
    const down = () => {
      if (!this.live) return;
      this.live = false;
      this.apply('all');
    };
    // The connection subscribes to this one channel only.
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        this.apply(JSON.parse(message) as AccessChange);
      } catch {
        this.apply('all');
      }
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

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}

export const userKey = (userId: string) => `user:${userId}`;
export const apiKeyKey = (keyHash: string) => `key:${keyHash}`;
export const connectionKey = (connectionId: string) => `connection:${connectionId}`;
