import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { ApiKeysService, type ApiKeyRow } from './api-keys.service';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from './auth.guard';
import { PERMISSIONS } from './permissions';

class KeyParams extends createZodDto(z.object({ tenantId: z.uuid(), keyId: z.uuid() })) {}
class CreateKeyBody extends createZodDto(
  z.object({
    name: z.string().trim().min(1).max(200).meta({ example: 'CRM sync server' }),
    clientId: z
      .uuid()
      .optional()
      .describe('Limit the key to one client')
      .meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
    permissions: z
      .array(z.enum(PERMISSIONS))
      .min(1)
      .max(PERMISSIONS.length)
      .meta({ example: ['clients:read', 'agents:read'] }),
    expiresAt: z.iso.datetime().optional().meta({ example: '2027-06-30T00:00:00Z' }),
  }),
) {}
const keyView = z.object({
  id: z.uuid(),
  name: z.string(),
  clientId: z.uuid().nullable(),
  displayPrefix: z.string().describe('The first characters of the key, to recognise it'),
  permissions: z.array(z.string()),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
class KeyListDto extends createZodDto(z.object({ data: z.array(keyView) })) {}
class CreatedKeyDto extends createZodDto(
  keyView.extend({ key: z.string().describe('Shown once: store it now; only a hash is kept') }),
) {}

const view = (k: ApiKeyRow): z.infer<typeof keyView> => ({
  id: k.id,
  name: k.name,
  clientId: k.clientId,
  displayPrefix: k.displayPrefix,
  permissions: k.permissions,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
});

@ApiTags('api-keys')
@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  @Get()
  @Authorize('api_keys:read')
  @ApiOperation({ summary: "The tenant's API keys (never the keys themselves)" })
  @ApiOkResponse({ type: KeyListDto })
  async list(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams) {
    return { data: (await this.keys.list(p.tenantId)).map(view) };
  }

  @Post()
  @HttpCode(201)
  @Authorize('api_keys:manage')
  @ApiOperation({ summary: 'Create an API key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedKeyDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateKeyBody)) body: CreateKeyBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const { key, row } = await this.keys.create(
      authOf(r),
      p.tenantId,
      {
        name: body.name,
        clientId: body.clientId,
        permissions: body.permissions,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
      },
      requestMeta(r),
    );
    return { ...view(row), key };
  }

  @Delete(':keyId')
  @HttpCode(204)
  @Authorize('api_keys:manage')
  @ApiOperation({ summary: 'Revoke an API key (effective on the next request)' })
  @ApiNoContentResponse()
  async revoke(
    @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.keys.revoke(authOf(r), p.tenantId, p.keyId, requestMeta(r));
  }
}
