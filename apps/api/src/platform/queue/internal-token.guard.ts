import { timingSafeEqual, createHash } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { ProblemError } from '../errors/problem';

/**
 * Internal operations endpoints answer only to `x-internal-token: $INTERNAL_API_TOKEN`. Without
 * a configured token they do not exist (404), so nothing is exposed by default. (They move
 * behind the platform-admin role once IAM lands.)
 */
@Injectable()
export class InternalTokenGuard implements CanActivate {
  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.INTERNAL_API_TOKEN;
    if (!expected) throw new ProblemError('not-found', 'No route matches this request.');
    const given = context.switchToHttp().getRequest<FastifyRequest>().headers['x-internal-token'];
    if (typeof given !== 'string' || !sameSecret(given, expected)) {
      throw new ProblemError('unauthorized', 'A valid x-internal-token header is required.');
    }
    return true;
  }
}

/** Constant-time comparison of two secrets of any length (hashing equalises the lengths). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
