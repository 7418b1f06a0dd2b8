import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/modules/iam/login-throttle';
import { ProblemError } from '../src/platform/errors/problem';

const redisUrl = process.env.REDIS_URL;
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) await c.quit();
});

const options = (prefix: string) => ({
  accountThreshold: 3,
  ipThreshold: 6,
  baseLockoutS: 2,
  maxLockoutS: 8,
  keyPrefix: prefix,
});

async function isLocked(
  throttle: LoginThrottle,
  email: string,
  ip: string,
): Promise<number | false> {
  try {
    await throttle.assertOpen(email, ip);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return Number((error as ProblemError).headers['retry-after']);
  }
}

describe('login throttle', () => {
  it('locks an account after its threshold with doubling delays, and a success clears it', async () => {
    const throttle = new LoginThrottle(null, options('t1'));
    for (let i = 0; i < 2; i += 1) await throttle.failed('a@x.co', '10.0.0.1');
    expect(await isLocked(throttle, 'a@x.co', '10.0.0.2')).toBe(false);
    await throttle.failed('a@x.co', '10.0.0.1');
    expect(await isLocked(throttle, 'A@X.CO', '10.0.0.2')).toBe(2);
    await throttle.failed('a@x.co', '10.0.0.1');
    expect(await isLocked(throttle, 'a@x.co', '10.0.0.2')).toBe(4);
    await throttle.failed('a@x.co', '10.0.0.1');
    await throttle.failed('a@x.co', '10.0.0.1');
    expect(await isLocked(throttle, 'a@x.co', '10.0.0.2')).toBe(8);
    await throttle.succeeded('a@x.co');
    expect(await isLocked(throttle, 'a@x.co', '10.0.0.2')).toBe(false);
  });

  it('locks an address that tries many accounts', async () => {
    const throttle = new LoginThrottle(null, options('t2'));
    for (let i = 0; i < 6; i += 1) await throttle.failed(`user${i}@x.co`, '10.0.0.9');
    expect(await isLocked(throttle, 'fresh@x.co', '10.0.0.9')).toBeGreaterThan(0);
    expect(await isLocked(throttle, 'fresh@x.co', '10.0.0.10')).toBe(false);
  });

  it.runIf(redisUrl)('shares lockouts between replicas through Redis', async () => {
    const prefix = `maxai-test-${randomBytes(4).toString('hex')}`;
    const [a, b] = [new Redis(redisUrl!), new Redis(redisUrl!)];
    clients.push(a, b);
    const replicaA = new LoginThrottle(a, options(prefix));
    const replicaB = new LoginThrottle(b, options(prefix));
    for (let i = 0; i < 3; i += 1) await replicaA.failed('shared@x.co', '10.1.0.1');
    expect(await isLocked(replicaB, 'shared@x.co', '10.1.0.2')).toBeGreaterThan(0);
  });
});
