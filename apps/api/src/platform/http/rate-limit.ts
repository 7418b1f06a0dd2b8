import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { ProblemError } from '../errors/problem';

export interface RateLimitSettings {
  points: number;
  windowSeconds: number;
  keyPrefix: string;
}

/** Probes and scrapes are never limited: an orchestrator must always reach them. */
const EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Fixed-window limiter per client address: shared through Redis across replicas when
 * configured, in memory otherwise. If Redis fails, an in-memory insurance limiter takes over so
 * a Redis outage neither blocks all traffic nor lifts the limit.
 */
export function createRateLimiter(
  settings: RateLimitSettings,
  redis: Redis | null,
): RateLimiterAbstract {
  const base = {
    points: settings.points,
    duration: settings.windowSeconds,
    keyPrefix: `${settings.keyPrefix}:rl:http`,
  };
  if (!redis) return new RateLimiterMemory(base);
  return new RateLimiterRedis({
    ...base,
    storeClient: redis,
    insuranceLimiter: new RateLimiterMemory(base),
  });
}

function setHeaders(reply: FastifyReply, limit: number, result: RateLimiterRes): void {
  reply.header('ratelimit-limit', limit);
  reply.header('ratelimit-remaining', Math.max(0, result.remainingPoints));
  reply.header('ratelimit-reset', Math.ceil(result.msBeforeNext / 1000));
}

export function rateLimitHook(limiter: RateLimiterAbstract) {
  return async function rateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const route = request.routeOptions.url ?? '';
    // Providers post from a few shared addresses: webhooks have a budget per endpoint instead.
    if (EXEMPT.has(route) || route.startsWith('/webhooks/')) return;
    try {
      const result = await limiter.consume(request.ip);
      setHeaders(reply, limiter.points, result);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      setHeaders(reply, limiter.points, rejection);
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new ProblemError(
        'rate-limited',
        `Rate limit of ${limiter.points} requests exceeded; retry in ${retryAfter} s.`,
        {},
        { 'retry-after': String(retryAfter) },
      );
    }
  };
}
