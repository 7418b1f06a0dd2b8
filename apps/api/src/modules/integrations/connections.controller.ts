import {
  All,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Redirect,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import type { ConnectionRow } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { ProxyService } from './proxy.service';

class ConnectionParams extends createZodDto(
  z.object({ tenantId: z.uuid(), connectionId: z.uuid() }),
) {}
class ProviderParams extends createZodDto(
  z.object({ tenantId: z.uuid(), provider: z.string().min(1).max(40) }),
) {}
class LocationBody extends createZodDto(
  z.object({
    locationId: z.string().trim().min(1).max(100).meta({ example: 've9EPM428h8vShlRW1KT' }),
    name: z.string().trim().min(1).max(200).meta({ example: 'Bright Smiles — GoHighLevel' }),
    clientId: z.uuid().optional().meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
  }),
) {}
class CallbackParams extends createZodDto(z.object({ provider: z.string().min(1).max(40) })) {}
class CallbackQuery extends createZodDto(
  z.object({
    code: z.string().max(4096).optional(),
    state: z.string().max(512).optional(),
    error: z.string().max(200).optional(),
  }),
) {}
class CreateConnectionBody extends createZodDto(
  z.object({
    provider: z.string().min(1).max(40).meta({ example: 'twilio' }),
    name: z.string().trim().min(1).max(200).meta({ example: 'Main Twilio account' }),
    clientId: z
      .uuid()
      .optional()
      .describe('A client-level connection')
      .meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
    credentials: z
      .record(z.string(), z.string().max(2000))
      .describe('Sealed at once; never returned')
      .meta({ example: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: '…' } }),
    attributes: z
      .record(z.string().max(100), z.string().max(500))
      .optional()
      .describe('Non-secret settings, e.g. n8n `baseUrl`')
      .meta({ example: { baseUrl: 'https://n8n.example.com' } }),
  }),
) {}
class AuthorizeBody extends createZodDto(
  z.object({
    name: z.string().trim().min(1).max(200).meta({ example: 'Bright Smiles — GoHighLevel' }),
    clientId: z.uuid().optional().meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
  }),
) {}
const connectionView = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  clientId: z.uuid().nullable(),
  provider: z.string(),
  authType: z.enum(['oauth2', 'api_key']),
  name: z.string(),
  status: z.string(),
  attributes: z.record(z.string(), z.string()),
  accessExpiresAt: z.iso.datetime().nullable(),
  lastRefreshedAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
class ConnectionDto extends createZodDto(connectionView) {}
class ConnectionListDto extends createZodDto(z.object({ data: z.array(connectionView) })) {}
class AuthorizeDto extends createZodDto(
  z.object({
    authorizeUrl: z.string().describe('Send the browser here'),
    expiresAt: z.iso.datetime(),
  }),
) {}

/** What a connection looks like from outside: never a secret. */
const view = (row: ConnectionRow): z.infer<typeof connectionView> => ({
  id: row.id,
  tenantId: row.tenantId,
  clientId: row.clientId,
  provider: row.provider,
  authType: row.authType,
  name: row.name,
  status: row.status,
  attributes: row.attributes,
  accessExpiresAt: row.accessExpiresAt?.toISOString() ?? null,
  lastRefreshedAt: row.lastRefreshedAt?.toISOString() ?? null,
  lastError: row.lastError,
  createdAt: row.createdAt.toISOString(),
});

@ApiTags('integrations')
@Controller()
export class ConnectionsController {
  constructor(
    @Inject(ConnectionsService) private readonly connections: ConnectionsService,
    @Inject(ProxyService) private readonly proxy: ProxyService,
  ) {}

  @Get('v1/tenants/:tenantId/connections')
  @Authorize('connections:read')
  @ApiOperation({ summary: 'Connections to providers (credentials are never shown)' })
  @ApiOkResponse({ type: ConnectionListDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return { data: (await this.connections.list(authOf(r), p.tenantId)).map(view) };
  }

  @Post('v1/tenants/:tenantId/connections')
  @HttpCode(201)
  @Authorize('connections:manage')
  @ApiOperation({ summary: 'Connect a provider with an API key or secret (sealed at once)' })
  @ApiCreatedResponse({ type: ConnectionDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateConnectionBody)) body: CreateConnectionBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.connections.createWithKey(authOf(r), p.tenantId, body, requestMeta(r)));
  }

  @Get('v1/tenants/:tenantId/connections/:connectionId')
  @Authorize('connections:read')
  @ApiOperation({ summary: 'One connection' })
  @ApiOkResponse({ type: ConnectionDto })
  async get(
    @Param(new ZodValidationPipe(ConnectionParams)) p: ConnectionParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(await this.connections.get(authOf(r), p.tenantId, p.connectionId));
  }

  @Delete('v1/tenants/:tenantId/connections/:connectionId')
  @HttpCode(204)
  @Authorize('connections:manage')
  @ApiOperation({ summary: 'Disconnect: the stored credentials are deleted' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(ConnectionParams)) p: ConnectionParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.connections.delete(authOf(r), p.tenantId, p.connectionId, requestMeta(r));
  }

  @Post('v1/tenants/:tenantId/connections/:connectionId/location-token')
  @HttpCode(201)
  @Authorize('connections:manage')
  @ApiOperation({
    summary: "GoHighLevel: a location's connection from the agency (Company) connection",
  })
  @ApiCreatedResponse({ type: ConnectionDto })
  async location(
    @Param(new ZodValidationPipe(ConnectionParams)) p: ConnectionParams,
    @Body(new ZodValidationPipe(LocationBody)) body: LocationBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return view(
      await this.connections.connectLocation(
        authOf(r),
        p.tenantId,
        p.connectionId,
        body,
        requestMeta(r),
      ),
    );
  }

  @Post('v1/tenants/:tenantId/connections/:provider/authorize')
  @HttpCode(200)
  @Authorize('connections:manage')
  @ApiOperation({ summary: 'Start an OAuth connect: the provider URL with a one-time state' })
  @ApiOkResponse({ type: AuthorizeDto })
  authorize(
    @Param(new ZodValidationPipe(ProviderParams)) p: ProviderParams,
    @Body(new ZodValidationPipe(AuthorizeBody)) body: AuthorizeBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return this.connections.authorize(authOf(r), p.tenantId, p.provider, body);
  }

  @Get('v1/oauth/callback/:provider')
  @Redirect()
  @ApiOperation({ summary: "The provider's redirect after consent: stores the tokens" })
  async callback(
    @Param(new ZodValidationPipe(CallbackParams)) p: CallbackParams,
    @Query(new ZodValidationPipe(CallbackQuery)) q: CallbackQuery,
  ) {
    const { location } = await this.connections.callback(p.provider, q);
    return { url: location, statusCode: 302 };
  }

  @All('v1/tenants/:tenantId/connections/:connectionId/proxy/*')
  @Authorize('connections:use')
  @ApiOperation({ summary: "Call the provider's API with the connection's credentials" })
  async forward(
    @Param(new ZodValidationPipe(ConnectionParams.schema.loose())) p: ConnectionParams,
    @Req() r: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const marker = `/connections/${p.connectionId}/proxy/`;
    const raw = r.url.slice(r.url.indexOf(marker) + marker.length);
    const [path = '', query = ''] = raw.split(/\?(.*)/s);
    const body =
      r.body === undefined || r.body === null
        ? undefined
        : typeof r.body === 'string' || Buffer.isBuffer(r.body)
          ? r.body
          : JSON.stringify(r.body);
    const res = await this.proxy.forward(authOf(r), p.tenantId, p.connectionId, {
      method: r.method,
      path,
      query,
      headers: r.headers,
      body,
    });
    await reply.code(res.status).headers(res.headers).send(res.body);
  }
}
