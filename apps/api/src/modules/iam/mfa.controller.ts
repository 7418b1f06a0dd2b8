import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
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
import { ProblemError } from '../../platform/errors/problem';
import {
  AllowWithoutMfa,
  authOf,
  Authorize,
  requestMeta,
  type AuthenticatedRequest,
} from './auth.guard';
import { AuthService } from './auth.service';
import { MfaService, type TotpEnrolment } from './mfa.service';
import { SessionCookies, type SessionBody } from './session-cookies';

const code = z
  .string()
  .regex(/^\d{6}$/, { error: 'expected the 6 digits your authenticator shows' })
  .meta({ example: '492039' });
const proof = z
  .object({
    code: code.optional(),
    recoveryCode: z.string().min(8).max(32).optional().meta({ example: 'k3f9-x2qa-7m' }),
  })
  .refine((p) => (p.code === undefined) !== (p.recoveryCode === undefined), {
    error: 'send either code or recoveryCode',
  });
class ProofBody extends createZodDto(proof) {}
class VerifyBody extends createZodDto(
  z.intersection(
    z.object({
      mfaToken: z
        .string()
        .min(1)
        .max(2048)
        .meta({ example: 'v1.Xk3bQ9aZ.6n1t0mS2dXo8.Qm9vbGVhbg.c2VhbGVkLWNoYWxsZW5nZQ' }),
    }),
    proof,
  ),
) {}
class ConfirmBody extends createZodDto(z.object({ code })) {}
class EnrolmentDto extends createZodDto(
  z.object({
    secret: z.string().describe('Base32; for authenticators that cannot scan'),
    otpauthUri: z.string().describe('otpauth://totp/… (RFC 6238, SHA-1, 6 digits, 30 s)'),
    qrSvg: z.string().describe('The otpauth URI as an SVG QR code'),
  }),
) {}
class RecoveryCodesDto extends createZodDto(
  z.object({ recoveryCodes: z.array(z.string()).describe('Each works once; shown only now') }),
) {}
class MfaStatusDto extends createZodDto(
  z.object({
    totpEnabled: z.boolean(),
    recoveryCodesRemaining: z.number().int(),
    sessionVerified: z.boolean().describe('This session was opened with a second factor'),
    required: z.boolean().describe('A platform role or an organization demands a second factor'),
  }),
) {}

@ApiTags('auth')
@Controller('v1/auth/mfa')
export class MfaController {
  constructor(
    @Inject(MfaService) private readonly mfa: MfaService,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
  ) {}

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete a sign-in challenge with a TOTP or recovery code' })
  async verify(
    @Body(new ZodValidationPipe(VerifyBody)) body: VerifyBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionBody> {
    const meta = requestMeta(request);
    const { user, method } = await this.mfa.verifyChallenge(body.mfaToken, body, meta);
    const session = await this.auth.signInWithSecondFactor(user, meta, method);
    return this.cookies.respond(request, reply, session);
  }

  @Get()
  @Authorize()
  @AllowWithoutMfa()
  @ApiOperation({ summary: 'Your second-factor status' })
  @ApiOkResponse({ type: MfaStatusDto })
  async status(@Req() request: AuthenticatedRequest): Promise<MfaStatusDto> {
    const { user, mfa, mfaTenants, principal } = userOf(request);
    return {
      totpEnabled: user.totpEnabledAt !== null,
      recoveryCodesRemaining: await this.mfa.remainingRecoveryCodes(user.id),
      sessionVerified: mfa === true,
      required: principal.platformRole !== undefined || (mfaTenants?.size ?? 0) > 0,
    };
  }

  @Post('totp/enrol')
  @HttpCode(201)
  @Authorize()
  @AllowWithoutMfa()
  @ApiOperation({ summary: 'Start TOTP enrolment: a new secret as otpauth URI and QR code' })
  @ApiCreatedResponse({ type: EnrolmentDto })
  enrol(@Req() request: AuthenticatedRequest): Promise<TotpEnrolment> {
    return this.mfa.enrol(userOf(request).user);
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @Authorize()
  @AllowWithoutMfa()
  @ApiOperation({
    summary: 'Turn TOTP on with a first code; answers recovery codes (sign in again to use it)',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  async confirm(
    @Body(new ZodValidationPipe(ConfirmBody)) body: ConfirmBody,
    @Req() request: AuthenticatedRequest,
  ): Promise<RecoveryCodesDto> {
    const codes = await this.mfa.confirm(userOf(request).user, body.code, requestMeta(request));
    return { recoveryCodes: codes };
  }

  @Post('totp/disable')
  @HttpCode(204)
  @Authorize()
  @ApiOperation({ summary: 'Turn TOTP off (not for platform staff); needs a current code' })
  @ApiNoContentResponse()
  async disable(
    @Body(new ZodValidationPipe(ProofBody)) body: ProofBody,
    @Req() request: AuthenticatedRequest,
  ): Promise<void> {
    await this.mfa.disable(userOf(request).user, body, requestMeta(request));
  }

  @Post('recovery-codes')
  @HttpCode(200)
  @Authorize()
  @ApiOperation({ summary: 'Replace your recovery codes (the old ones stop working)' })
  @ApiOkResponse({ type: RecoveryCodesDto })
  async regenerate(
    @Body(new ZodValidationPipe(ProofBody)) body: ProofBody,
    @Req() request: AuthenticatedRequest,
  ): Promise<RecoveryCodesDto> {
    const { user } = userOf(request);
    const codes = await this.mfa.regenerateRecoveryCodes(user, body, requestMeta(request));
    return { recoveryCodes: codes };
  }
}

function userOf(request: AuthenticatedRequest) {
  const auth = authOf(request);
  if (!auth.user) throw new ProblemError('forbidden', 'An API key has no second factor.');
  return { ...auth, user: auth.user };
}
