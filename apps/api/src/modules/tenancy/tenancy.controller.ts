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
  Query,
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
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import {
  AgentDto,
  AgentPageDto,
  AgentParams,
  ClientDto,
  ClientPageDto,
  ClientParams,
  CreateAgentBody,
  CreateClientBody,
  PageQueryDto,
  UpdateAgentBody,
  UpdateClientBody,
  type AgentView,
  type ClientView,
} from './tenancy.dto';
import type { AgentRow, ClientRow } from './tenancy.repository';
import { TenancyService } from './tenancy.service';
import { TenantParams } from '../../platform/http/params';
import type { Page } from '../../platform/http/pagination';

const clientView = (c: ClientRow): ClientView => ({
  id: c.id,
  tenantId: c.tenantId,
  name: c.name,
  status: c.status,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});
const agentView = (a: AgentRow): AgentView => ({
  id: a.id,
  tenantId: a.tenantId,
  clientId: a.clientId,
  name: a.name,
  channel: a.channel,
  status: a.status,
  timezone: a.timezone,
  settings: a.settings,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});
const pageOf = <R, V>(page: Page<R>, view: (r: R) => V) => ({
  data: page.data.map(view),
  nextCursor: page.nextCursor,
});

@ApiTags('clients')
@Controller('v1/tenants/:tenantId/clients')
export class ClientsController {
  constructor(@Inject(TenancyService) private readonly tenancy: TenancyService) {}

  @Get()
  @Authorize('clients:read')
  @ApiOperation({ summary: "List the tenant's clients you can see" })
  @ApiOkResponse({ type: ClientPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(PageQueryDto)) q: PageQueryDto,
    @Req() r: AuthenticatedRequest,
  ) {
    return pageOf(await this.tenancy.listClients(authOf(r), p.tenantId, q), clientView);
  }

  @Post()
  @HttpCode(201)
  @Authorize('clients:create')
  @ApiOperation({ summary: 'Create a client (sub-account)' })
  @ApiCreatedResponse({ type: ClientDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateClientBody)) body: CreateClientBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return clientView(await this.tenancy.createClient(authOf(r), p.tenantId, body, requestMeta(r)));
  }

  @Get(':clientId')
  @Authorize('clients:read')
  @ApiOperation({ summary: 'Get a client' })
  @ApiOkResponse({ type: ClientDto })
  async get(
    @Param(new ZodValidationPipe(ClientParams)) p: ClientParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return clientView(await this.tenancy.getClient(authOf(r), p.tenantId, p.clientId));
  }

  @Patch(':clientId')
  @Authorize('clients:update')
  @ApiOperation({ summary: 'Rename or suspend a client' })
  @ApiOkResponse({ type: ClientDto })
  async update(
    @Param(new ZodValidationPipe(ClientParams)) p: ClientParams,
    @Body(new ZodValidationPipe(UpdateClientBody)) body: UpdateClientBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return clientView(
      await this.tenancy.updateClient(authOf(r), p.tenantId, p.clientId, body, requestMeta(r)),
    );
  }

  @Delete(':clientId')
  @HttpCode(204)
  @Authorize('clients:delete')
  @ApiOperation({ summary: 'Delete a client and its agents' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(ClientParams)) p: ClientParams,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.tenancy.deleteClient(authOf(r), p.tenantId, p.clientId, requestMeta(r));
  }
}

@ApiTags('agents')
@Controller('v1/tenants/:tenantId/clients/:clientId/agents')
export class AgentsController {
  constructor(@Inject(TenancyService) private readonly tenancy: TenancyService) {}

  @Get()
  @Authorize('agents:read')
  @ApiOperation({ summary: "List a client's agents" })
  @ApiOkResponse({ type: AgentPageDto })
  async list(
    @Param(new ZodValidationPipe(ClientParams)) p: ClientParams,
    @Query(new ZodValidationPipe(PageQueryDto)) q: PageQueryDto,
    @Req() r: AuthenticatedRequest,
  ) {
    return pageOf(await this.tenancy.listAgents(authOf(r), p.tenantId, p.clientId, q), agentView);
  }

  @Post()
  @HttpCode(201)
  @Authorize('agents:create')
  @ApiOperation({ summary: 'Create an agent (an AI employee)' })
  @ApiCreatedResponse({ type: AgentDto })
  async create(
    @Param(new ZodValidationPipe(ClientParams)) p: ClientParams,
    @Body(new ZodValidationPipe(CreateAgentBody)) body: CreateAgentBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return agentView(
      await this.tenancy.createAgent(authOf(r), p.tenantId, p.clientId, body, requestMeta(r)),
    );
  }

  @Get(':agentId')
  @Authorize('agents:read')
  @ApiOperation({ summary: 'Get an agent' })
  @ApiOkResponse({ type: AgentDto })
  async get(
    @Param(new ZodValidationPipe(AgentParams)) p: AgentParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return agentView(await this.tenancy.getAgent(authOf(r), p.tenantId, p.clientId, p.agentId));
  }

  @Patch(':agentId')
  @Authorize('agents:update')
  @ApiOperation({ summary: 'Update an agent' })
  @ApiOkResponse({ type: AgentDto })
  async update(
    @Param(new ZodValidationPipe(AgentParams)) p: AgentParams,
    @Body(new ZodValidationPipe(UpdateAgentBody)) body: UpdateAgentBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return agentView(
      await this.tenancy.updateAgent(
        authOf(r),
        p.tenantId,
        p.clientId,
        p.agentId,
        body,
        requestMeta(r),
      ),
    );
  }

  @Delete(':agentId')
  @HttpCode(204)
  @Authorize('agents:delete')
  @ApiOperation({ summary: 'Delete an agent' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(AgentParams)) p: AgentParams,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.tenancy.deleteAgent(authOf(r), p.tenantId, p.clientId, p.agentId, requestMeta(r));
  }
}
