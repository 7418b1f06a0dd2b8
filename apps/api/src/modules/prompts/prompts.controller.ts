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
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/http/pagination';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import {
  promptKeyParam,
  SCOPE_PATHS,
  scopeSchema,
  versionParam,
  type ScopeKind,
} from './dto/prompt-params';
import {
  labelSchema,
  selectorSchema,
  templateInputSchema,
  variablesSchema,
  versionInputSchema,
} from './dto/prompt-schemas';
import {
  DiffDto,
  LabelHistoryDto,
  RenderedDto,
  ResolvedDto,
  TemplateDto,
  TemplatePageDto,
  VersionDto,
  VersionPageDto,
  historyOf,
  resolvedOf,
  templateOf,
  versionOf,
} from './dto/prompt-views';
import { PromptVersionsService } from './prompt-versions.service';
import { PromptsService } from './prompts.service';

class CreateTemplateBody extends createZodDto(templateInputSchema) {}
class UpdateTemplateBody extends createZodDto(
  z.object({
    description: z
      .string()
      .max(2000)
      .optional()
      .meta({ example: 'What the front desk says first' }),
    protectedLabels: z
      .array(labelSchema)
      .max(20)
      .optional()
      .describe('Changing them needs prompts:publish')
      .meta({ example: ['production'] }),
  }),
) {}
class CreateVersionBody extends createZodDto(versionInputSchema) {}
class RenderBody extends createZodDto(
  z.object({
    ...selectorSchema,
    agentId: z
      .uuid()
      .optional()
      .describe("Client routes: render with this agent's pin for the key")
      .meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
    variables: variablesSchema,
  }),
) {}
class ResolveQuery extends createZodDto(
  z.object({
    label: labelSchema.optional(),
    version: z.coerce.number().int().min(1).optional(),
    versionId: z.uuid().optional(),
    agentId: z.uuid().optional(),
  }),
) {}
class TemplatePageQuery extends createZodDto(
  z.object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional().describe('The key to continue after'),
  }),
) {}
class NumberPageQuery extends createZodDto(
  z.object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.coerce.number().int().min(1).optional().describe('Continue before this number'),
  }),
) {}
class DiffQuery extends createZodDto(
  z.object({
    from: versionParam.optional().describe('Default: the version before `to`'),
    to: versionParam.optional().describe('Default: the newest version'),
  }),
) {}

const where = (kind: ScopeKind) =>
  kind === 'tenant' ? "the tenant's library" : "the client's overrides";

/**
 * The prompt routes of one scope. The tenant's library and a client's overrides have the same
 * routes under different prefixes, so they are declared once and bound to each prefix below.
 */
function promptRoutes(kind: ScopeKind) {
  const scope = scopeSchema(kind);
  class ScopeParams extends createZodDto(scope) {}
  class KeyParams extends createZodDto(scope.extend({ promptKey: promptKeyParam })) {}
  class VersionParams extends createZodDto(
    scope.extend({ promptKey: promptKeyParam, version: versionParam }),
  ) {}

  abstract class PromptRoutes {
    // Public: a class returned from a function cannot declare private members.
    constructor(
      @Inject(PromptsService) readonly prompts: PromptsService,
      @Inject(PromptVersionsService) readonly promptVersions: PromptVersionsService,
    ) {}

    @Get('prompts')
    @Authorize('prompts:read')
    @ApiOperation({ summary: `Prompts of ${where(kind)}, by key` })
    @ApiOkResponse({ type: TemplatePageDto })
    async list(
      @Param(new ZodValidationPipe(ScopeParams)) p: ScopeParams,
      @Query(new ZodValidationPipe(TemplatePageQuery)) q: TemplatePageQuery,
      @Req() r: AuthenticatedRequest,
    ) {
      const rows = await this.prompts.list(authOf(r), p, { cursor: q.cursor, limit: q.limit + 1 });
      const page = pageOf(rows, q.limit, (row) => row.template.key);
      return { data: page.data.map(templateOf), nextCursor: page.nextCursor };
    }

    @Post('prompts')
    @HttpCode(201)
    @Authorize('prompts:write')
    @ApiOperation({ summary: `Create a prompt in ${where(kind)} (then add versions)` })
    @ApiCreatedResponse({ type: TemplateDto })
    async create(
      @Param(new ZodValidationPipe(ScopeParams)) p: ScopeParams,
      @Body(new ZodValidationPipe(CreateTemplateBody)) body: CreateTemplateBody,
      @Req() r: AuthenticatedRequest,
    ) {
      return templateOf(await this.prompts.create(authOf(r), p, body, requestMeta(r)));
    }

    @Get('prompts/:promptKey')
    @Authorize('prompts:read')
    @ApiOperation({ summary: 'One prompt with its labels' })
    @ApiOkResponse({ type: TemplateDto })
    async get(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Req() r: AuthenticatedRequest,
    ) {
      return templateOf(await this.prompts.get(authOf(r), p, p.promptKey));
    }

    @Patch('prompts/:promptKey')
    @Authorize('prompts:write')
    @ApiOperation({ summary: "Change a prompt's description or protected labels" })
    @ApiOkResponse({ type: TemplateDto })
    async update(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Body(new ZodValidationPipe(UpdateTemplateBody)) body: UpdateTemplateBody,
      @Req() r: AuthenticatedRequest,
    ) {
      return templateOf(await this.prompts.update(authOf(r), p, p.promptKey, body, requestMeta(r)));
    }

    @Delete('prompts/:promptKey')
    @HttpCode(204)
    @Authorize('prompts:publish')
    @ApiOperation({ summary: 'Delete a prompt with all its versions and labels' })
    @ApiNoContentResponse()
    async remove(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Req() r: AuthenticatedRequest,
    ): Promise<void> {
      await this.prompts.delete(authOf(r), p, p.promptKey, requestMeta(r));
    }

    @Get('prompts/:promptKey/versions')
    @Authorize('prompts:read')
    @ApiOperation({ summary: "A prompt's full history of versions, newest first" })
    @ApiOkResponse({ type: VersionPageDto })
    async versions(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Query(new ZodValidationPipe(NumberPageQuery)) q: NumberPageQuery,
      @Req() r: AuthenticatedRequest,
    ) {
      const rows = await this.promptVersions.listVersions(authOf(r), p, p.promptKey, {
        cursor: q.cursor,
        limit: q.limit + 1,
      });
      const page = pageOf(rows, q.limit, (row) => row.version);
      return { data: page.data.map(versionOf), nextCursor: page.nextCursor };
    }

    @Post('prompts/:promptKey/versions')
    @HttpCode(201)
    @Authorize('prompts:write')
    @ApiOperation({
      summary: 'Add an immutable version (checked and compiled; changes nothing that renders)',
    })
    @ApiCreatedResponse({ type: VersionDto })
    async addVersion(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Body(new ZodValidationPipe(CreateVersionBody)) body: CreateVersionBody,
      @Req() r: AuthenticatedRequest,
    ) {
      return versionOf(
        await this.promptVersions.createVersion(authOf(r), p, p.promptKey, body, requestMeta(r)),
      );
    }

    @Get('prompts/:promptKey/versions/:version')
    @Authorize('prompts:read')
    @ApiOperation({ summary: 'One version' })
    @ApiOkResponse({ type: VersionDto })
    async version(
      @Param(new ZodValidationPipe(VersionParams)) p: VersionParams,
      @Req() r: AuthenticatedRequest,
    ) {
      return versionOf(await this.promptVersions.getVersion(authOf(r), p, p.promptKey, p.version));
    }

    @Get('prompts/:promptKey/diff')
    @Authorize('prompts:read')
    @ApiOperation({
      summary: 'What changed between two versions (default: the newest and the one before)',
    })
    @ApiOkResponse({ type: DiffDto })
    diff(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Query(new ZodValidationPipe(DiffQuery)) q: DiffQuery,
      @Req() r: AuthenticatedRequest,
    ) {
      return this.promptVersions.diff(authOf(r), p, p.promptKey, q);
    }

    @Get('prompts/:promptKey/label-history')
    @Authorize('prompts:read')
    @ApiOperation({ summary: 'Who moved which label of this prompt when, newest first' })
    @ApiOkResponse({ type: LabelHistoryDto })
    async history(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Query(new ZodValidationPipe(NumberPageQuery)) q: NumberPageQuery,
      @Req() r: AuthenticatedRequest,
    ) {
      const rows = await this.promptVersions.labelHistory(authOf(r), p, p.promptKey, {
        cursor: q.cursor,
        limit: q.limit + 1,
      });
      const page = pageOf(rows, q.limit, (row) => row.seq);
      return { data: page.data.map(historyOf), nextCursor: page.nextCursor };
    }

    @Get('prompts/:promptKey/resolve')
    @Authorize('prompts:read')
    @ApiOperation({ summary: 'Which version a render would use (label, version or agent pin)' })
    @ApiOkResponse({ type: ResolvedDto })
    async resolve(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Query(new ZodValidationPipe(ResolveQuery)) q: ResolveQuery,
      @Req() r: AuthenticatedRequest,
    ) {
      return resolvedOf(
        await this.prompts.resolveFor(authOf(r), p, {
          key: p.promptKey,
          label: q.label,
          version: q.version,
          versionId: q.versionId,
          agentId: q.agentId,
        }),
      );
    }

    @Post('prompts/:promptKey/render')
    @HttpCode(200)
    @Authorize('prompts:read')
    @ApiOperation({
      summary:
        'Render with variables: text or messages, model settings and the version id to stamp on the LLM call',
    })
    @ApiOkResponse({ type: RenderedDto })
    render(
      @Param(new ZodValidationPipe(KeyParams)) p: KeyParams,
      @Body(new ZodValidationPipe(RenderBody)) body: RenderBody,
      @Req() r: AuthenticatedRequest,
    ) {
      return this.prompts.renderFor(authOf(r), p, {
        key: p.promptKey,
        label: body.label,
        version: body.version,
        versionId: body.versionId,
        agentId: body.agentId,
        variables: body.variables,
      });
    }
  }
  return PromptRoutes;
}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.tenant)
export class TenantPromptsController extends promptRoutes('tenant') {}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.client)
export class ClientPromptsController extends promptRoutes('client') {}
