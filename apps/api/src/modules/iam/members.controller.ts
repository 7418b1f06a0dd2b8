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
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from './auth.guard';
import type { FastifyReply } from 'fastify';
import { AuthService } from './auth.service';
import { SessionCookies, type SessionBody } from './session-cookies';
import { MembersService, type InvitationRow } from './members.service';
import { PASSWORD_MAX_LENGTH } from './passwords';
import { CLIENT_ROLES, TENANT_ROLES } from './permissions';

class MemberParams extends createZodDto(z.object({ tenantId: z.uuid(), userId: z.uuid() })) {}
class InvitationParams extends createZodDto(
  z.object({ tenantId: z.uuid(), invitationId: z.uuid() }),
) {}
class RoleBody extends createZodDto(
  z.object({ role: z.enum(TENANT_ROLES).meta({ example: 'admin' }) }),
) {}
class InviteBody extends createZodDto(
  z
    .object({
      email: z.email().max(254).meta({ example: 'front.desk@brightsmiles.example' }),
      role: z.enum(TENANT_ROLES).optional().meta({ example: 'member' }),
      clientId: z.uuid().optional().meta({ example: '01938f6e-5b7a-7c3d-9e2f-4a1b2c3d4e5f' }),
      clientRole: z.enum(CLIENT_ROLES).optional().meta({ example: 'client_editor' }),
    })
    .refine(
      (b) => (b.role !== undefined) !== (b.clientId !== undefined && b.clientRole !== undefined),
      {
        error: 'expected either a tenant role, or a clientId with a clientRole',
      },
    ),
) {}
class AcceptBody extends createZodDto(
  z.object({
    token: z
      .string()
      .min(1)
      .max(200)
      .meta({ example: 'mxi_aW52aXRhdGlvbi10b2tlbi1leGFtcGxlLXZhbHVlLTk4' }),
    password: z
      .string()
      .min(1)
      .max(PASSWORD_MAX_LENGTH)
      .optional()
      .describe('Needed when you have no account yet')
      .meta({ example: 'correct horse battery staple' }),
    name: z.string().trim().min(1).max(200).optional().meta({ example: 'Sam Lee' }),
  }),
) {}
const memberView = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(TENANT_ROLES).nullable(),
  clients: z.array(z.object({ clientId: z.uuid(), role: z.enum(CLIENT_ROLES) })),
});
const invitationView = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.string().nullable(),
  clientId: z.uuid().nullable(),
  clientRole: z.string().nullable(),
  expiresAt: z.iso.datetime(),
  acceptedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});
class MemberListDto extends createZodDto(z.object({ data: z.array(memberView) })) {}
class InvitationDto extends createZodDto(invitationView) {}
class InvitationListDto extends createZodDto(z.object({ data: z.array(invitationView) })) {}

const view = (i: InvitationRow): z.infer<typeof invitationView> => ({
  id: i.id,
  email: i.email,
  role: i.role,
  clientId: i.clientId,
  clientRole: i.clientRole,
  expiresAt: i.expiresAt.toISOString(),
  acceptedAt: i.acceptedAt?.toISOString() ?? null,
  revokedAt: i.revokedAt?.toISOString() ?? null,
});

@ApiTags('members')
@Controller()
export class MembersController {
  constructor(
    @Inject(MembersService) private readonly members: MembersService,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
  ) {}

  @Get('v1/tenants/:tenantId/members')
  @Authorize('members:read')
  @ApiOperation({ summary: "The tenant's members with their tenant and client roles" })
  @ApiOkResponse({ type: MemberListDto })
  async list(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams) {
    return { data: await this.members.list(p.tenantId) };
  }

  @Patch('v1/tenants/:tenantId/members/:userId')
  @HttpCode(204)
  @Authorize('members:manage')
  @ApiOperation({
    summary: "Change a member's tenant role (ownership: owners only; one owner always remains)",
  })
  @ApiNoContentResponse()
  async setRole(
    @Param(new ZodValidationPipe(MemberParams)) p: MemberParams,
    @Body(new ZodValidationPipe(RoleBody)) body: RoleBody,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.members.setRole(authOf(r), p.tenantId, p.userId, body.role, requestMeta(r));
  }

  @Delete('v1/tenants/:tenantId/members/:userId')
  @HttpCode(204)
  @Authorize('members:manage')
  @ApiOperation({ summary: 'Remove a member (their access ends on their next request)' })
  @ApiNoContentResponse()
  async remove(
    @Param(new ZodValidationPipe(MemberParams)) p: MemberParams,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.members.remove(authOf(r), p.tenantId, p.userId, requestMeta(r));
  }

  @Get('v1/tenants/:tenantId/invitations')
  @Authorize('members:read')
  @ApiOperation({ summary: "The tenant's invitations" })
  @ApiOkResponse({ type: InvitationListDto })
  async invitations(@Param(new ZodValidationPipe(TenantParams)) p: TenantParams) {
    return { data: (await this.members.listInvitations(p.tenantId)).map(view) };
  }

  @Post('v1/tenants/:tenantId/invitations')
  @HttpCode(201)
  @Authorize('members:manage')
  @ApiOperation({ summary: 'Invite someone by email (a one-time link valid 7 days is emailed)' })
  @ApiCreatedResponse({ type: InvitationDto })
  async invite(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(InviteBody)) body: InviteBody,
    @Req() r: AuthenticatedRequest,
  ) {
    const input = {
      email: body.email,
      role: body.role,
      clientId: body.clientId,
      clientRole: body.clientRole,
    };
    return view(await this.members.invite(authOf(r), p.tenantId, input, requestMeta(r)));
  }

  @Delete('v1/tenants/:tenantId/invitations/:invitationId')
  @HttpCode(204)
  @Authorize('members:manage')
  @ApiOperation({ summary: 'Revoke an open invitation' })
  @ApiNoContentResponse()
  async revoke(
    @Param(new ZodValidationPipe(InvitationParams)) p: InvitationParams,
    @Req() r: AuthenticatedRequest,
  ) {
    await this.members.revokeInvitation(authOf(r), p.tenantId, p.invitationId, requestMeta(r));
  }

  @Post('v1/invitations/accept')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept an invitation (creating your account if needed) and sign in' })
  async accept(
    @Body(new ZodValidationPipe(AcceptBody)) body: AcceptBody,
    @Req() r: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionBody> {
    const userId = await this.members.accept(
      { token: body.token, password: body.password, name: body.name },
      requestMeta(r),
    );
    return this.cookies.respond(r, reply, await this.auth.sessionFor(userId));
  }
}
