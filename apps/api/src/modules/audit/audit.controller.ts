import { Readable } from 'node:stream';
import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  StreamableFile,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/http/pagination';
import { TenantParams } from '../../platform/http/params';
import { Authorize } from '../iam/auth.guard';
import { AuditEvidenceService, checkpointView, eventView } from './audit-evidence.service';
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
const eventSchema = z.object({
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
const checkpointSchema = z.object({
  tenantId: z.uuid(),
  seq: z.number().int(),
  hash: z.string(),
  signedAt: z.iso.datetime(),
  kid: z.string(),
  signature: z
    .string()
    .describe(
      'base64url Ed25519 signature over the canonical JSON (RFC 8785) of {tenantId, seq, hash, signedAt, kid}',
    ),
});
class CheckpointDto extends createZodDto(
  checkpointSchema.extend({
    created: z.boolean().describe('false when the head was signed already'),
  }),
) {}
class CheckpointPageDto extends createZodDto(
  z.object({ data: z.array(checkpointSchema), nextCursor: z.number().int().nullable() }),
) {}
class CheckpointQuery extends createZodDto(
  z.object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.coerce.number().int().min(1).optional().describe('The `seq` to continue before'),
  }),
) {}
class ExportQuery extends createZodDto(
  z
    .object({
      from: z.iso.datetime({ offset: true }).optional().describe('Events at or after this time'),
      to: z.iso.datetime({ offset: true }).optional().describe('Events at or before this time'),
    })
    .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
      error: 'expected from to be at or before to',
      path: ['from'],
    }),
) {}

class AuditPageDto extends createZodDto(
  z.object({ data: z.array(eventSchema), nextCursor: z.number().int().nullable() }),
) {}
class VerifyDto extends createZodDto(
  z.object({
    valid: z.boolean(),
    checked: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
    checkpoints: z.number().int().optional().describe('Signed checkpoints verified'),
    firstBreak: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
  }),
) {}

@ApiTags('audit')
@Controller('v1/tenants/:tenantId/audit-events')
export class AuditController {
  constructor(
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(AuditEvidenceService) private readonly evidence: AuditEvidenceService,
  ) {}

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
    return { data: page.data.map(eventView), nextCursor: page.nextCursor };
  }

  @Get('verify')
  @Authorize('audit:read')
  @ApiOperation({
    summary: 'Walk the hash chain and its signed checkpoints and report the first break, if any',
  })
  @ApiOkResponse({ type: VerifyDto })
  verify(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams): Promise<VerifyResult> {
    return this.audit.verify(p.tenantId);
  }

  @Post('checkpoints')
  @HttpCode(200)
  @Authorize('audit:read')
  @ApiOperation({ summary: "Sign the chain's current head now (or return its checkpoint)" })
  @ApiOkResponse({ type: CheckpointDto })
  async checkpoint(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams) {
    const { checkpoint, created } = await this.evidence.checkpointNow(p.tenantId);
    return { ...checkpointView(checkpoint), created };
  }

  @Get('checkpoints')
  @Authorize('audit:read')
  @ApiOperation({ summary: 'Signed checkpoints of the chain, newest first' })
  @ApiOkResponse({ type: CheckpointPageDto })
  async checkpoints(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(CheckpointQuery)) q: CheckpointQuery,
  ) {
    const rows = await this.evidence.listCheckpoints(p.tenantId, {
      beforeSeq: q.cursor,
      limit: q.limit + 1,
    });
    const page = pageOf(rows, q.limit, (row) => row.seq);
    return { data: page.data.map(checkpointView), nextCursor: page.nextCursor };
  }

  @Get('export')
  @Authorize('audit:read')
  @ApiOperation({
    summary:
      'Export the trail as JSON Lines: events in seq order, then a signed checkpoint with its public key',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description:
      'One `{"type":"event",…}` line per event (the list fields plus `prevHash`), then one `{"type":"checkpoint",…,"publicJwk":{…}}` line',
    schema: { type: 'string' },
  })
  export(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(ExportQuery)) q: ExportQuery,
  ): StreamableFile {
    const lines = this.evidence.exportLines(p.tenantId, {
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
    return new StreamableFile(Readable.from(lines), {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="audit-${p.tenantId}.jsonl"`,
    });
  }
}
