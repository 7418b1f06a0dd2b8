import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PORT_NAMES } from '@maxai/db';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import { BindingsService, type BindingRow } from './bindings.service';

const uuidExample = { example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' };
class PortParams extends createZodDto(z.object({ tenantId: z.uuid(), port: z.enum(PORT_NAMES) })) {}
class BindingParams extends createZodDto(z.object({ tenantId: z.uuid(), bindingId: z.uuid() })) {}
class BindBody extends createZodDto(
  z.object({
    connectionId: z.uuid().meta(uuidExample),
    clientId: z.uuid().optional().describe('Override for one client').meta(uuidExample),
    agentId: z
      .uuid()
      .optional()
      .describe('Override for one agent (with its clientId)')
      .meta(uuidExample),
  }),
) {}
class ResolveQuery extends createZodDto(
  z.object({
    port: z.enum(PORT_NAMES),
    clientId: z.uuid().optional(),
    agentId: z.uuid().optional(),
  }),
) {}
const bindingView = z.object({
  id: z.uuid(),
  port: z.enum(PORT_NAMES),
  connectionId: z.uuid(),
  clientId: z.uuid().nullable(),
  agentId: z.uuid().nullable(),
  updatedAt: z.iso.datetime(),
});
class BindingDto extends createZodDto(bindingView) {}
class BindingListDto extends createZodDto(z.object({ data: z.array(bindingView) })) {}
class ResolvedDto extends createZodDto(z.object({ binding: bindingView.nullable() })) {}

const view = (row: BindingRow): z.infer<typeof bindingView> => ({
  id: row.id,
  port: row.port,
  connectionId: row.connectionId,
  clientId: row.clientId,
  agentId: row.agentId,
  updatedAt: row.updatedAt.toISOString(),
});

@ApiTags('integrations')
@Controller('v1/tenants/:tenantId/bindings')
export class BindingsController {
  constructor(@Inject(BindingsService) private readonly bindings: BindingsService) {}

  @Get()
  @Authorize('connections:read')
  @ApiOperation({ summary: 'Which connection serves which port, per tenant, client and agent' })
  @ApiOkResponse({ type: BindingListDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return { data: (await this.bindings.list(authOf(r), p.tenantId)).map(view) };
  }

  @Get('resolve')
  @Authorize('connections:read')
  @ApiOperation({ summary: 'The binding in force for a port at a scope (agent > client > tenant)' })
  @ApiOkResponse({ type: ResolvedDto })
  async resolve(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(ResolveQuery)) q: ResolveQuery,
  ) {
    const row = await this.bindings.resolve(p.tenantId, q.port, q);
    return { binding: row ? view(row) : null };
  }

  @Put(':port')
  @Authorize('connections:manage')
  @ApiOperation({ summary: 'Bind a connection to a port (replaces the binding at that scope)' })
  @ApiOkResponse({ type: BindingDto })
  async bind(
    @Param(new ZodValidationPipe(PortParams)) p: PortParams,
    @Body(new ZodValidationPipe(BindBody)) body: BindBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.bindings.bind(authOf(r), p.tenantId, p.port, body, requestMeta(r)));
  }

  @Delete(':bindingId')
  @HttpCode(204)
  @Authorize('connections:manage')
  @ApiOperation({ summary: 'Remove a binding (the wider scope applies again)' })
  @ApiNoContentResponse()
  async unbind(
    @Param(new ZodValidationPipe(BindingParams)) p: BindingParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.bindings.unbind(authOf(r), p.tenantId, p.bindingId, requestMeta(r));
  }
}
