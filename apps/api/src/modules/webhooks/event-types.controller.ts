import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_TYPES, MAXAI_EVENT_TYPES, WEBHOOK_EVENT_MAPPINGS } from '@maxai/integrations';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Authorize } from '../iam/auth.guard';

const eventTypeView = z.object({
  type: z.string(),
  description: z.string(),
  dataSchema: z.record(z.string(), z.unknown()).describe('JSON Schema (draft-07) of `data`'),
  sources: z.array(z.object({ provider: z.string(), providerEventType: z.string() })),
});
class EventTypeListDto extends createZodDto(z.object({ data: z.array(eventTypeView) })) {}

/** The published catalogue: every normalized event type, its data schema, and what maps to it. */
const CATALOGUE = {
  data: MAXAI_EVENT_TYPES.map((type) => ({
    type,
    description: EVENT_TYPES[type].description,
    dataSchema: EVENT_TYPES[type].schema,
    sources: WEBHOOK_EVENT_MAPPINGS.filter((m) => m.maxaiType === type).map((m) => ({
      provider: m.provider,
      providerEventType: m.providerEventType,
    })),
  })),
};

@ApiTags('webhooks')
@Controller('v1/event-types')
export class EventTypesController {
  @Get()
  @Authorize()
  @ApiOperation({
    summary: 'The CloudEvent types providers’ webhooks become, with the JSON Schema of their data',
  })
  @ApiOkResponse({ type: EventTypeListDto })
  list() {
    return CATALOGUE;
  }
}
