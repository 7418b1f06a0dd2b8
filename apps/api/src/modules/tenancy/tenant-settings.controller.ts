import { Body, Controller, Get, Inject, Param, Patch, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { TenantParams } from '../../platform/http/params';
import { authOf, Authorize, requestMeta, type AuthenticatedRequest } from '../iam/auth.guard';
import {
  MAX_AUDIT_RETENTION_DAYS,
  MIN_AUDIT_RETENTION_DAYS,
  TenantSettingsService,
} from './tenant-settings.service';

const settingsSchema = z.object({
  requireMfa: z
    .boolean()
    .describe('Members must sign in with a second factor')
    .meta({ example: true }),
  auditRetentionDays: z
    .number()
    .int()
    .min(MIN_AUDIT_RETENTION_DAYS, {
      error: `expected at least ${MIN_AUDIT_RETENTION_DAYS} days (seven years)`,
    })
    .max(MAX_AUDIT_RETENTION_DAYS, { error: `expected at most ${MAX_AUDIT_RETENTION_DAYS} days` })
    .meta({ example: 3650 })
    .describe('How long audit events are kept, in days (seven years at least)'),
  requirePromptApproval: z
    .boolean()
    .describe("Moving a protected prompt label needs a second person's approval")
    .meta({ example: true }),
  flowHttpAllowlist: z
    .array(
      z
        .string()
        .max(253)
        .regex(/^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i, {
          error: 'expected a host name, or *.domain for its subdomains',
        })
        .transform((host) => host.toLowerCase()),
    )
    .max(100)
    .describe('Hosts flows may call with http.request: exact names, or *.example.com')
    .meta({ example: ['api.example.com', '*.hooks.example.org'] }),
});
class TenantSettingsDto extends createZodDto(settingsSchema) {}
class UpdateTenantSettingsBody extends createZodDto(
  settingsSchema
    .partial()
    .strict()
    .refine((b) => Object.keys(b).length > 0, { error: 'expected at least one field' }),
) {}

@ApiTags('tenants')
@Controller('v1/tenants/:tenantId/settings')
export class TenantSettingsController {
  constructor(@Inject(TenantSettingsService) private readonly settings: TenantSettingsService) {}

  @Get()
  @Authorize('settings:read')
  @ApiOperation({
    summary:
      "The tenant's settings: MFA requirement, audit retention, prompt approvals, flows' HTTP allowlist",
  })
  @ApiOkResponse({ type: TenantSettingsDto })
  get(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Req() r: AuthenticatedRequest,
  ): Promise<TenantSettingsDto> {
    return this.settings.get(authOf(r), p.tenantId);
  }

  @Patch()
  @Authorize('settings:write')
  @ApiOperation({ summary: "Change the tenant's settings (audited with the change set)" })
  @ApiOkResponse({ type: TenantSettingsDto })
  update(
    @Param(new ZodValidationPipe(TenantParams)) p: TenantParams,
    @Body(new ZodValidationPipe(UpdateTenantSettingsBody)) body: UpdateTenantSettingsBody,
    @Req() r: AuthenticatedRequest,
  ): Promise<TenantSettingsDto> {
    return this.settings.update(authOf(r), p.tenantId, body, requestMeta(r));
  }
}
