import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TENANT_STATUSES } from '@maxai/db';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import { TenantParams } from '../../platform/http/params';
import { PageQueryDto } from './tenancy.dto';
import { TenantsService, type TenantRow } from './tenants.service';

const tenantView = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(TENANT_STATUSES),
  suspendedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
class TenantDto extends createZodDto(tenantView) {}
class TenantPageDto extends createZodDto(
  z.object({ data: z.array(tenantView), nextCursor: z.uuid().nullable() }),
) {}
class CreateTenantBody extends createZodDto(
  z.object({ name: z.string().trim().min(1).max(200).meta({ example: 'Acme Agency' }) }),
) {}

const view = (t: TenantRow): z.infer<typeof tenantView> => ({
  id: t.id,
  name: t.name,
  status: t.status,
  suspendedAt: t.suspendedAt?.toISOString() ?? null,
  createdAt: t.createdAt.toISOString(),
});

@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
  constructor(@Inject(TenantsService) private readonly tenants: TenantsService) {}

  @Get()
  @Authorize()
  @ApiOperation({ summary: 'Tenants: all of them for platform staff, your own otherwise' })
  @ApiOkResponse({ type: TenantPageDto })
  async list(
    @Query(new ZodValidationPipe(PageQueryDto)) q: PageQueryDto,
    @Req() r: AuthenticatedRequest,
  ) {
    const page = await this.tenants.list(authOf(r), q);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  @Post()
  @HttpCode(201)
  @Authorize('tenants:create')
  @ApiOperation({ summary: 'Create a tenant (platform admins)' })
  @ApiCreatedResponse({ type: TenantDto })
  async create(
    @Body(new ZodValidationPipe(CreateTenantBody)) body: CreateTenantBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.tenants.create(authOf(r), body, requestMeta(r)));
  }

  @Get(':tenantId')
  @Authorize('tenants:read')
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiOkResponse({ type: TenantDto })
  async get(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams) {
    return view(await this.tenants.get(p.tenantId));
  }

  @Post(':tenantId/suspend')
  @HttpCode(200)
  @Authorize('tenants:suspend')
  @ApiOperation({
    summary: "Suspend a tenant: its members' access stops at once (platform admins)",
  })
  @ApiOkResponse({ type: TenantDto })
  async suspend(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.tenants.setStatus(authOf(r), p.tenantId, 'suspended', requestMeta(r)));
  }

  @Post(':tenantId/reactivate')
  @HttpCode(200)
  @Authorize('tenants:suspend')
  @ApiOperation({ summary: 'Reactivate a suspended tenant (platform admins)' })
  @ApiOkResponse({ type: TenantDto })
  async reactivate(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.tenants.setStatus(authOf(r), p.tenantId, 'active', requestMeta(r)));
  }
}
