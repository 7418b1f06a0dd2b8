import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { YAML_MEDIA_TYPES } from '../../platform/http/yaml-body';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import { SCOPE_PATHS, scopeSchema, type ScopeKind } from './dto/prompt-params';
import { libraryDocumentSchema } from './dto/prompt-schemas';
import { ImportReportDto } from './dto/prompt-views';
import { libraryYaml, PromptLibraryService } from './prompt-library.service';

class LibraryDocumentDto extends createZodDto(libraryDocumentSchema) {}
class ExportQuery extends createZodDto(
  z.object({ format: z.enum(['json', 'yaml']).default('json').describe('yaml for review in git') }),
) {}

function libraryRoutes(kind: ScopeKind) {
  const scope = scopeSchema(kind);
  class ScopeParams extends createZodDto(scope) {}
  const what = kind === 'tenant' ? "the tenant's prompt library" : "the client's prompt overrides";

  abstract class LibraryRoutes {
    // Public: a class returned from a function cannot declare private members.
    constructor(@Inject(PromptLibraryService) readonly library: PromptLibraryService) {}

    @Get('prompt-library')
    @Authorize('prompts:read')
    @ApiOperation({ summary: `Export ${what}: every prompt, version and label (JSON or YAML)` })
    @ApiProduces('application/json', 'application/yaml')
    @ApiOkResponse({ type: LibraryDocumentDto })
    async export(
      @Param(new ZodValidationPipe(ScopeParams)) p: ScopeParams,
      @Query(new ZodValidationPipe(ExportQuery)) q: ExportQuery,
      @Req() r: AuthenticatedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const document = await this.library.export(authOf(r), p);
      if (q.format === 'json') return document;
      void reply.header('content-type', 'application/yaml; charset=utf-8');
      return libraryYaml(document);
    }

    @Post('prompt-library')
    @HttpCode(200)
    @Authorize('prompts:write')
    @ApiOperation({
      summary: `Import into ${what} (JSON or YAML, idempotent: versions match by content)`,
    })
    @ApiConsumes('application/json', ...YAML_MEDIA_TYPES)
    @ApiOkResponse({ type: ImportReportDto })
    import(
      @Param(new ZodValidationPipe(ScopeParams)) p: ScopeParams,
      @Body(new ZodValidationPipe(LibraryDocumentDto)) body: LibraryDocumentDto,
      @Req() r: AuthenticatedRequest,
    ) {
      return this.library.import(authOf(r), p, body, requestMeta(r));
    }
  }
  return LibraryRoutes;
}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.tenant)
export class TenantPromptLibraryController extends libraryRoutes('tenant') {}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.client)
export class ClientPromptLibraryController extends libraryRoutes('client') {}
