import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { JOB_STATUSES } from '@maxai/db';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { ProblemError } from '../errors/problem';
import { pageOf } from '../http/pagination';
import type { JobTransport } from './job-transport';
import type { JobRow, JobsRepository } from './jobs.repository';
import { InternalTokenGuard } from './internal-token.guard';
import { JOB_STACK } from './queue.tokens';
import type { JobStack } from './job-stack';

const jobView = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  generation: z.number().int(),
  correlationId: z.string(),
  lastError: z.string().nullable(),
  runAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
});
type JobView = z.infer<typeof jobView>;
const jobPage = z.object({ data: z.array(jobView), nextCursor: z.uuid().nullable() });
type JobPage = z.infer<typeof jobPage>;

class JobDto extends createZodDto(jobView) {}
class JobPageDto extends createZodDto(jobPage) {}
class ListJobsQuery extends createZodDto(
  z.object({
    status: z.enum(JOB_STATUSES).default('dead'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.uuid().optional(),
  }),
) {}
class JobIdParams extends createZodDto(z.object({ id: z.uuid() })) {}

function toView(row: JobRow): JobView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    generation: row.generation,
    correlationId: row.correlationId,
    lastError: row.lastError,
    runAt: row.runAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

@ApiTags('internal')
@ApiSecurity('internalToken')
@ApiHeader({ name: 'x-internal-token', required: true })
@UseGuards(InternalTokenGuard)
@Controller('internal/jobs')
export class JobsController {
  private readonly repository: JobsRepository;
  private readonly transport: JobTransport;

  constructor(@Inject(JOB_STACK) stack: JobStack) {
    this.repository = stack.repository;
    this.transport = stack.transport;
  }

  @Get()
  @ApiOperation({ summary: 'List jobs by status (dead letters by default), oldest first' })
  @ApiOkResponse({ type: JobPageDto })
  async list(@Query(new ZodValidationPipe(ListJobsQuery)) query: ListJobsQuery): Promise<JobPage> {
    const rows = await this.repository.list({
      status: query.status,
      limit: query.limit + 1,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    const page = pageOf(rows, query.limit, (row) => row.id);
    return { data: page.data.map(toView), nextCursor: page.nextCursor };
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Run a dead job again from its first attempt' })
  @ApiOkResponse({ type: JobDto })
  async retry(@Param(new ZodValidationPipe(JobIdParams)) params: JobIdParams): Promise<JobView> {
    const row = await this.repository.retryDead(params.id);
    if (!row) {
      const existing = await this.repository.findById(params.id);
      if (!existing) throw new ProblemError('not-found', `No job ${params.id}.`);
      throw new ProblemError('conflict', `Job ${params.id} is ${existing.status}, not dead.`);
    }
    this.transport.wake();
    return toView(row);
  }
}
