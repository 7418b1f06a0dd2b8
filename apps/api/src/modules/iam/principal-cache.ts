import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  ReplicatedCache,
  type ReplicatedCacheOptions,
} from '../../platform/cache/replicated-cache';

/**
 * What changed: the principals of these users or API keys (by key hash), these connections'
 * credentials, or everything.
 */
export type AccessChange = { users?: string[]; apiKeys?: string[]; connections?: string[] } | 'all';

export type PrincipalCacheOptions = ReplicatedCacheOptions;

/**
 * The principals behind tokens and API keys, cached per process so the gateway check needs no
 * database round trip (and connections' opened credentials, which change as rarely). Every
 * change to roles, memberships, keys, tenant status or a user's second factor is published on a
 * Redis channel and each replica drops the affected entries on receipt: a `ReplicatedCache`,
 * which also refuses to store a load an invalidation overtook and caches nothing while its
 * subscription is down. Without Redis (single-process embedded mode) invalidation is local.
 */
export class PrincipalCache {
  private readonly cache: ReplicatedCache;

  constructor(
    options: PrincipalCacheOptions,
    publisher: Redis | null,
    subscriber: Redis | null,
    logger?: Logger,
  ) {
    this.cache = new ReplicatedCache(options, publisher, subscriber, logger);
  }

  /** The cached value of `key`, else `load()`'s (stored unless an invalidation raced it). */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.cache.get(key, '', load);
  }

  /**
   * Drops the changed principals here and on every replica. Call it after the change committed:
   * before, another replica could reload the old state and keep it.
   */
  invalidate(change: AccessChange): Promise<void> {
    return this.cache.invalidate(
      change === 'all'
        ? 'all'
        : [
            ...(change.users ?? []).map(userKey),
            ...(change.apiKeys ?? []).map(apiKeyKey),
            ...(change.connections ?? []).map(connectionKey),
          ],
    );
  }

  get size(): number {
    return this.cache.size;
  }

  close(): Promise<void> {
    return this.cache.close();
  }
}

export const userKey = (userId: string) => `user:${userId}`;
export const apiKeyKey = (keyHash: string) => `key:${keyHash}`;
export const connectionKey = (connectionId: string) => `connection:${connectionId}`;
