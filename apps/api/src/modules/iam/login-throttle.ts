import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { ProblemError } from '../../platform/errors/problem';

export interface LoginThrottleOptions {
  /** Failures before an account (or address) is locked out. */
  accountThreshold: number;
  ipThreshold: number;
  /** First lockout; each further failure doubles it, up to `maxLockoutS`. */
  baseLockoutS: number;
  maxLockoutS: number;
  keyPrefix: string;
}

export const DEFAULT_LOGIN_THROTTLE: Omit<LoginThrottleOptions, 'keyPrefix'> = {
  accountThreshold: 5,
  ipThreshold: 20,
  baseLockoutS: 30,
  maxLockoutS: 3600,
};

const DAY_S = 86_400;

/**
 * Brute-force protection for sign-in: failures are counted per account and per client address
 * (in Redis when configured, so every replica sees them); past a threshold each further failure
 * locks the key out for a doubling delay. Unknown emails count like known ones, so lockouts
 * reveal nothing about which accounts exist; a success clears the account's count.
 */
export class LoginThrottle {
  private readonly failures: RateLimiterAbstract;
  private readonly lockouts: RateLimiterAbstract;

  constructor(
    redis: Redis | null,
    private readonly options: LoginThrottleOptions,
  ) {
    const make = (opts: IRateLimiterOptions): RateLimiterAbstract =>
      redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: redis,
            insuranceLimiter: new RateLimiterMemory(opts),
          })
        : new RateLimiterMemory(opts);
    this.failures = make({
      points: 1_000_000,
      duration: DAY_S,
      keyPrefix: `${options.keyPrefix}:login:fail`,
    });
    this.lockouts = make({ points: 1, duration: 1, keyPrefix: `${options.keyPrefix}:login:lock` });
  }

  /** Refuses (429) while the account or the address is locked out. */
  async assertOpen(email: string, ip: string): Promise<void> {
    for (const key of [accountKey(email), ipKey(ip)]) {
      const lock = await this.lockouts.get(key);
      if (lock && lock.consumedPoints > 1) {
        const retryAfter = Math.max(1, Math.ceil(lock.msBeforeNext / 1000));
        throw new ProblemError(
          'rate-limited',
          `Too many failed sign-ins. Try again in ${retryAfter} s.`,
          {},
          { 'retry-after': String(retryAfter) },
        );
      }
    }
  }

  async failed(email: string, ip: string): Promise<void> {
    await this.count(accountKey(email), this.options.accountThreshold);
    await this.count(ipKey(ip), this.options.ipThreshold);
  }

  async succeeded(email: string): Promise<void> {
    await this.failures.delete(accountKey(email));
    await this.lockouts.delete(accountKey(email));
  }

  private async count(key: string, threshold: number): Promise<void> {
    const { consumedPoints } = await this.failures.consume(key);
    if (consumedPoints < threshold) return;
    const seconds = Math.min(
      this.options.maxLockoutS,
      this.options.baseLockoutS * 2 ** (consumedPoints - threshold),
    );
    await this.lockouts.block(key, seconds);
  }
}

const accountKey = (email: string) =>
  `a:${createHash('sha256').update(email.toLowerCase()).digest('hex')}`;
const ipKey = (ip: string) => `i:${ip}`;
