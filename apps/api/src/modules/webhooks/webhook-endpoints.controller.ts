import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Req,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ZodValidationPipe } from 'nestjs-zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import {
  CreateEndpointBody,
  EndpointCreatedDto,
  EndpointDto,
  EndpointListDto,
  EndpointParams,
  EndpointStatsDto,
  UpdateEndpointBody,
} from './dto/webhooks.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { endpointView } from './webhook-views';
import { WEBHOOK_PUBLIC_BASE } from './webhooks.tokens';

@ApiTags('webhooks')
@Controller('v1/tenants/:tenantId/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(
    @Inject(WebhookEndpointsService) private readonly endpoints: WebhookEndpointsService,
    @Inject(WebhookDeliveriesService) private readonly deliveries: WebhookDeliveriesService,
    @Inject(WEBHOOK_PUBLIC_BASE) private readonly base: string,
  ) {}

  @Get()
  @Authorize('webhooks:read')
  @ApiOperation({ summary: 'The webhook endpoints providers post to' })
  @ApiOkResponse({ type: EndpointListDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    const rows = await this.endpoints.list(authOf(r), p.tenantId);
    return { data: rows.map((row) => endpointView(this.base, row)) };
  }

  @Post()
  @Authorize('webhooks:manage')
  @ApiOperation({
    summary: 'Create an endpoint: its URL to paste into the provider, and any generated secret',
  })
  @ApiCreatedResponse({ type: EndpointCreatedDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateEndpointBody)) body: CreateEndpointBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const { row, setup } = await this.endpoints.create(authOf(r), p.tenantId, body, requestMeta(r));
    return { ...endpointView(this.base, row), setup };
  }

  @Get(':endpointId')
  @Authorize('webhooks:read')
  @ApiOperation({ summary: 'One webhook endpoint (never its secrets)' })
  @ApiOkResponse({ type: EndpointDto })
  async get(
    @Param(new ZodValidationPipe(EndpointParams)) p: EndpointParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return endpointView(this.base, await this.endpoints.get(authOf(r), p.tenantId, p.endpointId));
  }

  @Patch(':endpointId')
  @Authorize('webhooks:manage')
  @ApiOperation({ summary: 'Rename, disable, re-limit or rotate the keys of an endpoint' })
  @ApiOkResponse({ type: EndpointCreatedDto })
  async update(
    @Param(new ZodValidationPipe(EndpointParams)) p: EndpointParams,
    @Body(new ZodValidationPipe(UpdateEndpointBody)) body: UpdateEndpointBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const { row, setup } = await this.endpoints.update(
      authOf(r),
      p.tenantId,
      p.endpointId,
      body,
      requestMeta(r),
    );
    return { ...endpointView(this.base, row), setup };
  }

  @Delete(':endpointId')
  @HttpCode(204)
  @Authorize('webhooks:manage')
  @ApiOperation({ summary: 'Delete an endpoint (its deliveries stay)' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(EndpointParams)) p: EndpointParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.endpoints.remove(authOf(r), p.tenantId, p.endpointId, requestMeta(r));
  }

  @Get(':endpointId/stats')
  @Authorize('webhooks:read')
  @ApiOperation({ summary: "An endpoint's deliveries: accepted, unprocessable, duplicates" })
  @ApiOkResponse({ type: EndpointStatsDto })
  async stats(
    @Param(new ZodValidationPipe(EndpointParams)) p: EndpointParams,
    @Req() r: AuthenticatedRequest,
  ) {
    const stats = await this.deliveries.stats(authOf(r), p.tenantId, p.endpointId);
    return { ...stats, lastReceivedAt: stats.lastReceivedAt?.toISOString() ?? null };
  }
}
