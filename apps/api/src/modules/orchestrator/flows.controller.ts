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
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import type { FlowEvent } from './definition/trigger';
import {
  ActivateBody,
  AddVersionBody,
  CreateFlowBody,
  DryRunBody,
  DryRunDto,
  FlowCreatedDto,
  FlowDetailDto,
  FlowDto,
  FlowListDto,
  FlowParams,
  InstallBody,
  RenameFlowBody,
  InstallParams,
  RunDetailDto,
  RunDto,
  RunPageDto,
  RunParams,
  RunsQuery,
  TemplateListDto,
  VersionCreatedDto,
} from './dto/flows.dto';
import { FlowsService, type DefinitionInput } from './flows.service';
import { flowTemplates } from './templates/templates';
import { flowView, runDetail, runView, versionView } from './flow-views';

const definitionOf = (b: {
  definition?: Record<string, unknown> | undefined;
  source?: string | undefined;
  format: 'json' | 'yaml';
}): DefinitionInput =>
  b.source !== undefined ? { source: b.source, format: b.format } : { definition: b.definition };

@ApiTags('flows')
@Controller('v1/tenants/:tenantId/flows')
export class FlowsController {
  constructor(@Inject(FlowsService) private readonly flows: FlowsService) {}

  @Get()
  @Authorize('flows:read')
  @ApiOperation({ summary: 'The flows of a tenant and its clients' })
  @ApiOkResponse({ type: FlowListDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return { data: (await this.flows.list(authOf(r), p.tenantId)).map(flowView) };
  }

  @Post()
  @Authorize('flows:write')
  @ApiOperation({ summary: 'Create a flow with its first version (validated; 422 with pointers)' })
  @ApiCreatedResponse({ type: FlowCreatedDto })
  async create(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(CreateFlowBody)) body: CreateFlowBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const created = await this.flows.create(
      authOf(r),
      p.tenantId,
      { name: body.name, clientId: body.clientId, ...definitionOf(body) },
      requestMeta(r),
    );
    return {
      ...flowView(created.flow),
      version: versionView(created.version),
      warnings: created.warnings,
    };
  }

  @Post('dry-run')
  @HttpCode(200)
  @Authorize('flows:read')
  @ApiOperation({
    summary: 'Validate and simulate a definition against a sample event, without side effects',
  })
  @ApiOkResponse({ type: DryRunDto })
  async dryRun(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(DryRunBody)) body: DryRunBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const { result, warnings } = await this.flows.dryRun(
      authOf(r),
      p.tenantId,
      { clientId: body.clientId, ...definitionOf(body) },
      body.event as FlowEvent,
      body.stubs,
    );
    return { ...result, warnings };
  }

  @Get(':flowId')
  @Authorize('flows:read')
  @ApiOperation({ summary: 'One flow with all its versions, newest first' })
  @ApiOkResponse({ type: FlowDetailDto })
  async get(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Req() r: AuthenticatedRequest,
  ) {
    const { flow, versions } = await this.flows.get(authOf(r), p.tenantId, p.flowId);
    return { ...flowView(flow), versions: versions.map(versionView) };
  }

  @Patch(':flowId')
  @Authorize('flows:write')
  @ApiOperation({ summary: 'Rename a flow (definitions change through new versions)' })
  @ApiOkResponse({ type: FlowDto })
  async rename(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Body(new ZodValidationPipe(RenameFlowBody)) body: RenameFlowBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return flowView(
      await this.flows.rename(authOf(r), p.tenantId, p.flowId, body.name, requestMeta(r)),
    );
  }

  @Delete(':flowId')
  @HttpCode(204)
  @Authorize('flows:write')
  @ApiOperation({
    summary: 'Delete an inactive flow with no runs in progress (its versions and runs go too)',
  })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.flows.remove(authOf(r), p.tenantId, p.flowId, requestMeta(r));
  }

  @Post(':flowId/versions')
  @Authorize('flows:write')
  @ApiOperation({ summary: 'Save a new immutable version (what is live does not change)' })
  @ApiCreatedResponse({ type: VersionCreatedDto })
  async addVersion(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Body(new ZodValidationPipe(AddVersionBody)) body: AddVersionBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const { version, warnings } = await this.flows.addVersion(
      authOf(r),
      p.tenantId,
      p.flowId,
      { changeNote: body.changeNote, ...definitionOf(body) },
      requestMeta(r),
    );
    return { ...versionView(version), warnings };
  }

  @Post(':flowId/activate')
  @HttpCode(200)
  @Authorize('flows:activate')
  @ApiOperation({ summary: 'New runs start on this version (bindings and hosts checked again)' })
  @ApiOkResponse({ type: FlowDto })
  async activate(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Body(new ZodValidationPipe(ActivateBody)) body: ActivateBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return flowView(
      await this.flows.activate(authOf(r), p.tenantId, p.flowId, body.version, requestMeta(r)),
    );
  }

  @Post(':flowId/deactivate')
  @HttpCode(200)
  @Authorize('flows:activate')
  @ApiOperation({ summary: 'No new runs (runs in progress continue)' })
  @ApiOkResponse({ type: FlowDto })
  async deactivate(
    @Param(new ZodValidationPipe(FlowParams)) p: FlowParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return flowView(await this.flows.deactivate(authOf(r), p.tenantId, p.flowId, requestMeta(r)));
  }
}

@ApiTags('flows')
@Controller()
export class FlowTemplatesController {
  constructor(@Inject(FlowsService) private readonly flows: FlowsService) {}

  @Get('v1/flow-templates')
  @Authorize()
  @ApiOperation({ summary: 'The bundled flow templates, their parameters, prompts and ports' })
  @ApiOkResponse({ type: TemplateListDto })
  list() {
    return {
      data: flowTemplates().map((t) => ({
        id: t.id,
        title: t.title,
        description: t.description,
        events: t.events,
        ports: t.ports,
        prompts: t.prompts,
        parameters: t.parameters,
        source: t.source,
      })),
    };
  }

  @Post('v1/tenants/:tenantId/clients/:clientId/flow-templates/:templateId/install')
  @Authorize('flows:write')
  @ApiOperation({ summary: 'Install a bundled template as a flow of this client' })
  @ApiCreatedResponse({ type: FlowCreatedDto })
  async install(
    @Param(new ZodValidationPipe(InstallParams)) p: InstallParams,
    @Body(new ZodValidationPipe(InstallBody)) body: InstallBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const created = await this.flows.install(
      authOf(r),
      p.tenantId,
      p.clientId,
      {
        template: p.templateId,
        name: body.name,
        parameters: body.parameters,
        activate: body.activate,
      },
      requestMeta(r),
    );
    return {
      ...flowView(created.flow),
      version: versionView(created.version),
      warnings: created.warnings,
    };
  }
}

@ApiTags('flows')
@Controller('v1/tenants/:tenantId/flow-runs')
export class FlowRunsController {
  constructor(@Inject(FlowsService) private readonly flows: FlowsService) {}

  @Get()
  @Authorize('runs:read')
  @ApiOperation({ summary: 'Flow runs, newest first, by flow, status, client and time' })
  @ApiOkResponse({ type: RunPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(RunsQuery)) q: RunsQuery,
    @Req() r: AuthenticatedRequest,
  ) {
    const rows = await this.flows.runs(authOf(r), p.tenantId, {
      flowId: q.flowId,
      status: q.status,
      clientId: q.clientId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      limit: q.limit,
      cursor: q.cursor,
    });
    // A full page may have more after it; a short one is the last.
    const last = rows.at(q.limit - 1);
    return { data: rows.map(runView), nextCursor: last ? last.id : null };
  }

  @Get(':runId')
  @Authorize('runs:read')
  @ApiOperation({ summary: 'One run with its step timeline (inputs, outputs, attempts, timings)' })
  @ApiOkResponse({ type: RunDetailDto })
  async get(@Param(new ZodValidationPipe(RunParams)) p: RunParams, @Req() r: AuthenticatedRequest) {
    const { run, steps } = await this.flows.run(authOf(r), p.tenantId, p.runId);
    return runDetail(run, steps);
  }

  @Post(':runId/cancel')
  @HttpCode(200)
  @Authorize('runs:operate')
  @ApiOperation({ summary: 'Cancel a run that has not ended' })
  @ApiOkResponse({ type: RunDto })
  async cancel(
    @Param(new ZodValidationPipe(RunParams)) p: RunParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return runView(await this.flows.cancel(authOf(r), p.tenantId, p.runId, requestMeta(r)));
  }

  @Post(':runId/rerun')
  @HttpCode(200)
  @Authorize('runs:operate')
  @ApiOperation({ summary: 'Run a failed run again from the step it failed at' })
  @ApiOkResponse({ type: RunDto })
  async rerun(
    @Param(new ZodValidationPipe(RunParams)) p: RunParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return runView(await this.flows.rerun(authOf(r), p.tenantId, p.runId, requestMeta(r)));
  }
}
