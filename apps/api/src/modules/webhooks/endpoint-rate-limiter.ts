import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/**
 * A per-endpoint budget of requests per minute, shared by replicas through Redis (memory
 * insurance when Redis fails). Limiters are kept per distinct budget since each endpoint may
 * have its own.
 */
export class EndpointRateLimiter {
  private readonly limiters = new Map<number, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | null,
    private readonly keyPrefix: string,
  ) {}

  /** null when within budget, else the seconds to wait. */
  async consume(endpointId: string, perMinute: number): Promise<number | null> {
    try {
      await this.limiter(perMinute).consume(endpointId);
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    }
  }

  private limiter(points: number): RateLimiterAbstract {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      const base = {
        points,
        duration: 60,
        keyPrefix: `${this.keyPrefix}:rl:webhook:${String(points)}`,
      };
      limiter = this.redis
        ? new RateLimiterRedis({
            ...base,
            storeClient: this.redis,
            insuranceLimiter: new RateLimiterMemory(base),
          })
        : new RateLimiterMemory(base);
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}
