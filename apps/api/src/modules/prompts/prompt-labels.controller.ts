import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
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
import {
  labelParam,
  promptKeyParam,
  SCOPE_PATHS,
  scopeSchema,
  type ScopeKind,
} from './dto/prompt-params';
import { approvalStatusSchema, labelSchema } from './dto/prompt-schemas';
import {
  ApprovalDto,
  ApprovalPageDto,
  LabelDto,
  PinDto,
  PinListDto,
  approvalOf,
  labelOf,
  pinOf,
} from './dto/prompt-views';
import { PromptApprovalsService } from './prompt-approvals.service';
import { PromptLabelsService, type LabelOutcome } from './prompt-labels.service';
import { PromptPinsService } from './prompt-pins.service';

const note = z
  .string()
  .max(2000)
  .optional()
  .describe('Why (kept with the approval request)')
  .meta({ example: 'Roll back: the new greeting confused callers' });
class MoveLabelBody extends createZodDto(
  z.object({ version: z.number().int().min(1).meta({ example: 3 }), note }),
) {}
class NoteBody extends createZodDto(z.object({ note }).default({})) {}
class ApprovalParams extends createZodDto(z.object({ tenantId: z.uuid(), approvalId: z.uuid() })) {}
class ApprovalQuery extends createZodDto(
  z.object({
    status: approvalStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.uuid().optional().describe('The id to continue before'),
  }),
) {}
class AgentParams extends createZodDto(
  z.object({ tenantId: z.uuid(), clientId: z.uuid(), agentId: z.uuid() }),
) {}
class PinParams extends createZodDto(
  z.object({
    tenantId: z.uuid(),
    clientId: z.uuid(),
    agentId: z.uuid(),
    promptKey: promptKeyParam,
  }),
) {}
class PinBody extends createZodDto(
  z.object({
    label: labelSchema
      .optional()
      .describe('Follow this label as it moves')
      .meta({ example: 'production' }),
    versionId: z
      .uuid()
      .optional()
      .describe('Or speak exactly this version')
      .meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
  }),
) {}

/** 200 with the label, 202 with the approval request it became, 204 once a label is gone. */
function answer(outcome: LabelOutcome, reply: FastifyReply) {
  if (outcome.outcome === 'approval_requested') {
    void reply.status(202);
    return approvalOf(outcome.approval);
  }
  if (!outcome.label) {
    void reply.status(204);
    return undefined;
  }
  return labelOf(outcome.template, outcome.label);
}

function labelRoutes(kind: ScopeKind) {
  const scope = scopeSchema(kind);
  class LabelParams extends createZodDto(
    scope.extend({ promptKey: promptKeyParam, label: labelParam }),
  ) {}

  abstract class LabelRoutes {
    // Public: a class returned from a function cannot declare private members.
    constructor(@Inject(PromptLabelsService) readonly labels: PromptLabelsService) {}

    @Put('prompts/:promptKey/labels/:label')
    @Authorize('prompts:write')
    @ApiOperation({
      summary:
        'Point a label at a version (protected labels: prompts:publish; 202 when it needs approval)',
    })
    @ApiOkResponse({ type: LabelDto })
    @ApiAcceptedResponse({ type: ApprovalDto, description: 'An approval was requested instead' })
    async move(
      @Param(new ZodValidationPipe(LabelParams)) p: LabelParams,
      @Body(new ZodValidationPipe(MoveLabelBody)) body: MoveLabelBody,
      @Req() r: AuthenticatedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const outcome = await this.labels.move(authOf(r), p, p.promptKey, p.label, body.version, {
        ...requestMeta(r),
        note: body.note,
      });
      return answer(outcome, reply);
    }

    @Delete('prompts/:promptKey/labels/:label')
    @Authorize('prompts:write')
    @ApiOperation({ summary: 'Remove a label (same rules as moving it)' })
    @ApiNoContentResponse()
    @ApiAcceptedResponse({ type: ApprovalDto, description: 'An approval was requested instead' })
    async remove(
      @Param(new ZodValidationPipe(LabelParams)) p: LabelParams,
      @Req() r: AuthenticatedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const outcome = await this.labels.remove(authOf(r), p, p.promptKey, p.label, requestMeta(r));
      return answer(outcome, reply);
    }

    @Post('prompts/:promptKey/labels/:label/rollback')
    @HttpCode(200)
    @Authorize('prompts:write')
    @ApiOperation({ summary: 'Move a label back to where it pointed before its last move' })
    @ApiOkResponse({ type: LabelDto })
    @ApiAcceptedResponse({ type: ApprovalDto, description: 'An approval was requested instead' })
    async rollback(
      @Param(new ZodValidationPipe(LabelParams)) p: LabelParams,
      @Body(new ZodValidationPipe(NoteBody)) body: NoteBody,
      @Req() r: AuthenticatedRequest,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const outcome = await this.labels.rollback(authOf(r), p, p.promptKey, p.label, {
        ...requestMeta(r),
        note: body.note,
      });
      return answer(outcome, reply);
    }
  }
  return LabelRoutes;
}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.tenant)
export class TenantPromptLabelsController extends labelRoutes('tenant') {}

@ApiTags('prompts')
@Controller(SCOPE_PATHS.client)
export class ClientPromptLabelsController extends labelRoutes('client') {}

@ApiTags('prompts')
@Controller('v1/tenants/:tenantId/prompt-approvals')
export class PromptApprovalsController {
  constructor(@Inject(PromptApprovalsService) private readonly approvals: PromptApprovalsService) {}

  @Get()
  @Authorize('prompts:read')
  @ApiOperation({ summary: 'Requests to move protected labels, newest first' })
  @ApiOkResponse({ type: ApprovalPageDto })
  async list(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Query(new ZodValidationPipe(ApprovalQuery)) q: ApprovalQuery,
    @Req() r: AuthenticatedRequest,
  ) {
    const page = await this.approvals.listApprovals(authOf(r), p.tenantId, q);
    return { data: page.data.map(approvalOf), nextCursor: page.nextCursor };
  }

  @Get(':approvalId')
  @Authorize('prompts:read')
  @ApiOperation({ summary: 'One approval request' })
  @ApiOkResponse({ type: ApprovalDto })
  async get(
    @Param(new ZodValidationPipe(ApprovalParams)) p: ApprovalParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return approvalOf(await this.approvals.getApproval(authOf(r), p.tenantId, p.approvalId));
  }

  @Post(':approvalId/approve')
  @HttpCode(200)
  @Authorize('prompts:publish')
  @ApiOperation({ summary: 'Approve (a second person, not the requester): the label moves' })
  @ApiOkResponse({ type: ApprovalDto })
  async approve(
    @Param(new ZodValidationPipe(ApprovalParams)) p: ApprovalParams,
    @Body(new ZodValidationPipe(NoteBody)) body: NoteBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return approvalOf(
      await this.approvals.approve(authOf(r), p.tenantId, p.approvalId, {
        ...requestMeta(r),
        note: body.note,
      }),
    );
  }

  @Post(':approvalId/reject')
  @HttpCode(200)
  @Authorize('prompts:publish')
  @ApiOperation({ summary: 'Reject (or, as the requester, withdraw) a request' })
  @ApiOkResponse({ type: ApprovalDto })
  async reject(
    @Param(new ZodValidationPipe(ApprovalParams)) p: ApprovalParams,
    @Body(new ZodValidationPipe(NoteBody)) body: NoteBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return approvalOf(
      await this.approvals.reject(authOf(r), p.tenantId, p.approvalId, {
        ...requestMeta(r),
        note: body.note,
      }),
    );
  }
}

@ApiTags('prompts')
@Controller('v1/tenants/:tenantId/clients/:clientId/agents/:agentId/prompt-pins')
export class AgentPromptPinsController {
  constructor(@Inject(PromptPinsService) private readonly pins: PromptPinsService) {}

  @Get()
  @Authorize('prompts:read')
  @ApiOperation({ summary: "The agent's prompt pins (keys without one follow production)" })
  @ApiOkResponse({ type: PinListDto })
  async list(
    @Param(new ZodValidationPipe(AgentParams)) p: AgentParams,
    @Req() r: AuthenticatedRequest,
  ) {
    return { data: (await this.pins.list(authOf(r), p)).map(pinOf) };
  }

  @Put(':promptKey')
  @Authorize('prompts:publish')
  @ApiOperation({ summary: 'Pin a key to a label or an exact version for this agent' })
  @ApiOkResponse({ type: PinDto })
  async set(
    @Param(new ZodValidationPipe(PinParams)) p: PinParams,
    @Body(new ZodValidationPipe(PinBody)) body: PinBody,
    @Req() r: AuthenticatedRequest,
  ) {
    return pinOf(await this.pins.set(authOf(r), p, p.promptKey, body, requestMeta(r)));
  }

  @Delete(':promptKey')
  @HttpCode(204)
  @Authorize('prompts:publish')
  @ApiOperation({ summary: 'Unpin a key: the agent follows production again' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(PinParams)) p: PinParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<void> {
    await this.pins.remove(authOf(r), p, p.promptKey, requestMeta(r));
  }
}
