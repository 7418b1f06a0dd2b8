import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible';

/**
 * A request budget per connection, shared by every flow (and every worker) that uses it — e.g.
 * GoHighLevel's per-location limits. Exhausted means "wait", not "fail": the run is parked until
 * the budget refills.
 */
export class ConnectionBudget {
  private readonly limiter: RateLimiterAbstract;

  constructor(redis: Redis | null, keyPrefix: string, perSecond: number) {
    const base = { points: perSecond, duration: 1, keyPrefix: `${keyPrefix}:flows:budget` };
    this.limiter = redis
      ? new RateLimiterRedis({
          ...base,
          storeClient: redis,
          insuranceLimiter: new RateLimiterMemory(base),
        })
      : new RateLimiterMemory(base);
  }

  /** null when a request may go now; else how long to wait (ms). */
  async take(connectionId: string): Promise<number | null> {
    try {
      await this.limiter.consume(connectionId);
      return null;
    } catch (rejection) {
      // Always a RateLimiterRes: a Redis failure falls back to the in-memory insurance limiter,
      // which only ever rejects with one.
      return Math.max(1, (rejection as RateLimiterRes).msBeforeNext);
    }
  }
}
