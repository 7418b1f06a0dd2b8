import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/http/pagination';
import { TenantParams } from '../../platform/http/params';
import { Authorize } from '../iam/auth.guard';
import type { AuditEventRow } from './audit.repository';
import { AuditService, type VerifyResult } from './audit.service';

class AuditQuery extends createZodDto(
  z.object({
    action: z.string().max(100).optional(),
    actorId: z.string().max(100).optional(),
    targetId: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.coerce.number().int().min(1).optional().describe('The `seq` to continue before'),
  }),
) {}
const eventView = z.object({
  seq: z.number().int(),
  id: z.uuid(),
  occurredAt: z.iso.datetime(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  outcome: z.string(),
  correlationId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  changes: z.record(z.string(), z.unknown()).nullable(),
  hash: z.string(),
});
class AuditPageDto extends createZodDto(
  z.object({ data: z.array(eventView), nextCursor: z.number().int().nullable() }),
) {}
class VerifyDto extends createZodDto(
  z.object({
    valid: z.boolean(),
    checked: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
    firstBreak: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
  }),
) {}

const view = (e: AuditEventRow): z.infer<typeof eventView> => ({
  seq: e.seq,
  id: e.id,
  occurredAt: e.occurredAt.toISOString(),
  actorType: e.actorType,
  actorId: e.actorId,
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId,
  outcome: e.outcome,
  correlationId: e.correlationId,
  ip: e.ip,
  userAgent: e.userAgent,
  changes: e.changes,
  hash: e.hash,
});

@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit-events')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  @Authorize('audit:read')
  @ApiOperation({ summary: "The tenant's audit trail, newest first, with filters" })
  @ApiOkResponse({ type: AuditPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(AuditQuery)) q: AuditQuery,
  ) {
    const rows = await this.audit.list(p.tenantId, {
      action: q.action,
      actorId: q.actorId,
      targetId: q.targetId,
      beforeSeq: q.cursor,
      limit: q.limit + 1,
    });
    const page = pageOf(rows, q.limit, (row) => row.seq);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  @Get('verify')
  @Authorize('audit:read')
  @ApiOperation({ summary: 'Walk the hash chain and report the first broken link, if any' })
  @ApiOkResponse({ type: VerifyDto })
  verify(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams): Promise<VerifyResult> {
    return this.audit.verify(p.tenantId);
  }
}
