import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
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
import { CreateMappingBody, MappingDto, MappingListDto, MappingParams } from './dto/webhooks.dto';
import { ExternalIdsService } from './external-ids.service';
import { mappingView } from './webhook-views';

@ApiTags('webhooks')
@Controller('v1/tenants/:tenantId/external-ids')
export class ExternalIdsController {
  constructor(@Inject(ExternalIdsService) private readonly externalIds: ExternalIdsService) {}

  @Get()
  @Authorize('webhooks:read')
  @ApiOperation({
    summary: 'Provider identifiers (Retell agent, phone number, GHL location) mapped to clients',
  })
  @ApiOkResponse({ type: MappingListDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return { data: (await this.externalIds.list(authOf(r), p.tenantId)).map(mappingView) };
  }

  @Post()
  @Authorize('webhooks:manage')
  @ApiOperation({ summary: 'Attribute events carrying this provider identifier to a client/agent' })
  @ApiCreatedResponse({ type: MappingDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateMappingBody)) body: CreateMappingBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return mappingView(await this.externalIds.create(authOf(r), p.tenantId, body, requestMeta(r)));
  }

  @Delete(':mappingId')
  @HttpCode(204)
  @Authorize('webhooks:manage')
  @ApiOperation({ summary: 'Remove a mapping' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(MappingParams)) p: MappingParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.externalIds.remove(authOf(r), p.tenantId, p.mappingId, requestMeta(r));
  }
}
