import { Controller, Get, Header, Inject } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { DatabaseHandle } from '@maxai/db';
import type { Redis } from 'ioredis';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { DATABASE } from '../database/database.module';
import { ProblemError } from '../errors/problem';
import { REDIS } from '../redis/redis.module';

const CHECK_TIMEOUT_MS = 2000;

const checkState = z.enum(['up', 'down', 'not_configured']);
class LivenessDto extends createZodDto(z.object({ status: z.literal('ok') })) {}
class ReadinessDto extends createZodDto(
  z.object({
    status: z.literal('ready'),
    checks: z.object({ database: checkState, redis: checkState }),
  }),
) {}

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  @Get('healthz')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process is up and serving' })
  @ApiOkResponse({ type: LivenessDto })
  liveness(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Readiness: the database (and Redis, when configured) answer' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down (problem+json)' })
  async readiness(): Promise<ReadinessDto> {
    const redisClient = this.redis;
    const [database, redis] = await Promise.all([
      probe(() => this.database.ping()),
      redisClient
        ? probe(async () => {
            await redisClient.ping();
          })
        : ('not_configured' as const),
    ]);
    const checks = { database, redis } as const;
    if (database === 'down' || redis === 'down') {
      throw new ProblemError('service-unavailable', 'A dependency is not reachable.', { checks });
    }
    return { status: 'ready', checks };
  }
}

async function probe(check: () => Promise<void>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
