import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodValidationPipe } from 'nestjs-zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import { notFound } from '../iam/auth.guard';
import { EventsService } from '../events/events.service';
import {
  DeliveriesQuery,
  DeliveryDetailDto,
  DeliveryPageDto,
  DeliveryParams,
  DeliveryQuery,
  EventParams,
  PlatformDeliveriesQuery,
  ReplayEventsBody,
  ReplayResultDto,
} from './dto/webhooks.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { deliveryView } from './webhook-views';

const date = (value: string | undefined) => (value ? new Date(value) : undefined);

const deliveryFilter = (q: DeliveriesQuery) => ({
  provider: q.provider,
  status: q.status,
  endpointId: q.endpointId,
  clientId: q.clientId,
  from: date(q.from),
  to: date(q.to),
  limit: q.limit,
  cursor: q.cursor,
});

@ApiTags('webhooks')
@Controller('v1/tenants/:tenantId/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(
    @Inject(WebhookDeliveriesService) private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Get()
  @Authorize('webhooks:read')
  @ApiOperation({ summary: 'Received webhooks with their normalized events, newest first' })
  @ApiOkResponse({ type: DeliveryPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(DeliveriesQuery)) q: DeliveriesQuery,
    @Req() r: AuthenticatedRequest,
  ) {
    return this.page(authOf(r), p.tenantId, q);
  }

  @Get('dead-letters')
  @Authorize('webhooks:read')
  @ApiOperation({
    summary: 'Verified webhooks that could not be normalized (unparseable or of an unknown type)',
  })
  @ApiOkResponse({ type: DeliveryPageDto })
  async deadLetters(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(DeliveriesQuery)) q: DeliveriesQuery,
    @Req() r: AuthenticatedRequest,
  ) {
    return this.page(authOf(r), p.tenantId, q, 'unprocessable');
  }

  @Get(':deliveryId')
  @Authorize('webhooks:read')
  @ApiOperation({ summary: 'One received webhook, its events and (on request) its raw body' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  async get(
    @Param(new ZodValidationPipe(DeliveryParams)) p: DeliveryParams,
    @Query(new ZodValidationPipe(DeliveryQuery)) q: DeliveryQuery,
    @Req() r: AuthenticatedRequest,
  ) {
    const detail = await this.deliveries.get(
      authOf(r),
      p.tenantId,
      p.deliveryId,
      { raw: q.include === 'raw' },
      requestMeta(r),
    );
    return {
      ...deliveryView(detail.delivery, detail.events),
      headers: detail.delivery.headers,
      ...(detail.rawBody === undefined ? {} : { rawBody: detail.rawBody }),
    };
  }

  @Post(':deliveryId/replay')
  @HttpCode(200)
  @Authorize('webhooks:replay')
  @ApiOperation({
    summary: 'Dispatch its events again (a dead letter is normalized again first); audited',
  })
  @ApiOkResponse({ type: ReplayResultDto })
  replay(
    @Param(new ZodValidationPipe(DeliveryParams)) p: DeliveryParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return this.deliveries.replayDelivery(authOf(r), p.tenantId, p.deliveryId, requestMeta(r));
  }

  private async page(
    caller: ReturnType<typeof authOf>,
    tenantId: string,
    q: DeliveriesQuery,
    status?: 'unprocessable',
  ) {
    const filter = deliveryFilter(q);
    const { rows, events } = await this.deliveries.list(caller, tenantId, {
      ...filter,
      status: status ?? filter.status,
    });
    return {
      data: rows.map((row) => deliveryView(row, events)),
      nextCursor: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    };
  }
}

@ApiTags('webhooks')
@Controller('v1/tenants/:tenantId/events')
export class EventReplayController {
  constructor(
    @Inject(WebhookDeliveriesService) private readonly deliveries: WebhookDeliveriesService,
    @Inject(EventsService) private readonly events: EventsService,
  ) {}

  @Post('replay')
  @HttpCode(200)
  @Authorize('webhooks:replay')
  @ApiOperation({ summary: 'Dispatch a filtered set of events again (at most `max`); audited' })
  @ApiOkResponse({ type: ReplayResultDto })
  async replayMany(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(ReplayEventsBody)) body: ReplayEventsBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const replayed = await this.deliveries.replayEvents(
      authOf(r),
      p.tenantId,
      {
        ids: body.ids,
        type: body.type,
        source: body.source,
        clientId: body.clientId,
        from: date(body.from),
        to: date(body.to),
      },
      body.max,
      requestMeta(r),
    );
    return { replayed };
  }

  @Post(':eventId/replay')
  @HttpCode(200)
  @Authorize('webhooks:replay')
  @ApiOperation({ summary: 'Dispatch one event again; audited' })
  @ApiOkResponse({ type: ReplayResultDto })
  async replayOne(
    @Param(new ZodValidationPipe(EventParams)) p: EventParams,
    @Req() r: AuthenticatedRequest,
  ) {
    const event = await this.events.getRow(p.tenantId, p.eventId);
    if (!event) throw notFound();
    const replayed = await this.deliveries.replayEvents(
      authOf(r),
      p.tenantId,
      { ids: [p.eventId], clientId: event.clientId ?? undefined },
      1,
      requestMeta(r),
    );
    return { replayed };
  }
}

@ApiTags('webhooks')
@Controller('v1/webhook-deliveries')
export class PlatformDeliveriesController {
  constructor(
    @Inject(WebhookDeliveriesService) private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Get()
  @Authorize('webhooks:read')
  @ApiOperation({ summary: 'Platform staff: received webhooks across tenants, newest first' })
  @ApiOkResponse({ type: DeliveryPageDto })
  async list(@Query(new ZodValidationPipe(PlatformDeliveriesQuery)) q: PlatformDeliveriesQuery) {
    const rows = await this.deliveries.listAcrossTenants({
      tenantId: q.tenantId,
      provider: q.provider,
      status: q.status,
      from: date(q.from),
      to: date(q.to),
      limit: q.limit,
      cursor: q.cursor,
    });
    return {
      data: rows.map((row) => deliveryView(row)),
      nextCursor: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    };
  }
}
