import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { TenantParams } from '../../platform/http/params';
import { Authorize } from '../iam/auth.guard';
import { EventsService, toCloudEvent } from './events.service';

class EventsQuery extends createZodDto(
  z.object({
    type: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.uuid().optional().describe('The `id` to continue before'),
  }),
) {}
const cloudEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  type: z.string(),
  source: z.string(),
  subject: z.string().nullable(),
  time: z.iso.datetime(),
  datacontenttype: z.literal('application/json'),
  tenantid: z.uuid(),
  clientid: z.uuid().nullable(),
  correlationid: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
class EventPageDto extends createZodDto(
  z.object({ data: z.array(cloudEvent), nextCursor: z.uuid().nullable() }),
) {}

@ApiTags('events')
@Controller('v1/tenants/:tenantId/events')
export class EventsController {
  constructor(@Inject(EventsService) private readonly events: EventsService) {}

  @Get()
  @Authorize('audit:read')
  @ApiOperation({ summary: "The tenant's domain events as CloudEvents, newest first" })
  @ApiOkResponse({ type: EventPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(EventsQuery)) q: EventsQuery,
  ) {
    const rows = await this.events.list(p.tenantId, q);
    return {
      data: rows.map(toCloudEvent),
      nextCursor: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    };
  }
}
